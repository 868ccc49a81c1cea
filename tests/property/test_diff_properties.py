"""Diffs of replays, under random what-ifs over Xã Tân Lập's recorded cycle.

The commune (tests/commune.py, with the tasks, sanction, assessment and target of the replay
scenario) is recorded once in memory; hypothesis then draws corrections (proposed events of
every supported kind, recorded events left out, the other policy) and compares replays.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.persistence import MAPPER_TOPIC
from domain.tasks import Deduction
from replay.diff import Figures, diff, line_key
from replay.timetravel import Replay, replay
from tests.integration.test_replay import Scenario, record_scenario

DAYS = st.integers(min_value=-3, max_value=20).map(lambda n: (date(2026, 3, 2) + timedelta(days=n)).isoformat())


@cache
def recorded() -> tuple[Ledger, Scenario]:
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "MAPPER_TOPIC": MAPPER_TOPIC})
    return ledger, record_scenario(ledger)


@cache
def base(known_at: int | None) -> Replay:
    ledger, s = recorded()
    return replay(ledger, s.commune.cycle_id, known_at=known_at)


def officials(s: Scenario) -> list[str]:
    c = s.commune
    people = [c.chairman, c.secretary, c.economy_head, *c.economy_members, c.culture_head, *c.culture_members]
    return [str(p.official_id) for p in people]


@st.composite
def what_if(draw: st.DrawFn) -> tuple[int | None, dict[str, Any]]:
    """A replay spec: when, which policy, which proposed events, which recorded ones left out."""
    _, s = recorded()
    known_at = draw(st.sampled_from([s.certified_at, None]))
    tasks = st.sampled_from([str(t) for t in (s.report_task, s.late_task, s.open_task)])
    entry = st.one_of(
        st.fixed_dictionaries({"type": st.just("SanctionRevoked"), "aggregate": st.just(str(s.sanction)),
                               "reason": st.just("khiếu nại"), "occurred_on": DAYS}),
        st.fixed_dictionaries({
            "type": st.just("SanctionImposed"), "official_id": st.sampled_from(officials(s)),
            "kind": st.sampled_from([k.value for k in SanctionKind]),
            "criterion": st.sampled_from(["unexcused_training_absence", "late_report"]),
            "points": st.integers(min_value=1, max_value=15), "reason": st.just("vi phạm"), "occurred_on": DAYS,
        }),
        st.fixed_dictionaries({"type": st.sampled_from(["TaskApproved", "TaskReturned"]), "aggregate": tasks,
                               "major_errors": st.integers(min_value=0, max_value=4), "occurred_on": DAYS}),
        st.fixed_dictionaries({"type": st.just("TaskSubmitted"), "aggregate": tasks,
                               "quantity": st.integers(min_value=0, max_value=3), "occurred_on": DAYS}),
        st.fixed_dictionaries({"type": st.just("ObjectiveCauseConfirmed"), "aggregate": tasks,
                               "deduction": st.sampled_from([d.value for d in Deduction]),
                               "reason": st.just("thiên tai"), "occurred_on": DAYS}),
        st.fixed_dictionaries({"type": st.just("ConductAssessed"), "official_id": st.sampled_from(officials(s)),
                               "points": st.integers(min_value=0, max_value=15), "occurred_on": DAYS}),
        st.fixed_dictionaries({"type": st.just("TargetResultReported"), "aggregate": st.just(str(s.target)),
                               "value": st.integers(min_value=0, max_value=150).map(str),
                               "evidence": st.just("thống kê"), "occurred_on": DAYS}),
    )
    recorded_ids = sorted({
        c.event_id for row in base(known_at).table.rows for c in row.contributions
        if c.event_id and not c.event_id.startswith(str(s.commune.cycle_id))
    })
    return known_at, {
        "policy": draw(st.sampled_from([None, "v2"])),
        "extra_events": draw(st.lists(entry, max_size=4)),
        "without": draw(st.lists(st.sampled_from(recorded_ids), max_size=2, unique=True)),
    }


def figures(r: Replay) -> dict[Any, Figures]:
    return {row.official_id: Figures.of(row) for row in r.table.rows}


@given(what_if())
def test_a_replay_differs_from_itself_in_nothing(spec: tuple[int | None, dict[str, Any]]) -> None:
    ledger, s = recorded()
    known_at, changes = spec
    b = replay(ledger, s.commune.cycle_id, known_at=known_at, **changes)
    assert diff(b, b).is_empty
    assert diff(b, replay(ledger, s.commune.cycle_id, known_at=known_at, **changes)).is_empty


@given(what_if())
def test_a_diff_names_exactly_the_officials_whose_scores_differ(spec: tuple[int | None, dict[str, Any]]) -> None:
    ledger, s = recorded()
    known_at, changes = spec
    a = base(known_at)
    b = replay(ledger, s.commune.cycle_id, known_at=known_at, **changes)
    before, after = figures(a), figures(b)
    differing = {oid for oid in before.keys() | after.keys() if before.get(oid) != after.get(oid)}

    result = diff(a, b)
    assert result.official_ids == differing
    assert diff(b, a).official_ids == differing
    rows_a = {r.official_id: r for r in a.table.rows}
    rows_b = {r.official_id: r for r in b.table.rows}
    for change in result.changes:
        assert change.before == before.get(change.official_id)
        assert change.after == after.get(change.official_id)
        # The lines explain the difference to the cent, and come from the side they claim.
        moved = sum((c.delta for c in change.added), Decimal(0)) - sum((c.delta for c in change.removed), Decimal(0))
        assert moved == change.delta
        old = Counter(line_key(c) for c in rows_a[change.official_id].contributions) \
            if change.official_id in rows_a else Counter()
        new = Counter(line_key(c) for c in rows_b[change.official_id].contributions) \
            if change.official_id in rows_b else Counter()
        assert Counter(line_key(c) for c in change.removed) == old - new
        assert Counter(line_key(c) for c in change.added) == new - old
