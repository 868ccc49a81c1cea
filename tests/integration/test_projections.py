"""Every read-model query, on SQLite and PostgreSQL, over Xã Tân Lập's first March cycle.

The scenario (recorded once per backend, through Ledger commands only): Phòng Kinh tế's head
leaves one submission unapproved past its five working days and gets a second one late in the
cycle; Phòng Văn hóa - Xã hội's head approves promptly; a task is returned and resubmitted; the
province sets two commune targets that the monitoring team reports; a training absence is
sanctioned; Phạm Thị Dung logs three identical 8-hour days, then a day with no product.
Each query's answer is checked against what those commands imply, and the scores against the
scoring fold straight from the log.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.tasks import KpiKind
from projections import queries
from projections.diary import Diary
from projections.rebuild import RebuildMismatch, live_runner, rebuild
from projections.scores import Scores, lineage_rows, row_positions, scoreboard_row
from projections.store import ViewStore
from tests.backends import backend_of, connect_direct, postgres_database, postgres_env, sqlite_env
from tests.cli_runner import run
from tests.commune import Commune, build_commune

AS_OF = date(2026, 3, 16)


def d(day: int) -> date:
    return date(2026, 3, day)


@dataclass
class Scenario:
    ledger: Ledger
    env: dict[str, str]
    c: Commune
    overdue: UUID  # submitted 3 March, never acted on: deadline 10 March
    waiting: UUID  # submitted 12 March: deadline 19 March
    approved: UUID  # Phòng Văn hóa - Xã hội, approved the day after submission
    resubmitted: UUID  # returned once, resubmitted, approved
    targets: tuple[UUID, UUID]

    @property
    def store(self) -> ViewStore:
        return ViewStore(self.ledger.recorder)


def record_scenario(ledger: Ledger, env: dict[str, str]) -> Scenario:
    c = build_commune(ledger)
    member, colleague, third = c.economy_members

    def assign(to: UUID, by: object, title: str, due: int, quantity: int = 2) -> UUID:
        return ledger.assign_task(
            by, cycle_id=c.cycle_id, assignee_id=to, title=title, kind=KpiKind.HARD,  # type: ignore[arg-type]
            product="Báo cáo", target_quantity=quantity, due_on=d(due), on=d(2),
            authority="Quyết định giao việc của Trưởng phòng",
        )

    overdue = assign(member.official_id, c.economy_head, "Báo cáo thu ngân sách quý I", 6)
    ledger.submit_task(member, task_id=overdue, quantity=2, on=d(3))
    inventory = assign(member.official_id, c.economy_head, "Kiểm kê tài sản công", 13)
    ledger.submit_task(member, task_id=inventory, quantity=2, on=d(10))
    ledger.approve_task(c.economy_head, task_id=inventory, on=d(11), major_errors=1)
    waiting = assign(colleague.official_id, c.economy_head, "Rà soát hộ kinh doanh", 13)
    ledger.submit_task(colleague, task_id=waiting, quantity=1, on=d(12))
    resubmitted = assign(third.official_id, c.economy_head, "Thống kê diện tích gieo trồng", 9)
    ledger.submit_task(third, task_id=resubmitted, quantity=2, on=d(4))
    ledger.return_task(c.economy_head, task_id=resubmitted, on=d(5), comment="Thiếu số liệu thôn 3",
                       major_errors=1)
    ledger.submit_task(third, task_id=resubmitted, quantity=2, on=d(6))
    ledger.approve_task(c.economy_head, task_id=resubmitted, on=d(9))
    approved = assign(c.culture_member.official_id, c.culture_head, "Kế hoạch lễ hội truyền thống", 9)
    ledger.submit_task(c.culture_member, task_id=approved, quantity=2, on=d(5))
    ledger.approve_task(c.culture_head, task_id=approved, on=d(6))
    assert len(ledger.record_missed_deadlines(AS_OF)) == 1

    budget = ledger.set_target(c.admin, cycle_id=c.cycle_id, indicator="Thu ngân sách",
                               target_value=Decimal(1000), measure="triệu đồng", on=d(2))
    poverty = ledger.set_target(c.admin, cycle_id=c.cycle_id, indicator="Hộ nghèo giảm",
                                target_value=Decimal(10), measure="hộ", on=d(2))
    ledger.report_target_result(c.monitoring, target_id=budget, value=Decimal(800), evidence="KBNN", on=d(16))
    ledger.report_target_result(c.monitoring, target_id=poverty, value=Decimal(12), evidence="Rà soát",
                                on=d(16))

    ledger.impose_sanction(c.admin, official_id=colleague.official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 10/3",
                           on=d(10))
    ledger.impose_sanction(c.admin, official_id=c.economy_head.official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 11/3",
                           on=d(11))
    ledger.assess_conduct(c.economy_head, official_id=member.official_id, cycle_id=c.cycle_id,
                          points=Decimal(13), on=d(13))

    for day in (2, 3, 4):  # the same 8 hours, word for word, three days running
        ledger.log_work(member, cycle_id=c.cycle_id, on=d(day), hours=Decimal(8), duty="Tiếp công dân",
                        products=3, description="Tiếp và hướng dẫn công dân")
    ledger.log_work(member, cycle_id=c.cycle_id, on=d(5), hours=Decimal(6), task_id=overdue, products=1,
                    description="Tổng hợp số liệu thu")
    ledger.log_work(member, cycle_id=c.cycle_id, on=d(5), hours=Decimal("2.5"), duty="Họp cơ quan")
    ledger.log_work(member, cycle_id=c.cycle_id, on=d(6), hours=Decimal(4), duty="Soạn văn bản")
    ledger.log_work(member, cycle_id=c.cycle_id, on=d(9), hours=Decimal(8), duty="Tiếp công dân",
                    products=2, description="Tiếp và hướng dẫn công dân")
    ledger.void_work_log(member, on=d(9), entry_no=1, reason="Ghi nhầm ngày")
    ledger.log_work(colleague, cycle_id=c.cycle_id, on=d(3), hours=Decimal("7.5"), duty="Kiểm tra thị trường",
                    products=1)
    return Scenario(ledger, env, c, overdue, waiting, approved, resubmitted, (budget, poverty))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scenario(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Recorded once per backend, then caught up: tests only read (or catch up again)."""

    @contextlib.contextmanager
    def database() -> Iterator[dict[str, str]]:
        if request.param == "sqlite":
            yield sqlite_env(tmp_path_factory.mktemp("projections"))
        else:
            with postgres_database(request.getfixturevalue("postgres_server")) as url:
                yield postgres_env(url)

    with database() as env:
        ledger = Ledger(env=env)
        try:
            s = record_scenario(ledger, env)
            live_runner(ledger, page=7).catch_up()
            yield s
        finally:
            ledger.close()


