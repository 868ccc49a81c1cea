"""Replays as known at a position or time, what-ifs and diffs, on SQLite and PostgreSQL.

Xã Tân Lập's 15-day cycle (2-16 March 2026) is recorded once per backend, then certified, and
then, "on day 40", two late corrections arrive dated inside the cycle (a sanction revoked as of
11 March, an objective cause confirmed as of 12 March) and one sanction dated outside it.
Every test only reads that log (projection tables aside), so they share it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from api.cli import main
from domain.cycles import Cycle
from domain.discipline import ConductAssessment, SanctionKind
from domain.errors import InvalidInput, NotFound
from domain.ledger import Ledger
from domain.policy import PolicyParams
from domain.tasks import Deduction, KpiKind, Task
from projections.queries import lineage, scoreboard
from projections.rebuild import MODELS, live_runner
from projections.scores import lineage_rows, row_positions, scoreboard_row
from projections.store import ViewStore
from replay.diff import diff
from replay.timetravel import Replay, position_at, replay
from tests.backends import backend_of, connect_direct, postgres_database, postgres_env, sqlite_env
from tests.commune import Commune, build_commune

D = Decimal
DUE = date(2026, 3, 10)


@dataclass(frozen=True)
class Scenario:
    commune: Commune
    report_task: UUID  # Dung's: approved with one major error on 11 March
    late_task: UUID  # Em's: submitted a week late
    open_task: UUID  # Khánh's: submitted, never acted on
    sanction: UUID  # Dung's unexcused training absence, 5 March
    target: UUID
    certified_at: int  # the log position once the cycle was closed, before the corrections
    revocation: str  # event ids of the late corrections
    objective_cause: str
    outside: UUID  # a sanction on Khánh dated 10 April: outside the cycle


def record_scenario(ledger: Ledger, tag: str = "") -> Scenario:
    """Xã Tân Lập's cycle through certification, then the late corrections (see module doc)."""
    c = build_commune(ledger, tag=tag)
    head, culture_head = c.economy_head, c.culture_head

    def task(by: Any, to: Any, title: str, due: date) -> UUID:
        return ledger.assign_task(
            by, cycle_id=c.cycle_id, assignee_id=to.official_id, title=title, kind=KpiKind.HARD,
            product="báo cáo", target_quantity=2, due_on=due, on=c.starts_on,
            authority="Quyết định giao việc số 12",
        )

    report = task(head, c.member, "Báo cáo tiến độ giải ngân", DUE)
    late = task(head, c.colleague, "Rà soát hộ nghèo", date(2026, 3, 9))
    open_ = task(culture_head, c.culture_member, "Kế hoạch lễ hội", DUE)
    ledger.submit_task(c.member, task_id=report, quantity=2, on=date(2026, 3, 9))
    ledger.approve_task(head, task_id=report, major_errors=1, comment="sai số liệu", on=date(2026, 3, 11))
    ledger.submit_task(c.colleague, task_id=late, quantity=2, on=date(2026, 3, 16))
    ledger.approve_task(head, task_id=late, on=date(2026, 3, 16))
    ledger.submit_task(c.culture_member, task_id=open_, quantity=2, on=date(2026, 3, 10))
    sanction = ledger.impose_sanction(
        head, official_id=c.member.official_id, kind=SanctionKind.DEDUCTION,
        criterion="unexcused_training_absence", reason="vắng tập huấn", on=date(2026, 3, 5),
    )
    ledger.assess_conduct(head, official_id=c.colleague.official_id, cycle_id=c.cycle_id,
                          points=D(12), on=c.ends_on)
    target = ledger.set_target(c.admin, cycle_id=c.cycle_id, indicator="Hộ thoát nghèo",
                               target_value=D(100), measure="hộ", on=c.starts_on)
    ledger.report_target_result(c.monitoring, target_id=target, value=D(80), evidence="thống kê",
                                on=c.ends_on)
    ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=date(2026, 3, 17))
    certified_at = ledger.recorder.max_notification_id() or 0

    # "Day 40": corrections recorded long after the cycle, effective inside it.
    ledger.revoke_sanction(c.admin, sanction_id=sanction, reason="có giấy triệu tập họp khác",
                           on=date(2026, 3, 11))
    ledger.confirm_objective_cause(c.chairman, task_id=report, deduction=Deduction.ERRORS,
                                   reason="số liệu nguồn sai", on=date(2026, 3, 12))
    outside = ledger.impose_sanction(
        culture_head, official_id=c.culture_member.official_id, kind=SanctionKind.DEDUCTION,
        criterion="unexcused_training_absence", reason="vắng tập huấn", on=date(2026, 4, 10),
    )
    ledger.publish_policy(
        c.admin, version="v2", effective_from=date(2027, 1, 1),
        params=PolicyParams(criterion_points=(("unexcused_training_absence", D(3)),)),
    )
    return Scenario(c, report, late, open_, sanction, target, certified_at,
                    f"{sanction}:2", f"{report}:4", outside)


