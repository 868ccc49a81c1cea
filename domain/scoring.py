"""The one scoring fold: every score in the product comes from here.

Live projections, replays "as known at" a position and what-ifs under another policy all fold
events through `CycleFold` (or `score`), so there is no second implementation to drift
(DESIGN "Scoring policy v1"). Pure: no I/O, no clock; the policy is an argument.

`apply()` only files each event under its aggregate, in version order; `table()` computes
everything from those per-aggregate histories. That is what makes a score independent of how the
streams of different aggregates happen to interleave in the log.

Rules live next door: `scoring_roster` (who is scored, who leads), `scoring_tasks` (task
results), `scoring_rules` (discipline, conduct, approval duty, unit part, clamp, rating, cap),
`score_lines` (the `Contribution` line and the `Rating`).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.cycles import Cycle
from domain.discipline import ConductAssessment, Sanction
from domain.errors import NotFound
from domain.org import Official, Unit
from domain.policy import PolicyParams
from domain.score_lines import (
    APPROVAL,
    CLAMP,
    CONDUCT,
    DISCIPLINE,
    TASK,
    UNIT,
    Contribution,
    Rating,
    cents,
    total_of,
)
from domain.scoring_roster import History, Member, roster
from domain.scoring_rules import (
    approval_lines,
    clamp_lines,
    conduct_lines,
    discipline_lines,
    excellent_cap,
    member_unit_lines,
    rating_for,
    reduction_lines,
    target_unit_lines,
)
from domain.scoring_tasks import current_assignee, task_lines
from domain.targets import Target
from domain.tasks import MissedApproval, Task

__all__ = ["Contribution", "CycleFold", "OfficialScore", "Rating", "ScoreTable", "score"]


@dataclass(frozen=True)
class OfficialScore:
    official_id: UUID
    code: str
    full_name: str
    position: str
    unit_id: UUID
    unit_name: str
    post_group: str
    post: str | None  # "chairman" / "secretary" / "head", held on the cycle's last day
    task: Decimal
    unit: Decimal
    discipline: Decimal
    conduct: Decimal
    approval: Decimal
    clamp: Decimal
    total: Decimal
    rating: Rating
    flags: tuple[str, ...]
    contributions: tuple[Contribution, ...]

    @property
    def is_leader(self) -> bool:
        return self.post is not None


@dataclass(frozen=True)
class ScoreTable:
    """One cycle's scores. Rows are sorted by (unit name, leaders first, full name, id)."""

    cycle_id: UUID
    policy_version: str
    starts_on: date
    ends_on: date
    rows: tuple[OfficialScore, ...]

    def row(self, official_id: UUID) -> OfficialScore:
        for row in self.rows:
            if row.official_id == official_id:
                return row
        raise NotFound("official_id", f"official {official_id} is not scored in this cycle")

    def digest(self) -> str:
        """SHA-256 of the certified figures, for `CycleClosed` and inspectors.

        Canonical JSON (sorted keys, no spaces, ASCII) of a list, in official-id order, of each
        row's id, components, total and rating; amounts as two-decimal strings. Names, notes and
        recording times are left out: they explain a score, they are not the score.
        """
        figures = [
            {
                "official_id": str(r.official_id),
                "task": f"{cents(r.task)}",
                "unit": f"{cents(r.unit)}",
                "discipline": f"{cents(r.discipline)}",
                "conduct": f"{cents(r.conduct)}",
                "approval": f"{cents(r.approval)}",
                "clamp": f"{cents(r.clamp)}",
                "total": f"{cents(r.total)}",
                "rating": r.rating.value,
            }
            for r in sorted(self.rows, key=lambda r: str(r.official_id))
        ]
        text = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()


_Store = dict[UUID, dict[int, Aggregate.Event]]