def database_url(env: dict[str, str]) -> str:
    if backend_of(env) == "sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}"
    return (f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/"
            f"{env['POSTGRES_DBNAME']}")


# ------------------------------------------------------------------------------ scores


def test_the_scoreboard_is_the_fold_of_the_log_row_for_row(scenario: Scenario) -> None:
    s = scenario
    fold = s.ledger.score_cycle(s.c.cycle_id)
    assert queries.score_table(s.store, s.c.cycle_id) == fold  # components, ratings, every line
    positions = row_positions(fold)
    stored = [tuple(r.values()) for r in s.store.query(
        "SELECT * FROM kpi_scoreboard WHERE cycle_id = ?", (str(s.c.cycle_id),))]
    expected = [scoreboard_row(str(s.c.cycle_id), r, positions[r.official_id]) for r in fold.rows]
    assert sorted(stored, key=str) == sorted(expected, key=str)
    rows = queries.scoreboard(s.store, s.c.cycle_id)
    assert [r["official_id"] for r in rows] == [str(r.official_id) for r in fold.rows]
    assert all(r["computed_at"] == positions[UUID(r["official_id"])] for r in rows)


def test_every_scoreboard_row_names_the_events_behind_it(scenario: Scenario) -> None:
    s = scenario
    member = queries.official_score(s.store, s.c.cycle_id, s.c.member.official_id)
    lines = s.ledger.score_cycle(s.c.cycle_id).row(s.c.member.official_id).contributions
    assert member["event_ids"] == sorted({c.event_id for c in lines if c.event_id})
    assert f"{s.overdue}:2" in member["event_ids"]  # the submission
    assert member["computed_at"] <= (s.ledger.recorder.max_notification_id() or 0)


