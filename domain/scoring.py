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
from collections.abc import Callable, Iterable
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

__all__ = ["FOLDED_EVENTS", "Contribution", "CycleFold", "OfficialScore", "Rating", "ScoreTable", "score"]


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
        """SHA-256 of the certified figures, for `CycleClosed` and inspectors (`figures_digest`).
        Worked out once per table (which never changes): a province's cycle takes ~10 ms."""
        found: str | None = self.__dict__.get("_digest")
        if found is None:
            found = figures_digest(
                {
                    "official_id": str(r.official_id), "task": r.task, "unit": r.unit,
                    "discipline": r.discipline, "conduct": r.conduct, "approval": r.approval,
                    "clamp": r.clamp, "total": r.total, "rating": r.rating.value,
                }
                for r in self.rows
            )
            object.__setattr__(self, "_digest", found)
        return found


FIGURES = ("task", "unit", "discipline", "conduct", "approval", "clamp", "total")


def figures_digest(rows: Iterable[dict[str, object]]) -> str:
    """Canonical JSON (sorted keys, no spaces, ASCII) of a list, in official-id order, of each
    row's id, components, total and rating; amounts as two-decimal strings. Names, notes and
    recording times are left out: they explain a score, they are not the score. A function of
    the figures alone, so stored rows (a rebuild's check) digest the same as the table.
    """
    figures = [
        {**row, **{name: f"{cents(Decimal(str(row[name])))}" for name in FIGURES}}
        for row in sorted(rows, key=lambda r: str(r["official_id"]))
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
        self._misses: _Store = {}  # all: a miss belongs to the cycle its deadline falls in
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
        sheet = _Sheet(policy)
        self._own_lines(opened, policy, members, sheet)
        for member in members:
            if not member.is_leader:
                sheet.settle(member)
        for head in (m for m in members if m.is_unit_head):
            unit_members = [
                m for m in members
                if m.unit_id == head.unit_id and m.official_id != head.official_id
                and not m.is_commune_leader
            ]
            scored = [(m, sheet.totals[m.official_id]) for m in unit_members]
            sheet.add(head, member_unit_lines(head.official_id, scored, opened, policy))
            sheet.reduce_unit_part(head, unit_members)
            sheet.settle(head)
        others = [m for m in members if not m.is_commune_leader]
        targets = _histories(self._targets)
        in_order = [targets[k] for k in sorted(targets, key=str)]
        for leader in (m for m in members if m.is_commune_leader):
            sheet.add(leader, target_unit_lines(leader.official_id, in_order, opened, policy))
            sheet.reduce_unit_part(leader, others)
            sheet.settle(leader)
        sheet.cap_excellent(members)
        return ScoreTable(
            cycle_id=self.cycle_id,
            policy_version=policy_version if policy_version is not None else opened.policy_version,
            starts_on=opened.starts_on,
            ends_on=opened.ends_on,
            rows=tuple(sheet.row(m) for m in members),
        )

    def _own_lines(
        self, opened: Cycle.CycleOpened, policy: PolicyParams, members: list[Member], sheet: _Sheet
    ) -> None:
        """Each official's own components: tasks, discipline, conduct, approval duty."""
        tasks = _group(self._tasks, current_assignee)
        sanctions = _group(self._sanctions, lambda h: getattr(h[0], "official_id", None))
        conduct = _group(self._conduct, lambda h: getattr(h[0], "official_id", None))
        misses = _group(self._misses, lambda h: getattr(h[0], "approver_id", None))
        for m in members:
            oid = m.official_id
            points = policy.leader_own_points if m.is_leader else policy.task_points
            sheet.add(m, task_lines(oid, points, tasks.get(oid, []), opened, policy))
            discipline, flags, failing = discipline_lines(
                oid, sanctions.get(oid, []), opened, policy
            )
            sheet.add(m, (discipline, flags))
            if failing:
                sheet.failing.add(oid)
            sheet.add(m, conduct_lines(oid, conduct.get(oid, []), opened, policy))
            missed = [
                h[0] for h in misses.get(oid, [])
                if isinstance(h[0], _MISSED) and opened.starts_on <= h[0].occurred_on <= opened.ends_on
            ]
            sheet.add(m, (approval_lines(oid, missed, policy), []))


class _Sheet:
    """The working lines of one `table()` call, filled person by person."""

    def __init__(self, policy: PolicyParams) -> None:
        self.policy = policy
        self.lines: dict[UUID, list[Contribution]] = defaultdict(list)
        self.flags: dict[UUID, list[str]] = defaultdict(list)
        self.failing: set[UUID] = set()  # a formal measure rates them "not completed"
        self.totals: dict[UUID, Decimal] = {}
        self.ratings: dict[UUID, Rating] = {}

    def add(self, member: Member, more: tuple[list[Contribution], list[str]]) -> None:
        self.lines[member.official_id].extend(more[0])
        self.flags[member.official_id].extend(more[1])

    def settle(self, member: Member) -> None:
        """Close the official's points: clamp, total and the rating before the cap."""
        oid = member.official_id
        self.lines[oid] += clamp_lines(oid, self.lines[oid])
        self.totals[oid] = total_of(self.lines[oid])
        self.ratings[oid] = rating_for(self.totals[oid], oid in self.failing, self.policy)

    def reduce_unit_part(self, leader: Member, members: Iterable[Member]) -> None:
        failed = [m for m in members if self.ratings.get(m.official_id) is Rating.NOT_COMPLETED]
        oid = leader.official_id
        self.add(leader, reduction_lines(oid, self.lines[oid], failed, self.policy))

    def cap_excellent(self, members: list[Member]) -> None:
        rated = [(m, self.totals[m.official_id], self.ratings[m.official_id]) for m in members]
        for oid, cap_line in excellent_cap(rated, self.policy).items():
            self.ratings[oid] = Rating.GOOD
            self.lines[oid].append(cap_line)
            self.flags[oid].append("capped_excellent")

    def row(self, member: Member) -> OfficialScore:
        lines = self.lines[member.official_id]
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
            rating=self.ratings[member.official_id],
            flags=tuple(dict.fromkeys(self.flags[member.official_id])),
            contributions=tuple(sorted(lines, key=_line_order)),
        )


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


# Every event class `CycleFold.apply` reads; readers may skip the rest of the log (diaries).
FOLDED_EVENTS: tuple[type, ...] = (
    Cycle.CycleOpened, Cycle.CycleClosed, Cycle.CycleReopened,
    Unit.UnitRegistered, Unit.LeaderAppointed, Unit.LeaderRelieved,
    Official.OfficialEnrolled, Official.OfficialTransferred,
    Task.TaskAssigned, Task.TaskReassigned, Task.TaskSubmitted, Task.TaskApproved, Task.TaskReturned,
    Task.ObjectiveCauseConfirmed, MissedApproval.ApprovalDeadlineMissed,
    Sanction.SanctionImposed, Sanction.SanctionRevoked,
    ConductAssessment.ConductAssessmentStarted, ConductAssessment.ConductAssessed,
    Target.TargetSet, Target.TargetResultReported,
)