class CycleFold:
    """State folded from events; apply() is the evolve step, table() the pure read-out."""

    def __init__(self, cycle_id: UUID) -> None:
        self.cycle_id = cycle_id
        self._opened: Cycle.CycleOpened | None = None
        self._units: _Store = {}
        self._officials: _Store = {}
        self._tasks: _Store = {}  # tasks of this cycle only
        self._misses: _Store = {}  # missed approvals of this cycle only
        self._sanctions: _Store = {}  # all: the period is known only once the cycle is
        self._conduct: _Store = {}  # assessments for this cycle only
        self._targets: _Store = {}  # targets of this cycle only

    def apply(self, event: object) -> None:
        """File a ledger event under its aggregate; anything irrelevant is ignored.

        Later events of a task, sanction, assessment or target are kept only when their
        aggregate's creation was (its events come in version order), which is how other
        cycles' streams are left out.
        """
        if isinstance(event, Cycle.CycleOpened):
            if event.originator_id == self.cycle_id:
                self._opened = event
        elif isinstance(event, Unit.UnitRegistered | Unit.LeaderAppointed | Unit.LeaderRelieved):
            _file(self._units, event)
        elif isinstance(event, Official.OfficialEnrolled | Official.OfficialTransferred):
            _file(self._officials, event)
        elif isinstance(event, Task.TaskAssigned):
            if event.cycle_id == self.cycle_id:
                _file(self._tasks, event)
        elif isinstance(event, _TASK_LIFE):
            _file(self._tasks, event, only_known=True)
        elif isinstance(event, MissedApproval.ApprovalDeadlineMissed):
            if event.cycle_id == self.cycle_id:
                _file(self._misses, event)
        elif isinstance(event, Sanction.SanctionImposed):
            _file(self._sanctions, event)
        elif isinstance(event, Sanction.SanctionRevoked):
            _file(self._sanctions, event, only_known=True)
        elif isinstance(event, ConductAssessment.ConductAssessmentStarted):
            if event.cycle_id == self.cycle_id:
                _file(self._conduct, event)
        elif isinstance(event, ConductAssessment.ConductAssessed):
            _file(self._conduct, event, only_known=True)
        elif isinstance(event, Target.TargetSet):
            if event.cycle_id == self.cycle_id:
                _file(self._targets, event)
        elif isinstance(event, Target.TargetResultReported):
            _file(self._targets, event, only_known=True)

    def table(self, policy: PolicyParams, policy_version: str | None = None) -> ScoreTable:
        """Score every official of the cycle under `policy`.

        Order matters only between people: members are settled before the heads whose unit part
        is their mean, heads before the chairman and secretary (whose unit part is halved when
        any other official of the commune is "not completed"); the excellent cap comes last.
        """
        opened = self._opened
        if opened is None:
            raise NotFound("cycle_id", f"cycle {self.cycle_id} has not been opened")
        members = sorted(
            roster(opened, _histories(self._units), _histories(self._officials)), key=_row_order
        )
        lines: dict[UUID, list[Contribution]] = {m.official_id: [] for m in members}
        flags: dict[UUID, list[str]] = {m.official_id: [] for m in members}
        failing: set[UUID] = set()
        self._own_lines(opened, policy, members, lines, flags, failing)

        totals: dict[UUID, Decimal] = {}
        ratings: dict[UUID, Rating] = {}

        def settle(member: Member) -> None:
            own = lines[member.official_id]
            own += clamp_lines(member.official_id, own)
            totals[member.official_id] = total_of(own)
            ratings[member.official_id] = rating_for(
                totals[member.official_id], member.official_id in failing, policy
            )

        def add(member: Member, more: tuple[list[Contribution], list[str]]) -> None:
            lines[member.official_id].extend(more[0])
            flags[member.official_id].extend(more[1])

        for member in members:
            if not member.is_leader:
                settle(member)
        for head in (m for m in members if m.is_unit_head):
            unit_members = [
                m for m in members
                if m.unit_id == head.unit_id and m.official_id != head.official_id
                and not m.is_commune_leader
            ]
            add(head, member_unit_lines(
                head.official_id, [(m, totals[m.official_id]) for m in unit_members], opened, policy
            ))
            add(head, reduction_lines(
                head.official_id, lines[head.official_id], _not_completed(unit_members, ratings),
                policy,
            ))
            settle(head)
        others = [m for m in members if not m.is_commune_leader]
        targets = _histories(self._targets)
        for leader in (m for m in members if m.is_commune_leader):
            add(leader, target_unit_lines(
                leader.official_id, [targets[k] for k in sorted(targets, key=str)], opened, policy
            ))
            add(leader, reduction_lines(
                leader.official_id, lines[leader.official_id], _not_completed(others, ratings),
                policy,
            ))
            settle(leader)

        capped = excellent_cap(
            [(m, totals[m.official_id], ratings[m.official_id]) for m in members], policy
        )
        for official_id, cap_line in capped.items():
            ratings[official_id] = Rating.GOOD
            lines[official_id].append(cap_line)
            flags[official_id].append("capped_excellent")
        rows = tuple(
            _row(m, lines[m.official_id], flags[m.official_id], ratings[m.official_id])
            for m in members
        )
        return ScoreTable(
            cycle_id=self.cycle_id,
            policy_version=policy_version if policy_version is not None else opened.policy_version,
            starts_on=opened.starts_on,
            ends_on=opened.ends_on,
            rows=rows,
        )

    def _own_lines(
        self,
        opened: Cycle.CycleOpened,
        policy: PolicyParams,
        members: list[Member],
        lines: dict[UUID, list[Contribution]],
        flags: dict[UUID, list[str]],
        failing: set[UUID],
    ) -> None:
        """Each official's own components: tasks, discipline, conduct, approval duty."""
        tasks = _group(self._tasks, current_assignee)
        sanctions = _group(self._sanctions, lambda h: getattr(h[0], "official_id", None))
        conduct = _group(self._conduct, lambda h: getattr(h[0], "official_id", None))
        misses = _group(self._misses, lambda h: getattr(h[0], "approver_id", None))
        for m in members:
            oid = m.official_id
            points = policy.leader_own_points if m.is_leader else policy.task_points
            task, task_flags = task_lines(oid, points, tasks.get(oid, []), opened, policy)
            discipline, discipline_flags, is_failing = discipline_lines(
                oid, sanctions.get(oid, []), opened, policy
            )
            behaviour, conduct_flags = conduct_lines(oid, conduct.get(oid, []), opened, policy)
            approvals = approval_lines(
                oid,
                [h[0] for h in misses.get(oid, []) if isinstance(h[0], _MISSED)],
                policy,
            )
            lines[oid] += task + discipline + behaviour + approvals
            flags[oid] += task_flags + discipline_flags + conduct_flags
            if is_failing:
                failing.add(oid)