def test_the_unit_scoreboard_counts_heads_and_ratings_per_unit(scenario: Scenario) -> None:
    s = scenario
    fold = s.ledger.score_cycle(s.c.cycle_id)
    units = {u["unit_id"]: u for u in queries.unit_scoreboard(s.store, s.c.cycle_id)}
    economy = [r for r in fold.rows if r.unit_id == s.c.economy_id]
    unit = units[str(s.c.economy_id)]
    assert unit["officials"] == len(economy) == 4
    assert unit["mean_total"] == (sum((r.total for r in economy), Decimal(0)) / 4).quantize(Decimal("0.01"))
    assert sum(unit["ratings"].values()) == 4
    assert only_economy(queries.scoreboard(s.store, s.c.cycle_id, s.c.economy_id), s.c.economy_id)


def only_economy(rows: list[dict[str, object]], unit_id: UUID) -> bool:
    return len(rows) == 4 and all(r["unit_id"] == str(unit_id) for r in rows)


def test_lineage_between_two_times_is_exactly_what_was_recorded_in_between(scenario: Scenario) -> None:
    s = scenario
    official = s.c.member.official_id
    lines = s.ledger.score_cycle(s.c.cycle_id).row(official).contributions
    times = sorted({c.recorded_at for c in lines if c.recorded_at is not None})
    assert len(times) >= 5
    t1, t2 = times[1], times[-2]
    expected = [(c.event_id, c.component, str(c.delta)) for c in lines
                if c.recorded_at is not None and t1 < c.recorded_at <= t2]
    # T1 given in Vietnam's time zone: the same moment, so the same window.
    t1_hanoi = t1.astimezone(timezone(timedelta(hours=7)))
    window = queries.lineage(s.store, s.c.cycle_id, official, since=t1_hanoi, until=t2)
    assert [(r["event_id"], r["component"], r["delta"]) for r in window] == expected
    assert queries.change_between(s.store, s.c.cycle_id, official, t1, t2) == sum(
        (Decimal(delta) for _, _, delta in expected), Decimal(0))
    whole = queries.lineage(s.store, s.c.cycle_id, official)
    assert [r["seq"] for r in whole] == list(range(1, len(lines) + 1))
    assert Decimal(whole[-1]["running_total"]) == s.ledger.score_cycle(s.c.cycle_id).row(official).total


def test_lineage_rows_keep_the_event_actor_and_time_of_each_line(scenario: Scenario) -> None:
    s = scenario
    row = s.ledger.score_cycle(s.c.cycle_id).row(s.c.colleague.official_id)
    stored = [tuple(r.values()) for r in queries.lineage(s.store, s.c.cycle_id, s.c.colleague.official_id)]
    assert stored == lineage_rows(str(s.c.cycle_id), row)
    sanction = next(r for r in queries.lineage(s.store, s.c.cycle_id, s.c.colleague.official_id)
                    if r["event_type"] == "SanctionImposed")
    assert sanction["actor_id"] == str(s.c.admin.official_id) and sanction["delta"] == "-2.00"


# ------------------------------------------------------------------------------ approval queue


def test_the_approval_queue_puts_the_overdue_submission_first(scenario: Scenario) -> None:
    s = scenario
    queue = queries.approval_queue(s.store, AS_OF)
    assert [(a.task_id, a.overdue) for a in queue] == [(str(s.overdue), True), (str(s.waiting), False)]
    first, second = queue
    assert (first.submitted_on, first.deadline) == (d(3), d(10))
    assert (second.submitted_on, second.deadline) == (d(12), d(19))
    assert first.approver_id == str(s.c.economy_head.official_id)


