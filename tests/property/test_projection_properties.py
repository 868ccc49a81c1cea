"""Incremental projections equal a rebuild from zero, and the scoreboard equals the fold.

DESIGN's rule, "an incremental projection after N events equals a rebuild from zero over the
same N events, row for row", checked for generated histories of a two small communes (tests/commune.py):
tasks assigned, reassigned, submitted, approved and returned, objective causes, diaries logged and
voided, sanctions imposed and revoked, conduct assessments, target results, transfers, a head
relieved, the cycle closed and reopened, and the deadline watcher, with catch-ups of random size (and
restarted runners, which must warm their in-memory state up from the log) in between.

A command is four numbers read modulo what exists (which official, which task, which day), so
hypothesis shrinks a failure to a short, readable history; commands the ledger refuses are
simply not recorded. SQLite carries the hypothesis loop; PostgreSQL runs one fixed-seed history.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actors import Actor
from domain.discipline import SanctionKind
from domain.errors import LedgerError
from domain.ledger import Ledger
from domain.org import Post
from domain.tasks import Deduction, KpiKind
from projections import queries
from projections.base import ReadModel
from projections.diary import entries_of
from projections.rebuild import live_runner, rebuild
from projections.runner import Runner
from projections.scores import row_positions, scoreboard_row
from projections.store import ViewStore
from tests.backends import sqlite_env
from tests.commune import Commune, build_commune

KINDS = ("assign", "submit", "approve", "return", "log", "void", "sanction", "conduct", "report",
         "deadlines", "catch_up", "reassign", "objective", "revoke", "transfer", "relieve", "close", "reopen")
Step = tuple[str, int, int, int]
steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)),
    min_size=1, max_size=40,
)
stops = st.lists(st.tuples(st.integers(0, 999), st.integers(1, 60), st.booleans()), max_size=4)


def day(n: int) -> date:
    """A day of the cycle, 2 to 16 March 2026."""
    return date(2026, 3, 2) + timedelta(days=n % 15)


@dataclass
class TaskState:
    task_id: UUID
    assignee: Actor
    approver: UUID
    not_before: date  # the next action may not precede the assignment, submission or return
    status: str = "assigned"


@dataclass
class History:
    """What the generated commands refer to: two communes (officials move between them), their
    targets, and the tasks, diary days and sanctions recorded so far."""

    communes: list[Commune]
    targets: dict[UUID, list[UUID]]  # cycle -> its targets
    tasks: list[TaskState] = field(default_factory=list)
    logged: list[tuple[Actor, date]] = field(default_factory=list)
    sanctions: list[UUID] = field(default_factory=list)
    runner: Runner | None = None

    @property
    def staff(self) -> list[tuple[Actor, Actor, Commune]]:
        """(official, their leader, commune): members under their head, heads under the chairman."""
        return [entry for c in self.communes for entry in (
            [(m, c.economy_head, c) for m in c.economy_members]
            + [(m, c.culture_head, c) for m in c.culture_members]
            + [(c.economy_head, c.chairman, c), (c.culture_head, c.chairman, c)])]


def record_template(ledger: Ledger) -> tuple[list[Commune], dict[UUID, list[UUID]]]:
    communes = [build_commune(ledger, tag=tag) for tag in ("", "B-")]
    return communes, {c.cycle_id: [
        ledger.set_target(c.admin, cycle_id=c.cycle_id, indicator=name, target_value=Decimal(value),
                          measure=measure, on=day(0))
        for name, value, measure in (("Thu ngân sách", 1000, "triệu đồng"), ("Hộ nghèo giảm", 10, "hộ"))
    ] for c in communes}


def perform(ledger: Ledger, h: History, step: Step) -> None:  # noqa: C901 - one branch per command
    kind, a, b, n = step
    official, leader, c = h.staff[a % len(h.staff)]
    awaiting = [t for t in h.tasks if t.status == "submitted"]  # mostly act on what can be acted on
    to_submit = [t for t in h.tasks if t.status != "submitted"]
    choices = (awaiting if kind in ("approve", "return") and awaiting and b % 4 else
               to_submit if kind == "submit" and to_submit and b % 4 else h.tasks)
    task = choices[a % len(choices)] if choices else None
    if kind == "assign":
        on = day(b)
        due = min(on + timedelta(days=n % 6), day(14))
        task_id = ledger.assign_task(
            leader, cycle_id=c.cycle_id, assignee_id=official.official_id, title=f"Nhiệm vụ {len(h.tasks)}",
            kind=KpiKind.SPEARHEAD if n % 4 == 0 else KpiKind.HARD, product="Báo cáo",
            target_quantity=1 + n % 3, due_on=max(due, on), on=on, authority="Kế hoạch công tác tháng 3",
            weight=Decimal(1 + b % 2),
        )
        h.tasks.append(TaskState(task_id, official, leader.official_id, on))
    elif kind == "submit" and task:
        on = max(task.not_before, day(n))
        ledger.submit_task(task.assignee, task_id=task.task_id, quantity=b % 4, on=on)
        task.not_before, task.status = on, "submitted"
    elif kind in ("approve", "return") and task:
        approver, on = Actor(task.approver, "official"), max(task.not_before, day(n))
        if kind == "approve":
            ledger.approve_task(approver, task_id=task.task_id, on=on, major_errors=b % 3)
        else:
            ledger.return_task(approver, task_id=task.task_id, on=on, comment="Bổ sung số liệu",
                               major_errors=b % 2)
        task.not_before, task.status = on, kind
    elif kind == "log":
        duty = ("Tiếp công dân", "Soạn văn bản")[(n // 12) % 2]
        ledger.log_work(official, cycle_id=c.cycle_id, on=day(b), hours=(Decimal(8), Decimal(8), Decimal(4),
                        Decimal("2.5"))[n % 4], duty=duty, products=(n // 4) % 3, description=duty)
        h.logged.append((official, day(b)))
    elif kind == "void" and h.logged:
        owner, on = h.logged[a % len(h.logged)]
        ledger.void_work_log(owner, on=on, entry_no=1 + n % 2, reason="Ghi nhầm")
    elif kind == "sanction":
        measure = SanctionKind.REPRIMAND if n % 7 == 0 else SanctionKind.DEDUCTION
        h.sanctions.append(ledger.impose_sanction(
            c.admin, official_id=official.official_id, kind=measure,
            criterion="" if measure is SanctionKind.REPRIMAND else "unexcused_training_absence",
            reason="Vi phạm kỷ luật", on=day(b)))
    elif kind == "revoke" and h.sanctions:
        ledger.revoke_sanction(c.admin, sanction_id=h.sanctions[b % len(h.sanctions)], reason="Có lý do chính đáng",
                               on=day(n))
    elif kind == "conduct":
        ledger.assess_conduct(leader, official_id=official.official_id, cycle_id=c.cycle_id,
                              points=Decimal(10 + n % 6), on=day(b))
    elif kind == "report":
        ledger.report_target_result(c.monitoring, target_id=h.targets[c.cycle_id][n % 2], value=Decimal(b * 2),
                                    evidence="Báo cáo thống kê", on=day(n))
    elif kind == "reassign" and task:
        on = max(task.not_before, day(n))
        ledger.reassign_task(Actor(task.approver, "official"), task_id=task.task_id,
                             assignee_id=official.official_id, reason="Điều chỉnh phân công", on=on)
        task.assignee = official
    elif kind == "objective" and task:
        ledger.confirm_objective_cause(c.chairman, task_id=task.task_id,
                                       deduction=(Deduction.ERRORS, Deduction.DELAY)[b % 2],
                                       reason="Mất điện diện rộng", on=max(task.not_before, day(n)))
    elif kind == "transfer":
        unit = [u for x in h.communes for u in (x.economy_id, x.culture_id)][b % 4]  # maybe to the other commune
        ledger.transfer_official(c.admin, official_id=official.official_id, unit_id=unit,
                                 position=("Chuyên viên", "Chuyên viên chính")[n % 2], post_group="chuyên viên",
                                 on=day(n))
    elif kind == "relieve":
        head, unit = ((c.economy_head, c.economy_id), (c.culture_head, c.culture_id))[b % 2]
        ledger.relieve_leader(c.admin, unit_id=unit, post=Post.HEAD, official_id=head.official_id,
                              on=day(n), reason="Nghỉ hưu")
    elif kind == "close":
        ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=day(14))
    elif kind == "reopen":
        ledger.reopen_cycle(c.admin, cycle_id=c.cycle_id, reason="Quyết định giải quyết khiếu nại", on=day(14))
    elif kind == "deadlines":
        ledger.record_missed_deadlines(day(0) + timedelta(days=a % 30))
    elif kind == "catch_up":
        catch_up(ledger, h, stop=None, page=1 + n % 40, restart=b % 3 == 0)


def catch_up(ledger: Ledger, h: History, stop: int | None, page: int, restart: bool) -> None:
    """A new runner (a restarted process) warms up from the log; an old one keeps its memory."""
    if h.runner is None or restart:
        h.runner = live_runner(ledger, page=page)
    h.runner.page = page
    h.runner.catch_up(stop=stop)


def dumps(models: list[ReadModel]) -> dict[str, dict[str, list[str]]]:
    return {m.name: m.dump() for m in models}


def differences(incremental: dict[str, Any], rebuilt: dict[str, Any]) -> list[str]:
    """The rows one side has and the other lacks, per table: a readable failure."""
    out = []
    for model, tables in incremental.items():
        for table, rows in tables.items():
            other = rebuilt[model][table]
            out += [f"{model}.{table} incremental only: {r}" for r in sorted(set(rows) - set(other))]
            out += [f"{model}.{table} rebuilt only: {r}" for r in sorted(set(other) - set(rows))]
            if sorted(rows) != sorted(other) and not out:
                out.append(f"{model}.{table}: same rows, different multiplicity")
    return out


Template = tuple[list[Commune], dict[UUID, list[UUID]]]


def check_history(ledger: Ledger, template: Template, history: list[Step],
                  final: list[tuple[int, int, bool]]) -> None:
    h = History(*template)
    for step in history:
        try:
            perform(ledger, h, step)
        except LedgerError:
            pass  # refused: nothing recorded
    head = ledger.recorder.max_notification_id() or 0
    for fraction, page, restart in final:
        catch_up(ledger, h, stop=fraction * head // 999, page=page, restart=restart)
    catch_up(ledger, h, stop=None, page=1 + len(history), restart=False)
    assert h.runner is not None
    models = h.runner.models
    assert {m.name: m.position() for m in models} == {m.name: head for m in models}

    incremental, digests = dumps(models), {m.name: m.digest() for m in models}
    rebuild(ledger, page=1 + head // 3)  # from zero into shadow tables, checked, swapped in
    rebuilt = dumps(models)
    assert incremental == rebuilt, "\n".join(differences(incremental, rebuilt)[:20])
    assert digests == {m.name: m.digest() for m in models}

    store = ViewStore(ledger.recorder)
    for c in h.communes:
        fold = ledger.score_cycle(c.cycle_id)  # the one scoring fold, straight from the log
        assert queries.score_table(store, c.cycle_id) == fold
        positions = row_positions(fold)
        stored = sorted(tuple(r.values()) for r in store.query(
            "SELECT * FROM kpi_scoreboard WHERE cycle_id = ?", (str(c.cycle_id),)))
        assert stored == sorted(scoreboard_row(str(c.cycle_id), r, positions[r.official_id]) for r in fold.rows)
    logged = sum(1 for _ in ledger.read_events(topics=["domain.diary:DiaryDay.WorkLogged"]))
    assert sum(len(entries_of(r["entries"])) for r in store.query("SELECT entries FROM kpi_diary_days")) == logged


# ------------------------------------------------------------------------------ SQLite


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Template]:
    """The communes recorded once; each example starts from a copy of the file."""
    env = sqlite_env(tmp_path_factory.mktemp("template"))
    ledger = Ledger(env=env)
    recorded = record_template(ledger)
    ledger.close()
    return Path(env["SQLITE_DBNAME"]), recorded


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=steps, final=stops)
def test_incremental_projections_equal_a_rebuild_and_the_fold_on_sqlite(
    template: tuple[Path, Template], tmp_path_factory: pytest.TempPathFactory,
    history: list[Step], final: list[tuple[int, int, bool]],
) -> None:
    path, recorded = template
    copy = tmp_path_factory.mktemp("example") / "ledger.sqlite3"
    shutil.copy(path, copy)
    ledger = Ledger(env=sqlite_env(copy.parent))
    try:
        check_history(ledger, recorded, history, final)
    finally:
        ledger.close()
        shutil.rmtree(copy.parent, ignore_errors=True)


# ------------------------------------------------------------------------------ PostgreSQL


def fixed_history(seed: int, length: int = 80) -> tuple[list[Step], list[tuple[int, int, bool]]]:
    rng = random.Random(seed)
    history = [(rng.choice(KINDS), rng.randrange(1000), rng.randrange(1000), rng.randrange(1000))
               for _ in range(length)]
    final = [(rng.randrange(1000), rng.randint(1, 60), rng.random() < 0.5) for _ in range(4)]
    return history, final


@pytest.mark.postgres
def test_incremental_projections_equal_a_rebuild_and_the_fold_on_postgres(pg_env: dict[str, str]) -> None:
    history, final = fixed_history(seed=20260302)
    ledger = Ledger(env=pg_env)
    try:
        check_history(ledger, record_template(ledger), history, final)
    finally:
        ledger.close()