def score(
    policy: PolicyParams,
    cycle_id: UUID,
    events: Iterable[object],
    policy_version: str | None = None,
) -> ScoreTable:
    """Fold all `events` for `cycle_id`, then read the table out under `policy`."""
    fold = CycleFold(cycle_id)
    for event in events:
        fold.apply(event)
    return fold.table(policy, policy_version)


_TASK_LIFE = (
    Task.TaskReassigned,
    Task.TaskSubmitted,
    Task.TaskApproved,
    Task.TaskReturned,
    Task.ObjectiveCauseConfirmed,
)
_MISSED = MissedApproval.ApprovalDeadlineMissed


def _file(store: _Store, event: Aggregate.Event, only_known: bool = False) -> None:
    """Keep the event by (aggregate, version): a redelivered event replaces itself."""
    if only_known and event.originator_id not in store:
        return
    store.setdefault(event.originator_id, {})[event.originator_version] = event


def _histories(store: _Store) -> dict[UUID, History]:
    return {key: [by_version[v] for v in sorted(by_version)] for key, by_version in store.items()}


def _group(store: _Store, key_of: Callable[[History], object]) -> dict[UUID, list[History]]:
    """Histories grouped by an official, in aggregate-id order (so lines come out the same
    whatever order the aggregates were first seen in)."""
    grouped: dict[UUID, list[History]] = defaultdict(list)
    histories = _histories(store)
    for aggregate_id in sorted(histories, key=str):
        history = histories[aggregate_id]
        official = key_of(history)
        if isinstance(official, UUID):
            grouped[official].append(history)
    return grouped


def _not_completed(members: Iterable[Member], ratings: Mapping[UUID, Rating]) -> list[Member]:
    return [m for m in members if ratings.get(m.official_id) is Rating.NOT_COMPLETED]


def _row_order(member: Member) -> tuple[str, int, str, str]:
    """Unit name, leaders first, full name, then id: stable whatever the event order."""
    leaders_first = 0 if member.is_leader else 1
    return (member.unit_name, leaders_first, member.full_name, str(member.official_id))


def _line_order(c: Contribution) -> tuple[int, datetime | None, str, int]:
    """Event lines by recording time (then event id); derived lines after them, as produced.

    (A stable sort keeps the lines of one event, and the derived lines, in production order.)
    """
    if c.event_id is None or c.recorded_at is None:
        return (1, None, "", 0)
    aggregate, _, version = c.event_id.rpartition(":")
    return (0, c.recorded_at, aggregate, int(version))


def _row(
    member: Member, lines: list[Contribution], flags: list[str], rating: Rating
) -> OfficialScore:
    ordered = tuple(sorted(lines, key=_line_order))
    return OfficialScore(
        official_id=member.official_id,
        code=member.code,
        full_name=member.full_name,
        position=member.position,
        unit_id=member.unit_id,
        unit_name=member.unit_name,
        post_group=member.post_group,
        post=member.post.value if member.post is not None else None,
        task=total_of(lines, TASK),
        unit=total_of(lines, UNIT),
        discipline=total_of(lines, DISCIPLINE),
        conduct=total_of(lines, CONDUCT),
        approval=total_of(lines, APPROVAL),
        clamp=total_of(lines, CLAMP),
        total=total_of(lines),
        rating=rating,
        flags=tuple(dict.fromkeys(flags)),
        contributions=ordered,
    )