def test_an_approvers_queue_holds_only_what_they_must_act_on(scenario: Scenario) -> None:
    s = scenario
    assert len(queries.approval_queue(s.store, AS_OF, s.c.economy_head.official_id)) == 2
    assert queries.approval_queue(s.store, AS_OF, s.c.culture_head.official_id) == []
    before_deadline = queries.approval_queue(s.store, d(10), s.c.economy_head.official_id)
    assert [a.overdue for a in before_deadline] == [False, False]  # the deadline day itself is in time


# ------------------------------------------------------------------------------ diary


def test_three_identical_eight_hour_days_are_flagged_as_padding(scenario: Scenario) -> None:
    s = scenario
    flags = queries.diary_flags(s.store, s.c.member.official_id, d(2), d(16))
    assert [f for f in flags if f["flag"] == "padding"] == [
        {"flag": "padding", "from": "2026-03-02", "to": "2026-03-04", "days": 3}]
    assert [f["day"] for f in flags if f["flag"] == "no_product"] == ["2026-03-06"]


def test_a_run_of_three_is_not_flagged_when_four_are_required(scenario: Scenario) -> None:
    s = scenario
    flags = queries.diary_flags(s.store, s.c.member.official_id, d(2), d(16), run_days=4)
    assert not [f for f in flags if f["flag"] == "padding"]


def test_backfill_flags_follow_the_recording_time_of_each_day(scenario: Scenario) -> None:
    s = scenario
    days = queries.diary_days(s.store, s.c.member.official_id, d(2), d(16))
    late = [x["day"] for x in days
            if datetime.fromisoformat(x["first_recorded_at"]).date() - date.fromisoformat(x["day"])
            > timedelta(days=3)]
    flags = queries.diary_flags(s.store, s.c.member.official_id, d(2), d(16))
    assert [f["day"] for f in flags if f["flag"] == "backfill"] == late


def test_diary_hours_add_up_per_day_and_per_week_without_voided_entries(scenario: Scenario) -> None:
    s = scenario
    days = queries.diary_days(s.store, s.c.member.official_id, d(2), d(16))
    assert [(x["day"], x["hours"]) for x in days] == [
        ("2026-03-02", 8), ("2026-03-03", 8), ("2026-03-04", 8), ("2026-03-05", Decimal("8.5")),
        ("2026-03-06", 4)]  # 9 March's only entry was voided
    assert queries.diary_weeks(s.store, s.c.member.official_id, d(2), d(16)) == {"2026-W10": Decimal("36.5")}
    voids = s.store.query("SELECT entry_no, reason FROM kpi_diary_voids WHERE official_id = ? AND day = ?",
                          (str(s.c.member.official_id), "2026-03-09"))
    assert voids == [{"entry_no": 1, "reason": "Ghi nhầm ngày"}]


# ------------------------------------------------------------------------------ accountability


def test_chairman_and_secretary_answer_for_the_same_targets(scenario: Scenario) -> None:
    s = scenario
    tenures = {t["post"]: t for t in queries.accountability(s.store, s.c.commune_id)}
    assert set(tenures) == {"chairman", "secretary"}
    chairman, secretary = tenures["chairman"], tenures["secretary"]
    assert chairman["official_id"] == str(s.c.chairman.official_id)
    assert (chairman["starts_on"], chairman["ends_on"]) == ("2026-01-05", None)
    [c_cycle], [s_cycle] = chairman["cycles"], secretary["cycles"]
    assert c_cycle["targets"] == s_cycle["targets"]
    assert {(t["indicator"], t["target_value"], t["result"]) for t in c_cycle["targets"]} == {
        ("Thu ngân sách", "1000", "800"), ("Hộ nghèo giảm", "10", "12")}
    fold = s.ledger.score_cycle(s.c.cycle_id)
    assert c_cycle["score"]["unit_part"] == s_cycle["score"]["unit_part"]
    assert Decimal(c_cycle["score"]["unit_part"]) == fold.row(s.c.chairman.official_id).unit
    assert c_cycle["score"]["total"] == str(fold.row(s.c.chairman.official_id).total)


