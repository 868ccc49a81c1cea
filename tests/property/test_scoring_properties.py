"""Invariants of the scoring fold over random commune histories (hypothesis).

The example budget comes from the profile loaded in tests/conftest.py.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.discipline import SanctionKind
from domain.org import Official
from domain.policy import PolicyParams
from domain.scoring import ScoreTable, score
from domain.tasks import Deduction, KpiKind
from tests.builders import STARTS_ON, Commune, tiny_commune

DAY0 = STARTS_ON


@dataclass(frozen=True)
class TaskPlan:
    kind: KpiKind
    weight: int
    target: int
    due_in: int  # days after the cycle starts
    submission: tuple[int, int] | None  # (quantity, days after the cycle starts)
    action: tuple[str, int, int] | None  # ("approve" | "return", errors, days after submission)
    resubmission: tuple[int, int] | None  # after a return: (quantity, days after the return)
    objective: tuple[Deduction, ...]


@dataclass(frozen=True)
class SanctionPlan:
    kind: SanctionKind
    points: int | None  # None: the policy's price for an unexcused training absence
    day: int
    revoked: bool


@dataclass(frozen=True)
class OfficialPlan:
    tasks: tuple[TaskPlan, ...]
    sanctions: tuple[SanctionPlan, ...]
    conduct: tuple[D, ...]
    missed_approvals: int


task_plans = st.builds(
    TaskPlan,
    kind=st.sampled_from(list(KpiKind)),
    weight=st.integers(1, 3),
    target=st.integers(1, 5),
    due_in=st.integers(0, 14),
    submission=st.none() | st.tuples(st.integers(0, 6), st.integers(0, 20)),
    action=st.none() | st.tuples(
        st.sampled_from(["approve", "return"]), st.integers(0, 5), st.integers(0, 10)
    ),
    resubmission=st.none() | st.tuples(st.integers(0, 6), st.integers(0, 10)),
    objective=st.lists(st.sampled_from(list(Deduction)), max_size=2).map(tuple),
)
sanction_plans = st.builds(
    SanctionPlan,
    kind=st.sampled_from(list(SanctionKind)),
    points=st.none() | st.integers(1, 15),
    day=st.integers(-3, 17),
    revoked=st.booleans(),
)
official_plans = st.builds(
    OfficialPlan,
    tasks=st.lists(task_plans, max_size=3).map(tuple),
    sanctions=st.lists(sanction_plans, max_size=3).map(tuple),
    conduct=st.lists(st.integers(0, 30).map(lambda n: D(n) / 2), max_size=2).map(tuple),
    missed_approvals=st.integers(0, 3),
)
# Lan, Minh, Nam, then the two heads (whose tasks the chairman approves).
commune_plans = st.lists(official_plans, min_size=5, max_size=5)
targets = st.lists(
    st.tuples(st.integers(1, 100), st.none() | st.integers(0, 150)), max_size=3
)


def build(plans: list[OfficialPlan], target_plans: list[tuple[int, int | None]]) -> Commune:
    c = tiny_commune()
    town = c.town
    people = [
        (c.lan, c.culture_head), (c.minh, c.culture_head), (c.nam, c.office_head),
        (c.culture_head, c.chairman), (c.office_head, c.chairman),
    ]
    for (official, approver), plan in zip(people, plans, strict=True):
        for i, tp in enumerate(plan.tasks):
            _play_task(c, official, approver, i, tp, plan.missed_approvals)
        for sp in plan.sanctions:
            kind = sp.kind
            criterion = "unexcused_training_absence" if sp.points is None else "late_reports"
            sanction = town.sanction(
                official, kind=kind, criterion=criterion,
                points=None if sp.points is None else D(sp.points),
                on=DAY0 + timedelta(days=sp.day),
            )
            if sp.revoked:
                town.revoke(sanction, on=DAY0 + timedelta(days=sp.day + 1))
        for points in plan.conduct:
            town.assess(official, c.cycle, points)
    for n, (value, result) in enumerate(target_plans):
        target = town.target(c.commune, c.cycle, f"Chỉ tiêu {n}", D(value))
        if result is not None:
            town.report(target, D(result))
    return c


def _play_task(
    c: Commune, official: Official, approver: Official, i: int, tp: TaskPlan, misses: int
) -> None:
    town = c.town
    task = town.task(
        c.cycle, official, approver, title=f"Việc {i}", kind=tp.kind, weight=D(tp.weight),
        target=tp.target, due_on=DAY0 + timedelta(days=tp.due_in),
    )
    if tp.submission is not None:
        quantity, day = tp.submission
        submitted_on = DAY0 + timedelta(days=day)
        town.submit(task, quantity, on=submitted_on)
        for m in range(misses if i == 0 else 0):
            town.miss(task, submitted_on + timedelta(days=7 + m))
        if tp.action is not None:
            verb, errors, after = tp.action
            acted_on = submitted_on + timedelta(days=after)
            if verb == "approve":
                town.approve(task, errors, on=acted_on)
            else:
                town.return_(task, errors, on=acted_on)
                if tp.resubmission is not None:
                    again, later = tp.resubmission
                    town.submit(task, again, on=acted_on + timedelta(days=later))
    if tp.submission is not None:  # only a submitted task carries a deduction to void, once each
        for deduction in dict.fromkeys(tp.objective):
            town.confirm_objective_cause(task, deduction, by=c.chairman)


def interleave(events: list[Any], order: list[int]) -> list[Any]:
    """Another interleaving of the same streams: each aggregate's events keep their order."""
    queues: dict[object, deque[Any]] = defaultdict(deque)
    for ev in events:
        queues[ev.originator_id].append(ev)
    streams = list(queues)
    tokens = [streams.index(ev.originator_id) for ev in events]
    reordered = [tokens[i] for i in order]
    return [queues[streams[t]].popleft() for t in reordered]


