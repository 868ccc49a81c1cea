"""Which cycles need an event: the routing rules of the live scores' folds and the replay index.

`projections.scores` feeds each cycle's fold only the events routed to it, by the `Router` here;
`projections.log_scopes` writes the same rules down, in SQL, so a known-at replay reads only what
its cycle needs (and a rebuild's memory does not grow with the province). The event classes
below are the one list both follow; the property tests hold both to a fold of the whole log.
Routing only ever leaves events out, and every fold ignores events that are not its own
(`domain.scoring.CycleFold`), so what it must never leave out is:
- a cycle's own events: its opening, closing and reopening, and every event of the tasks,
  conduct assessments and targets created for it (their later events name no cycle, so the
  aggregate's first event decides);
- a person's events (enrolment, transfers, sanctions, approvals missed as the approver), for
  every commune the person was ever posted to, the ones from before the posting included: a
  cycle's roster is whoever its commune had on its dates, with their whole history;
- units' events and policy publications, for every cycle, including cycles opened later.

The router keeps a person's events, to hand a commune the person joins later.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.cycles import Cycle
from domain.discipline import ConductAssessment, Sanction
from domain.org import Official, Unit, UnitKind
from domain.policy import ScoringPolicies
from domain.targets import Target
from domain.tasks import MissedApproval, Task

UNIT_EVENTS = (Unit.UnitRegistered, Unit.LeaderAppointed, Unit.LeaderRelieved)
OFFICIAL_EVENTS = (Official.OfficialEnrolled, Official.OfficialTransferred)
PERSON_EVENTS = (
    *OFFICIAL_EVENTS,
    Sanction.SanctionImposed, Sanction.SanctionRevoked,
    MissedApproval.ApprovalDeadlineMissed,  # the approver's: counts in the cycle its deadline falls in
)
CYCLE_EVENTS = (Cycle.CycleOpened, Cycle.CycleClosed, Cycle.CycleReopened)
# The first events of aggregates that belong to one cycle, which they name.
BY_CYCLE = (Task.TaskAssigned, ConductAssessment.ConductAssessmentStarted, Target.TargetSet)


@dataclass(frozen=True)
class Route:
    """Who needs one event; at most one of `everyone`, `cycle` and `person` is set."""

    everyone: bool = False  # units' events, policies: every cycle, opened now or later
    commune: UUID | None = None  # ... a unit's event: the commune the unit lies in, if any
    cycle: UUID | None = None  # the cycle the event belongs to
    person: UUID | None = None  # whose event it is
    communes: tuple[UUID, ...] = ()  # ... every commune that person was ever posted to
    arriving: UUID | None = None  # ... the one this event first posts them to, if it does,
    earlier: tuple[Any, ...] = ()  # ... which now needs their earlier events too


class Router:
    def __init__(self) -> None:
        self.commune_of_unit: dict[UUID, UUID] = {}
        self.cycle_of: dict[UUID, UUID] = {}  # task, assessment or target -> its cycle
        self.kept: dict[UUID, list[Any]] = {}  # person -> their events, in order
        self.communes_of: dict[UUID, set[UUID]] = {}  # person -> communes ever posted to
        self.sanction_owner: dict[UUID, UUID] = {}

    def route(self, event: Any) -> Route:
        """Who needs `event` (kept, if it is a person's)."""
        if isinstance(event, ScoringPolicies.ScoringPolicyPublished):
            return Route(everyone=True)
        if isinstance(event, CYCLE_EVENTS):
            return Route(cycle=event.originator_id)
        if isinstance(event, UNIT_EVENTS):
            return self._unit(event)
        if isinstance(event, PERSON_EVENTS):
            return self._person(event)
        if isinstance(event, BY_CYCLE):
            self.cycle_of[event.originator_id] = event.cycle_id
            return Route(cycle=event.cycle_id)
        return Route(cycle=self.cycle_of.get(event.originator_id))

    def kept_for(self, commune: UUID) -> Iterator[Any]:
        """The events of everyone ever posted to `commune`, person by person:
        what a cycle of that commune opened now needs of the past."""
        for person, communes in self.communes_of.items():
            if commune in communes:
                yield from self.kept[person]

    def _unit(self, event: Any) -> Route:
        if isinstance(event, Unit.UnitRegistered):
            commune = event.originator_id if event.kind is UnitKind.COMMUNE else (
                self.commune_of_unit.get(event.parent_id) if event.parent_id else None)
            if commune is not None:
                self.commune_of_unit[event.originator_id] = commune
        return Route(everyone=True, commune=self.commune_of_unit.get(event.originator_id))

    def _person(self, event: Any) -> Route:
        if isinstance(event, Sanction.SanctionImposed):
            self.sanction_owner[event.originator_id] = event.official_id
            person = event.official_id
        elif isinstance(event, Sanction.SanctionRevoked):
            person = self.sanction_owner.get(event.originator_id, event.originator_id)
        elif isinstance(event, MissedApproval.ApprovalDeadlineMissed):
            person = event.approver_id
        else:
            person = event.originator_id
        history = self.kept.setdefault(person, [])
        history.append(event)
        communes = self.communes_of.setdefault(person, set())
        arriving = self.commune_of_unit.get(event.unit_id) if isinstance(event, OFFICIAL_EVENTS) else None
        if arriving is None or arriving in communes:
            return Route(person=person, communes=tuple(communes))
        communes.add(arriving)
        return Route(person=person, communes=tuple(communes), arriving=arriving, earlier=tuple(history[:-1]))