def test_a_heads_tenure_holds_the_approvals_they_let_lapse_and_their_sanctions(scenario: Scenario) -> None:
    s = scenario
    [head] = queries.accountability(s.store, s.c.economy_id)
    assert head["official_id"] == str(s.c.economy_head.official_id)
    assert [(m["task_id"], m["deadline"]) for m in head["missed_approvals"]] == [(str(s.overdue), "2026-03-10")]
    assert [(x["reason"], x["points"], x["revoked_on"]) for x in head["sanctions"]] == [
        ("Vắng tập huấn ngày 11/3", None, None)]
    [culture_head] = queries.accountability(s.store, s.c.culture_id)
    assert culture_head["missed_approvals"] == [] and culture_head["sanctions"] == []


# ------------------------------------------------------------------------------ monthly report


def test_the_monthly_report_counts_each_units_work(scenario: Scenario) -> None:
    s = scenario
    report = queries.unit_report(s.store, s.c.commune_id, "2026-03")
    units = {u["unit_id"]: u for u in report["units"]}
    assert report["units"][0]["unit_id"] == str(s.c.commune_id)  # the commune itself first
    assert set(units) == {str(s.c.commune_id), str(s.c.economy_id), str(s.c.culture_id)}
    economy, culture = units[str(s.c.economy_id)], units[str(s.c.culture_id)]
    assert (economy["officials"], economy["tasks_due"]) == (4, 4)
    assert economy["by_status"] == {"submitted": 2, "approved": 2}
    assert (economy["missed_approvals"], economy["sanctions"]) == (1, 2)
    assert Decimal(economy["diary_hours"]) == Decimal("44")  # 36.5 (Dung, voided aside) + 7.5
    assert (culture["tasks_due"], culture["by_status"], culture["missed_approvals"]) == (1, {"approved": 1}, 0)
    fold = s.ledger.score_cycle(s.c.cycle_id)
    totals = [r.total for r in fold.rows if r.unit_id == s.c.economy_id]
    assert economy["mean_score"] == str((sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01")))
    april = queries.unit_report(s.store, s.c.commune_id, "2026-04")
    assert all(u["tasks_due"] == 0 and u["mean_score"] is None for u in april["units"])


# ------------------------------------------------------------------------------ rebuild


@pytest.mark.parametrize("workers", [1, 2])
def test_a_rebuild_swaps_in_exactly_the_rows_the_live_projection_holds(scenario: Scenario, workers: int) -> None:
    """In worker processes too, which count the rows of what they filled."""
    s = scenario
    runner = live_runner(s.ledger)
    runner.catch_up()
    before = {m.name: m.dump() for m in runner.models}
    done = rebuild(s.ledger, page=5, workers=workers)
    head = s.ledger.recorder.max_notification_id()
    assert {r.name: r.position for r in done} == {name: head for name in before}
    assert {m.name: m.dump() for m in runner.models} == before
    assert all(r.rows == sum(len(rows) for rows in before[r.name].values()) for r in done)
    assert not s.store.query(f"SELECT * FROM {s.store.tracking_table} WHERE application_name LIKE ?",
                             ("%shadow",))


def tamper_on_insert(env: dict[str, str], table: str, column: str, value: str) -> None:
    """A trigger that rewrites `column` of every row inserted into `table`: a shadow corrupted
    between the fold that scored it and the swap."""
    conn = connect_direct(env)
    try:
        if backend_of(env) == "sqlite":
            conn.execute(f"CREATE TRIGGER tamper AFTER INSERT ON {table} BEGIN "
                         f"UPDATE {table} SET {column} = '{value}' WHERE rowid = NEW.rowid; END")
        else:
            conn.execute("CREATE OR REPLACE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS "
                         f"$$ BEGIN NEW.{column} := '{value}'; RETURN NEW; END $$")
            conn.execute(f"CREATE TRIGGER tamper BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION tamper()")
    finally:
        conn.close()


@pytest.mark.parametrize(("workers", "table", "column", "value", "shown"), [
    (1, "cycle_scores", "digest", "0" * 64, "000000000000"),
    (2, "cycle_scores", "digest", "0" * 64, "000000000000"),
    (1, "scoreboard", "total", "100", ""),
    (2, "scoreboard", "total", "100", ""),
])
def test_a_rebuild_whose_scores_differ_from_the_fold_swaps_nothing_in(
    scenario: Scenario, workers: int, table: str, column: str, value: str, shown: str
) -> None:
    """The digest stored with a cycle, or the rows behind it, changed under the rebuild: the
    check holds both to the fold's digest."""
    s = scenario
    runner = live_runner(s.ledger)
    runner.catch_up()
    before = {m.name: m.dump() for m in runner.models}
    shadow = Scores(s.store, shadow=True)
    shadow.create_tables()
    tamper_on_insert(s.env, shadow.table(table), column, value)
    try:
        with pytest.raises(RebuildMismatch, match=rf"rebuilt digest {shown}.* differs from the log's"):
            rebuild(s.ledger, ["scores", "accountability"], workers=workers)
        assert {m.name: m.dump() for m in runner.models} == before
    finally:
        s.store.run(shadow.drop_tables())  # the trigger goes with its table
        rebuild(s.ledger, restart=True)  # what an operator does next: start over, which passes
    assert {m.name: m.dump() for m in runner.models} == before


def test_a_model_whose_tables_an_upgrade_changed_is_refilled_from_the_start(scenario: Scenario) -> None:
    """New tables under an old recorded position (what an upgrade that changed them finds)
    would stay empty: the runner starts the model over instead."""
    s = scenario
    live_runner(s.ledger).catch_up()
    diary = Diary(s.store)
    before = diary.dump()
    assert before["diary_days"]
    s.store.run(diary.drop_tables())
    live_runner(s.ledger, ["diary"]).catch_up()
    assert diary.dump() == before
    assert diary.position() == s.ledger.recorder.max_notification_id()


def test_a_rebuild_in_worker_processes_swaps_in_the_same_rows_with_the_live_indexes(scenario: Scenario) -> None:
    s = scenario
    runner = live_runner(s.ledger)
    runner.catch_up()
    before = {m.name: m.dump() for m in runner.models}
    rebuild(s.ledger, page=5, workers=2)
    done = rebuild(s.ledger, page=7, workers=2)  # again: renamed tables leave no name to clash with
    assert {r.name: r.position for r in done} == {name: s.ledger.recorder.max_notification_id() for name in before}
    assert {m.name: m.dump() for m in runner.models} == before
    wanted = {f"{m.table(logical)}_{suffix}" for m in runner.models for suffix, (logical, _) in m.indexes.items()}
    listed = ("SELECT indexname AS name FROM pg_indexes" if s.store.is_postgres
              else "SELECT name FROM sqlite_master WHERE type = 'index'")
    indexes = {row["name"] for row in s.store.query(listed)}
    assert wanted <= indexes
    assert not {name for name in indexes if "shadow" in name}


def refuse_inserts(env: dict[str, str], table: str) -> None:
    """A trigger that makes every insert into `table` fail: a worker that dies mid-rebuild."""
    conn = connect_direct(env)
    try:
        if backend_of(env) == "sqlite":
            conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END")
        else:
            conn.execute("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN RAISE EXCEPTION 'refused'; END $$")
            conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse()")
    finally:
        conn.close()


def test_worker_rebuilds_leave_every_live_table_each_of_its_indexes_once(scenario: Scenario) -> None:
    """A worker builds a shadow's indexes once it is filled, under whichever of two names the
    live table does not hold (SQLite cannot rename an index): after each swap every live table
    has each of its indexes exactly once, and a runner starting on them builds none."""
    s = scenario
    models = live_runner(s.ledger).models

    def held() -> dict[tuple[str, str], list[str]]:
        existing = s.store.indexes()
        return {(logical, suffix): [name for name, table in existing.items()
                                    if table == f"kpi_{logical}" and name.startswith(f"kpi_{logical}_{suffix}")]
                for m in models for suffix, (logical, _) in m.indexes.items()}

    names = []
    for _ in range(2):
        rebuild(s.ledger, page=5, workers=2)
        found = held()
        assert all(len(found[key]) == 1 for key in found), found
        assert not [t for t in s.store.indexes().values() if t.endswith("__shadow")]
        names.append(found[("diary_days", "by_official")][0])
    assert names[0] != names[1]  # built on the shadow while the live table held the other name
    for model in models:
        model.create_tables()
    assert held() == found


def test_a_worker_that_fails_stops_the_rebuild_with_the_live_tables_as_they_were(scenario: Scenario) -> None:
    s = scenario
    runner = live_runner(s.ledger)
    runner.catch_up()
    before = {m.name: m.dump() for m in runner.models}
    shadow = Diary(s.store, shadow=True)  # filled by a worker process, not the rebuild's own
    shadow.create_tables()
    refuse_inserts(s.env, shadow.table("diary_days"))
    try:
        with pytest.raises(RuntimeError, match=r"rebuild .*diary.* failed \(exit code 1\); the shadow tables "
                                               "are kept: run the rebuild again to resume"):
            rebuild(s.ledger, page=5, workers=2)
        assert {m.name: m.dump() for m in runner.models} == before
    finally:
        s.store.run(shadow.drop_tables())  # the trigger goes with its table
    rebuild(s.ledger, page=5, workers=2)  # resumes the other shadows, refills the diary
    assert {m.name: m.dump() for m in runner.models} == before


def test_a_rebuild_brings_live_tables_of_an_older_definition_up_to_date(backend_env: dict[str, str]) -> None:
    ledger = Ledger(env=backend_env)
    try:
        c = build_commune(ledger)
        conn = connect_direct(backend_env)
        try:  # the scores summary as first released: no cycle dates
            conn.execute("CREATE TABLE kpi_cycle_scores (cycle_id TEXT PRIMARY KEY, policy_version TEXT, "
                         "digest TEXT, computed_at INTEGER)")
        finally:
            conn.close()
        rebuild(ledger, ["scores"])
        assert queries.score_table(ViewStore(ledger.recorder), c.cycle_id) == ledger.score_cycle(c.cycle_id)
        ledger.log_work(c.member, cycle_id=c.cycle_id, on=d(2), hours=Decimal(8), duty="Tiếp công dân")
        assert live_runner(ledger).catch_up() > 0
    finally:
        ledger.close()


# ------------------------------------------------------------------------------ command line


@pytest.fixture
def cli(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    monkeypatch.setenv("DATABASE_URL", database_url(scenario.env))
    monkeypatch.setenv("COLUMNS", "150")
    return scenario


def test_queue_lists_the_overdue_submission_first_with_vietnamese_headers(cli: Scenario) -> None:
    result = run("queue", "--approver", "TL-KT-1", "--as-of", "2026-03-16")
    assert result.code == 0, result.err
    assert "Hạn phê duyệt" in result.out and "Người thực hiện" in result.out
    assert result.out.index("Báo cáo thu ngân sách quý I") < result.out.index("Rà soát hộ kinh doanh")
    assert "QUÁ HẠN" in result.out and "2 awaiting, 1 overdue" in result.out
    as_json = json.loads(run("queue", "--as-of", "2026-03-16", "--json").out)
    assert [(a["task_id"], a["overdue"]) for a in as_json] == [(str(cli.overdue), True), (str(cli.waiting), False)]


def test_diary_prints_days_weeks_and_the_padding_flag(cli: Scenario) -> None:
    days = run("diary", "TL-KT-2", "--from", "2026-03-02", "--to", "2026-03-16")
    assert days.code == 0, days.err
    assert "Phạm Thị Dung" in days.out and "[padding]" in days.out and "[no_product]" in days.out
    assert "36.50 hours over 5 days" in days.out
    weeks = run("diary", "TL-KT-2", "--from", "2026-03-02", "--to", "2026-03-16", "--weeks")
    assert "2026-W10" in weeks.out
    as_json = json.loads(run("diary", "TL-KT-2", "--from", "2026-03-02", "--to", "2026-03-04",
                             "--json").out)
    assert [f["flag"] for f in as_json["flags"] if f["flag"] == "padding"] == ["padding"]


def test_accountability_shows_chairman_and_secretary_side_by_side(cli: Scenario) -> None:
    result = run("accountability", "BN-TL")
    assert result.code == 0, result.err
    assert "Nguyễn Văn An" in result.out and "Trần Thị Bình" in result.out
    assert "Trách nhiệm chung" in result.out and "Thu ngân sách" in result.out
    unknown = run("accountability", "XX-NONE")
    assert unknown.code == 2 and unknown.err.startswith("error: unit_code: ")


def test_report_prints_the_month_per_unit(cli: Scenario) -> None:
    result = run("report", "BN-TL", "--month", "2026-03")
    assert result.code == 0, result.err
    assert "Phòng Kinh tế" in result.out and "tháng 03/2026" in result.out
    as_json = json.loads(run("report", "BN-TL", "--month", "2026-03", "--json").out)
    assert as_json == queries.unit_report(cli.store, cli.c.commune_id, "2026-03")
    bad = run("report", "BN-TL", "--month", "2026-13")
    assert bad.code == 2 and bad.err.startswith("error: --month: ")


def test_lineage_prints_every_line_and_the_change_in_a_window(cli: Scenario) -> None:
    cycle = str(cli.c.cycle_id)
    whole = json.loads(run("lineage", cycle, "TL-KT-2", "--json").out)
    assert Decimal(whole["change"]) == Decimal(whole["total"])
    assert whole["lines"] == queries.lineage(cli.store, cli.c.cycle_id, cli.c.member.official_id)
    later = run("lineage", cycle, "TL-KT-2", "--since", "2100-01-01T00:00:00")
    assert later.code == 0, later.err
    assert "change in these lines +0.00" in later.out


def test_scores_and_explain_read_the_projections_and_match_the_fold(cli: Scenario) -> None:
    fold = cli.ledger.score_cycle(cli.c.cycle_id)
    scores = json.loads(run("scores", str(cli.c.cycle_id), "--json").out)
    assert scores["digest"] == fold.digest()
    assert [r["total"] for r in scores["rows"]] == [str(r.total) for r in fold.rows]
    explain = run("explain", str(cli.c.cycle_id), "TL-KT-2")
    assert explain.code == 0, explain.err
    assert "Phạm Thị Dung" in explain.out and "equals the sum of the" in explain.out
    what_if = run("scores", str(cli.c.cycle_id), "--policy", "v9")
    assert what_if.code == 2 and what_if.err.startswith("error: policy_version: ")


def test_catch_up_and_rebuild_print_each_projections_position_and_rows(cli: Scenario) -> None:
    head = cli.ledger.recorder.max_notification_id()
    assert run("catch-up").code == 0  # the Merkle leaves too, which no earlier test may have run
    caught = run("catch-up")
    assert caught.code == 0, caught.err
    assert "0 events applied" in caught.out
    rebuilt = run("rebuild", "--projection", "diary", "scores", "--page", "50")
    assert rebuilt.code == 0, rebuilt.err
    for name in ("diary", "scores"):
        assert any(line.split()[:2] == [name, str(head)] for line in rebuilt.out.splitlines()), rebuilt.out
    assert "accountability" not in rebuilt.out
    assert "scores match a fold of the log" in rebuilt.out
    once = run("project", "--once")
    assert once.code == 0 and "caught up" in once.out


def test_a_rebuild_whose_scores_disagree_with_the_log_swaps_nothing_in(cli: Scenario) -> None:
    """A shadow scoreboard corrupted under the rebuild (a trigger rewrites its digests) fails the
    check against the fold: exit 1, the live tables as they were; --restart then starts clean."""
    shadow = Scores(cli.store, shadow=True)
    shadow.create_tables()
    tamper_on_insert(cli.env, shadow.table("cycle_scores"), "digest", "tampered")
    live = Scores(cli.store)
    before = live.dump()
    failed = run("rebuild", "--projection", "scores")
    assert failed.code == 1
    assert failed.err.startswith(f"error: rebuild: cycle {cli.c.cycle_id}: rebuilt digest tampered")
    assert "live tables left as they were" in failed.err
    assert live.dump() == before
    again = run("rebuild", "--projection", "scores", "--restart")
    assert again.code == 0, again.err
    assert live.dump() == before


def test_an_unknown_official_code_is_refused_naming_the_field(cli: Scenario) -> None:
    result = run("diary", "BN-NOBODY", "--from", "2026-03-02", "--to", "2026-03-16")
    assert result.code == 2 and result.err.startswith("error: official: ")