@dataclass
class Recorded:
    env: dict[str, str]
    ledger: Ledger
    s: Scenario

    def totals(self, r: Replay) -> dict[str, Decimal]:
        return {row.code.removeprefix(self.s.commune.tag): row.total for row in r.table.rows}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def recorded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            env = sqlite_env(tmp_path_factory.mktemp("replay"))
        else:
            server: str = request.getfixturevalue("postgres_server")
            env = postgres_env(stack.enter_context(postgres_database(server)))
        ledger = Ledger(env=env)
        stack.callback(ledger.close)
        yield Recorded(env, ledger, record_scenario(ledger))


# ------------------------------------------------------------------------ as known at


def test_replay_at_each_position_equals_the_scoreboard_caught_up_exactly_to_it(recorded: Recorded) -> None:
    ledger, cycle_id = recorded.ledger, recorded.s.commune.cycle_id
    opened: int = {e.originator_id: e.notification_id
                   for e in ledger.read_events(topics=[get_topic(Cycle.CycleOpened)])}[cycle_id]
    runner = live_runner(ledger, ["scores"])
    store = ViewStore(ledger.recorder)
    head = ledger.recorder.max_notification_id() or 0
    for p in range(opened - 1, head + 1):
        runner.catch_up(stop=p)
        rows = scoreboard(store, cycle_id)
        if p < opened:
            assert rows == []
            with pytest.raises(NotFound) as refused:
                replay(ledger, cycle_id, known_at=p)
            assert refused.value.field == "cycle_id"
            continue
        r = replay(ledger, cycle_id, known_at=p)
        assert r.position == p
        positions = row_positions(r.table)
        expected = [scoreboard_row(str(cycle_id), row, positions[row.official_id]) for row in r.table.rows]
        # Sorted by official id: PostgreSQL's collation may order Vietnamese names differently.
        assert sorted(map(_as_stored, rows)) == sorted(map(_comparable, expected)), f"position {p}"
        for row in r.table.rows:
            stored = lineage(store, cycle_id, row.official_id)
            assert [tuple(line.values()) for line in stored] == lineage_rows(str(cycle_id), row)


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*row[:17], json.loads(row[17]), row[18], json.loads(row[19]))


def _as_stored(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.values())


def test_a_late_correction_counts_in_the_cycle_known_now_and_not_as_known_before_it(
    recorded: Recorded,
) -> None:
    s, ledger = recorded.s, recorded.ledger
    before = replay(ledger, s.commune.cycle_id, known_at=s.certified_at)
    now = replay(ledger, s.commune.cycle_id)
    t = s.commune.code
    # Dung: 70 task points less a quarter of quality (one major error: −5.83), discipline 13
    # (training absence −2), conduct 15 by default. Her head's unit part is 35 x the mean of
    # his three members: 10.75 (Dung 92.17) + 10.64 (Em 91.17) + 11.67 (Giang 100).
    assert recorded.totals(before)[t("TL-KT-2")] == D("92.17")
    assert recorded.totals(before)[t("TL-KT-3")] == D("91.17")  # one delay −5.83, conduct 12
    assert recorded.totals(before)[t("TL-KT-1")] == D("98.06")
    assert recorded.totals(before)[t("TL-01")] == D("93.00")  # 35 + 35 x 80/100 + 30
    # Known now: the revocation (dated 11 March) and the objective cause (12 March) count.
    assert recorded.totals(now)[t("TL-KT-2")] == D("100.00")
    assert recorded.totals(now)[t("TL-KT-1")] == D("98.98")  # 35 + 11.67 + 10.64 + 11.67 + 30
    # The sanction dated 10 April is in the log now but outside the cycle's business dates.
    assert recorded.totals(now)[t("TL-VH-2")] == recorded.totals(before)[t("TL-VH-2")] == D("100.00")
    assert {k: v for k, v in recorded.totals(now).items() if k not in (t("TL-KT-2"), t("TL-KT-1"))} == {
        k: v for k, v in recorded.totals(before).items() if k not in (t("TL-KT-2"), t("TL-KT-1"))
    }

    dung = next(r for r in now.table.rows if r.code == t("TL-KT-2"))
    late_lines = {c.event_id: c.delta for c in dung.contributions if c.event_id in (s.revocation, s.objective_cause)}
    assert late_lines == {s.revocation: D("2.00"), s.objective_cause: D("5.83")}
    assert not any(c.event_id in (s.revocation, s.objective_cause)
                   for row in before.table.rows for c in row.contributions)
    assert before.position == s.certified_at and now.position == ledger.recorder.max_notification_id()

    changed = diff(before, now)
    assert {c.code for c in changed.changes} == {t("TL-KT-2"), t("TL-KT-1")}
    dung_change = next(c for c in changed.changes if c.code == t("TL-KT-2"))
    assert dung_change.event_ids == (s.revocation, s.objective_cause)
    assert dung_change.removed == () and dung_change.delta == D("7.83")