def figures(table: ScoreTable) -> list[tuple[object, ...]]:
    return [
        (r.official_id, r.task, r.unit, r.discipline, r.conduct, r.approval, r.clamp, r.total,
         r.rating)
        for r in table.rows
    ]


@given(commune_plans, targets)
def test_total_stays_within_zero_and_a_hundred_and_is_the_sum_of_its_lines(
    plans: list[OfficialPlan], target_plans: list[tuple[int, int | None]]
) -> None:
    c = build(plans, target_plans)
    for row in c.score().rows:
        assert D(0) <= row.total <= D(100)
        assert row.total == sum((x.delta for x in row.contributions), D(0))
        assert row.total == (
            row.task + row.unit + row.discipline + row.conduct + row.approval + row.clamp
        )
        assert all(x.delta == x.delta.quantize(D("0.01")) for x in row.contributions)


@given(commune_plans, targets)
def test_discipline_never_falls_below_zero(
    plans: list[OfficialPlan], target_plans: list[tuple[int, int | None]]
) -> None:
    for row in build(plans, target_plans).score().rows:
        assert D(0) <= row.discipline <= D(15)


@given(commune_plans, st.integers(0, 30), st.integers(0, 20), st.integers(0, 4))
def test_a_late_approval_never_raises_the_task_score(
    plans: list[OfficialPlan], submitted_day: int, days_late: int, who: int
) -> None:
    c = build(plans, [])
    official = [c.lan, c.minh, c.nam, c.culture_head, c.office_head][who]
    approver = c.chairman if official in (c.culture_head, c.office_head) else (
        c.office_head if official is c.nam else c.culture_head
    )
    task = c.town.task(c.cycle, official, approver, title="Việc chờ duyệt")
    submitted_on = DAY0 + timedelta(days=submitted_day)
    c.town.submit(task, 1, on=submitted_on)
    before = c.score()
    c.town.approve(task, 0, on=submitted_on + timedelta(days=days_late))
    after = c.score()
    for old, new in zip(before.rows, after.rows, strict=True):
        assert new.task <= old.task
        assert new.approval <= old.approval


@given(commune_plans, targets, st.data())
def test_interleaving_of_independent_streams_changes_no_score(
    plans: list[OfficialPlan], target_plans: list[tuple[int, int | None]], data: st.DataObject
) -> None:
    c = build(plans, target_plans)
    events = c.town.events
    order = data.draw(st.permutations(range(len(events))))
    shuffled = interleave(events, order)
    original = score(PolicyParams(), c.cycle.id, events)
    reordered = score(PolicyParams(), c.cycle.id, shuffled)
    assert figures(reordered) == figures(original)
    assert reordered.rows == original.rows  # flags and lines too
    assert reordered.digest() == original.digest()


def test_interleave_keeps_each_streams_order() -> None:
    c = tiny_commune()
    events = c.town.events
    shuffled = interleave(events, list(reversed(range(len(events)))))
    by_stream: dict[object, list[int]] = defaultdict(list)
    for ev in shuffled:
        by_stream[ev.originator_id].append(ev.originator_version)
    assert all(versions == sorted(versions) for versions in by_stream.values())
    assert sorted(map(id, shuffled)) == sorted(map(id, events))