def test_known_at_a_recording_time_is_the_last_position_recorded_by_then(recorded: Recorded) -> None:
    ledger = recorded.ledger
    stamps = [(e.notification_id, e.timestamp) for e in ledger.read_events()]
    for _, stamped in stamps[:: max(1, len(stamps) // 25)] + stamps[-2:]:
        for moment in (stamped, stamped - timedelta(microseconds=1)):
            assert position_at(ledger, moment) == max((p for p, t in stamps if t <= moment), default=0)
    assert position_at(ledger, stamps[0][1] - timedelta(days=1)) == 0
    s = recorded.s
    certified_time = next(t for p, t in stamps if p == s.certified_at)
    by_time = replay(ledger, s.commune.cycle_id, known_at=certified_time)
    assert by_time.position == s.certified_at and by_time.known_at == certified_time
    assert by_time.table == replay(ledger, s.commune.cycle_id, known_at=s.certified_at).table
    with pytest.raises(InvalidInput) as beyond:
        replay(ledger, s.commune.cycle_id, known_at=len(stamps) + 1)
    assert beyond.value.field == "known_at"


# ------------------------------------------------------------------------ what-if


def test_what_ifs_and_diffs_write_nothing(recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, ledger = recorded.s, recorded.ledger
    live_runner(ledger).catch_up()  # every projection table exists and is up to date
    before = _fingerprint(recorded.env)
    head = ledger.recorder.max_notification_id()
    proposals = tmp_path / "corrections.json"
    proposals.write_text(json.dumps([
        {"type": "TaskApproved", "aggregate": str(s.open_task), "occurred_on": "2026-03-12"},
        {"type": "ConductAssessed", "official_id": str(s.commune.culture_member.official_id),
         "points": 10, "occurred_on": "2026-03-16"},
    ]))
    what_if = replay(ledger, s.commune.cycle_id, known_at=s.certified_at, policy="v2",
                     extra_events=json.loads(proposals.read_text()), without=[f"{s.sanction}:1"])
    assert what_if.is_what_if
    diff(replay(ledger, s.commune.cycle_id), what_if)
    _use_env(monkeypatch, recorded.env)
    for argv in (
        ["replay", str(s.commune.cycle_id), "--policy", "v2", "--with", str(proposals),
         "--without", f"{s.report_task}:3", "--json"],
        ["diff", str(s.commune.cycle_id), "--a", f"known-at={s.certified_at}", "--b", f"policy=v2,with={proposals}"],
    ):
        code, _, err = _run(*argv)
        assert code == 0, err
    assert ledger.recorder.max_notification_id() == head
    assert _fingerprint(recorded.env) == before


def test_leaving_an_event_out_removes_exactly_its_lines(recorded: Recorded) -> None:
    s, ledger = recorded.s, recorded.ledger
    approval = f"{s.report_task}:3"  # Dung's approval with one major error
    base = replay(ledger, s.commune.cycle_id, known_at=s.certified_at)
    without = replay(ledger, s.commune.cycle_id, known_at=s.certified_at, without=[approval])
    assert without.removed == (approval,) and without.position == base.position
    for row in base.table.rows:
        recorded_lines = [c for c in row.contributions if c.event_id and c.event_id != approval]
        after = without.row(row.official_id)
        assert after is not None and recorded_lines == [c for c in after.contributions if c.event_id]
    dung = next(c for c in diff(base, without).changes if c.official_id == s.commune.member.official_id)
    assert [(c.event_id, c.delta) for c in dung.removed] == [(approval, D("-5.83"))]
    assert dung.added == () and dung.after is not None and dung.after.total == D("98.00")
    with pytest.raises(NotFound) as unknown:
        replay(ledger, s.commune.cycle_id, known_at=s.certified_at, without=[s.revocation])
    assert unknown.value.field == "without"  # recorded, but only after that position


def test_a_what_if_under_policy_v2_prices_the_training_absence_at_three(recorded: Recorded) -> None:
    s, ledger = recorded.s, recorded.ledger
    v1 = replay(ledger, s.commune.cycle_id, known_at=s.certified_at)
    v2 = replay(ledger, s.commune.cycle_id, known_at=s.certified_at, policy="v2")
    assert (v2.policy_version, v2.pinned_version, v2.table.policy_version) == ("v2", "v1", "v2")
    change = next(c for c in diff(v1, v2).changes if c.official_id == s.commune.member.official_id)
    imposed = f"{s.sanction}:1"
    assert [(c.event_id, c.delta) for c in change.removed] == [(imposed, D("-2.00"))]
    assert [(c.event_id, c.delta) for c in change.added] == [(imposed, D("-3.00"))]
    assert change.delta == D("-1.00") and change.after is not None and change.after.discipline == D(12)


def test_proposed_events_are_the_next_versions_of_their_aggregates_as_known_at_the_position(
    recorded: Recorded,
) -> None:
    s, ledger = recorded.s, recorded.ledger
    khanh = s.commune.culture_member.official_id
    r = replay(ledger, s.commune.cycle_id, known_at=s.certified_at, extra_events=[
        {"type": "SanctionRevoked", "aggregate": str(s.sanction), "reason": "khiếu nại",
         "occurred_on": "2026-03-11"},
        {"type": "TaskApproved", "aggregate": str(s.open_task), "major_errors": 2, "comment": "thiếu",
         "occurred_on": "2026-03-12"},
        {"type": "ConductAssessed", "official_id": str(khanh), "points": "10.5", "occurred_on": "2026-03-16"},
    ])
    assert [(type(e).__name__, e.originator_version) for e in r.added] == [
        ("SanctionRevoked", 2), ("TaskApproved", 3), ("ConductAssessmentStarted", 1), ("ConductAssessed", 2),
    ]
    assert isinstance(r.added[2], ConductAssessment.ConductAssessmentStarted)
    assert isinstance(r.added[1], Task.TaskApproved)
    assert all(e.timestamp == r.recorded_at for e in r.added)
    totals = {row.official_id: row for row in r.table.rows}
    assert totals[s.commune.member.official_id].total == D("94.17")  # 92.17 + 2 restored
    # Khánh: 70 less two errors (half of quality: −11.67), conduct assessed 10.5.
    assert (totals[khanh].task, totals[khanh].conduct, totals[khanh].total) == (D("58.33"), D("10.50"), D("83.83"))
    assert all(c.actor_role == "what-if" for c in totals[khanh].contributions if c.event_type == "ConductAssessed")
    # The same proposal as known now: the sanction is already revoked there, at version 2.
    now = replay(ledger, s.commune.cycle_id, extra_events=[
        {"type": "SanctionRevoked", "aggregate": str(s.sanction), "reason": "x", "occurred_on": "2026-03-11"},
    ])
    assert now.added[0].originator_version == 3


@pytest.mark.parametrize(("entry", "field"), [
    ({"type": "SanctionRevoked", "reason": "x", "occurred_on": "2026-03-11"}, "with[1].aggregate"),
    ({"type": "SanctionRevoked", "aggregate": "SANCTION", "reason": "x", "occurred_on": "2026-03-11"},
     "with[1].aggregate"),
    ({"type": "SanctionRevoked", "aggregate": "{sanction}", "reason": "x", "occurred_on": "11/03/2026"},
     "with[1].occurred_on"),
    ({"type": "SanctionRevoked", "aggregate": "{sanction}", "occurred_on": "2026-03-11"}, "with[1].reason"),
    ({"type": "SanctionRevoked", "aggregate": "{sanction}", "reason": "x", "occurred_on": "2026-03-11",
      "points": 2}, "with[1].points"),
    ({"type": "TaskApproved", "aggregate": "{task}", "major_errors": -1, "occurred_on": "2026-03-12"},
     "with[1].major_errors"),
    ({"type": "TaskApproved", "aggregate": "{sanction}", "occurred_on": "2026-03-12"}, "with[1].aggregate"),
    ({"type": "WorkLogged", "aggregate": "{task}"}, "with[1].type"),
    ("SanctionRevoked", "with[1]"),
])
def test_a_malformed_proposal_is_refused_naming_its_entry_and_field(
    recorded: Recorded, entry: Any, field: str
) -> None:
    s = recorded.s
    good = {"type": "TaskApproved", "aggregate": str(s.open_task), "occurred_on": "2026-03-12"}
    if isinstance(entry, dict):
        entry = {k: v.format(sanction=s.sanction, task=s.open_task) if isinstance(v, str) else v
                 for k, v in entry.items()}
    with pytest.raises((InvalidInput, NotFound)) as refused:
        replay(recorded.ledger, s.commune.cycle_id, extra_events=[good, entry])
    assert refused.value.field == field


# ------------------------------------------------------------------------ command line


def test_replay_command_names_the_position_time_policy_and_proposals(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = recorded.s
    _use_env(monkeypatch, recorded.env)
    proposals = tmp_path / "corr.json"
    proposals.write_text(json.dumps([{"type": "SanctionRevoked", "aggregate": str(s.sanction),
                                      "reason": "khiếu nại", "occurred_on": "2026-03-11"}]))
    code, out, err = _run("replay", str(s.commune.cycle_id), "--known-at", str(s.certified_at),
                          "--policy", "v2", "--with", str(proposals))
    assert code == 0, err
    assert f"as known at log position {s.certified_at}" in out
    assert "policy v2 (giả định, kỳ áp dụng v1 / what-if, the cycle pins v1)" in out
    assert f"proposed: SanctionRevoked {s.sanction}:2 (2026-03-11)" in out
    assert "nothing recorded" in out and "Phạm Thị Dung" in out

    code, out, err = _run("replay", "--commune", s.commune.code("BN-TL"), "--starts", "2026-03-02",
                          "--official", s.commune.code("TL-KT-2"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["position"] == recorded.ledger.recorder.max_notification_id()
    assert (data["policy_version"], data["what_if"], data["row"]["total"]) == ("v1", False, "100.00")

    code, _, err = _run("replay", str(s.commune.cycle_id), "--known-at", "yesterday")
    assert code == 2 and err.startswith("error: --known-at: ")


def test_diff_command_lists_each_changed_official_with_the_events_that_explain_it(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = recorded.s
    _use_env(monkeypatch, recorded.env)
    code, out, err = _run("diff", str(s.commune.cycle_id), "--a", f"known-at={s.certified_at}",
                          "--b", "known-at=now", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["a"]["position"] == s.certified_at
    changes = {c["code"]: c for c in data["changes"]}
    assert set(changes) == {s.commune.code("TL-KT-2"), s.commune.code("TL-KT-1")}
    dung = changes[s.commune.code("TL-KT-2")]
    assert (dung["before"]["total"], dung["after"]["total"], dung["delta"]) == ("92.17", "100.00", "7.83")
    assert dung["event_ids"] == [s.revocation, s.objective_cause]

    at = f"known-at={s.certified_at}"
    code, out, err = _run("diff", str(s.commune.cycle_id), "--a", f"{at},policy=v1", "--b", at, "--b", "policy=v2")
    assert code == 0, err
    assert "Phạm Thị Dung" in out and "92.17 → 91.17 (-1.00)" in out and f"{s.sanction}:1" in out

    code, out, err = _run("diff", str(s.commune.cycle_id))
    assert code == 0, err
    assert "no official's score differs" in out

    code, _, err = _run("diff", str(s.commune.cycle_id), "--a", "as-of=3")
    assert code == 2 and err.startswith("error: --a: unknown key 'as-of'")


# ------------------------------------------------------------------------ helpers


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Point the command line at the test's database, as a user's environment would."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "160")


def _fingerprint(env: dict[str, str]) -> dict[str, str]:
    """Every table of the database, row count and content hash: nothing may change."""
    conn = connect_direct(env)
    try:
        if backend_of(env) == "postgres":
            names = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
        else:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
        assert all(f"kpi_{logical}" in names for model in MODELS.values() for logical in model.tables)
        out = {}
        for name in sorted(names):
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            text = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)) for row in rows)
            out[name] = f"{len(rows)}:{hashlib.sha256(chr(10).join(text).encode()).hexdigest()}"
        return out
    finally:
        conn.close()
