"""Scoreboard and score lineage, from the one scoring fold applied incrementally.

Each open question about a score ("what is it", "why", "what changed between T1 and T2") is a
query here, never a replay at request time. The projection keeps one `CycleFold` per cycle in
memory, feeds it each page's events, and writes only the rows that changed. Every row records
the log position it reflects (the newest event behind it, so paging never changes it) and the
ids of the events that contributed.

Reading a cycle's table re-scores the whole cycle, and over a long backlog every page touches
every commune's cycle, so tables are read only once `flush_every` events have been fed since
the last read (and at the end of every catch-up, by the runner): the rows are the same, since
they do not depend on paging, but a rebuild scores each cycle a few times instead of once a page.

Routing events to the folds that need them is an optimisation only: every fold ignores events
that are not its own, so feeding every event to every fold gives the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.cycles import Cycle
from domain.discipline import ConductAssessment, Sanction
from domain.org import Official, Unit, UnitKind
from domain.policy import PolicyParams, ScoringPolicies
from domain.scoring import FOLDED_EVENTS, CycleFold, OfficialScore, ScoreTable
from domain.targets import Target
from domain.tasks import MissedApproval, Task
from projections.base import Positioned, ReadModel
from projections.store import Statement, ViewStore

# Events every cycle may need, including cycles opened later.
UNIT_EVENTS = (Unit.UnitRegistered, Unit.LeaderAppointed, Unit.LeaderRelieved)
OFFICIAL_EVENTS = (Official.OfficialEnrolled, Official.OfficialTransferred)
SHARED = (
    *UNIT_EVENTS,
    Official.OfficialEnrolled, Official.OfficialTransferred,
    Sanction.SanctionImposed, Sanction.SanctionRevoked,
    MissedApproval.ApprovalDeadlineMissed,  # counts in the cycle its deadline falls in
)
# Events that belong to one cycle, found by a field or by their aggregate's first event.
BY_CYCLE = (
    Task.TaskAssigned,
    ConductAssessment.ConductAssessmentStarted, Target.TargetSet,
)
FOLLOWING = (
    Task.TaskReassigned, Task.TaskSubmitted, Task.TaskApproved, Task.TaskReturned,
    Task.ObjectiveCauseConfirmed, ConductAssessment.ConductAssessed,
    Target.TargetResultReported, Cycle.CycleClosed, Cycle.CycleReopened,
)
# What the folds read, and the policies they are priced by: the fold's own list, so the two
# cannot drift apart.
TOPICS = tuple(get_topic(t) for t in (*FOLDED_EVENTS, ScoringPolicies.ScoringPolicyPublished))


# Events fed between table read-outs: a live runner's catch-up still ends fully written (it
# flushes at its last page), a rebuild of a province reads each table a handful of times.
LIVE_FLUSH_EVERY = 50_000
SHADOW_FLUSH_EVERY = 200_000


class Scores(ReadModel):
    name = "scores"
    tables: ClassVar[dict[str, str]] = {
        "scoreboard": (
            "cycle_id TEXT, official_id TEXT, code TEXT, full_name TEXT, job_title TEXT, "
            "unit_id TEXT, unit_name TEXT, post TEXT, post_group TEXT, task TEXT, "
            "unit_part TEXT, discipline TEXT, conduct TEXT, approval TEXT, clamp TEXT, "
            "total TEXT, rating TEXT, flags TEXT, computed_at INTEGER, event_ids TEXT, "
            "PRIMARY KEY (cycle_id, official_id)"
        ),
        "lineage": (
            "cycle_id TEXT, official_id TEXT, seq INTEGER, event_id TEXT, event_type TEXT, "
            "actor_id TEXT, actor_role TEXT, recorded_at TEXT, component TEXT, delta TEXT, "
            "running_total TEXT, note TEXT, basis_official_id TEXT, position INTEGER, "
            "PRIMARY KEY (cycle_id, official_id, seq)"
        ),
        "cycle_scores": (
            "cycle_id TEXT PRIMARY KEY, policy_version TEXT, starts_on TEXT, ends_on TEXT, "
            "digest TEXT, computed_at INTEGER"
        ),
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {
        "by_unit": ("scoreboard", "cycle_id, unit_id"),
        "by_time": ("lineage", "cycle_id, official_id, recorded_at"),
    }

    def __init__(self, store: ViewStore, *, shadow: bool = False, flush_every: int | None = None) -> None:
        """`flush_every=0` reads the touched cycles' tables every page (never defers)."""
        super().__init__(store, shadow=shadow)
        default = SHADOW_FLUSH_EVERY if shadow else LIVE_FLUSH_EVERY
        self.flush_every = default if flush_every is None else flush_every
        self.forget()

    def forget(self) -> None:
        self.touched: set[UUID] = set()  # cycles fed since the tables were last read
        self.unflushed = 0  # events fed since then
        self.folds: dict[UUID, CycleFold] = {}
        self.pinned: dict[UUID, str] = {}
        self.route: dict[UUID, UUID] = {}  # aggregate id -> cycle id
        # Shared events, kept so a cycle opened later can be given them: units go to every
        # fold; a person's events (enrolment, transfers, sanctions, missed approvals) only to
        # the folds of communes the person was ever posted to, since a roster holds nobody
        # else. Without this, every table read-out would walk a whole province's officials.
        self.unit_events: list[Any] = []
        self.commune_of_unit: dict[UUID, UUID] = {}
        self.person_events: dict[UUID, list[Any]] = {}
        self.person_communes: dict[UUID, set[UUID]] = {}
        self.sanction_owner: dict[UUID, UUID] = {}
        self.cycles_of: dict[UUID, list[UUID]] = {}  # commune -> its cycles
        self.policies: dict[str, PolicyParams] = {}
        self.current: dict[UUID, ScoreTable] = {}

    def warm_up(self, ledger: Any, up_to: int) -> None:
        if up_to:
            for event in ledger.read_events(topics=TOPICS, up_to=up_to):
                self._feed(event)
        self.current = {cycle_id: self._table(cycle_id) for cycle_id in self.folds}

    def apply(self, page: Sequence[Positioned]) -> list[Statement] | None:
        for _, event in page:
            self.touched |= self._feed(event)
        self.unflushed += len(page)
        return None if self.unflushed < self.flush_every else self.flush()

    def flush(self) -> list[Statement]:
        out: list[Statement] = []
        for cycle_id in sorted(self.touched, key=str):
            table = self._table(cycle_id)
            out.extend(self._changes(self.current.get(cycle_id), table))
            self.current[cycle_id] = table
        self.touched, self.unflushed = set(), 0
        return out

    # ------------------------------------------------------------------ routing

    def _feed(self, event: Any) -> set[UUID]:
        """Give the event to the folds that need it; return the cycles it touched."""
        if isinstance(event, ScoringPolicies.ScoringPolicyPublished):
            self.policies[event.version] = event.params
            return set()
        if isinstance(event, Cycle.CycleOpened):
            fold = CycleFold(event.originator_id)
            for earlier in self.unit_events:
                fold.apply(earlier)
            for person, communes in self.person_communes.items():
                if event.unit_id in communes:
                    for earlier in self.person_events[person]:
                        fold.apply(earlier)
            fold.apply(event)
            self.folds[event.originator_id] = fold
            self.pinned[event.originator_id] = event.policy_version
            self.cycles_of.setdefault(event.unit_id, []).append(event.originator_id)
            return {event.originator_id}
        if isinstance(event, UNIT_EVENTS):
            return self._feed_unit(event)
        if isinstance(event, SHARED):
            return self._feed_person(event)
        cycle_id: UUID | None
        if isinstance(event, BY_CYCLE):
            self.route[event.originator_id] = event.cycle_id
            cycle_id = event.cycle_id
        elif isinstance(event, (Cycle.CycleClosed, Cycle.CycleReopened)):
            cycle_id = event.originator_id
        else:
            cycle_id = self.route.get(event.originator_id)
        if cycle_id is None or cycle_id not in self.folds:
            return set()
        self.folds[cycle_id].apply(event)
        return {cycle_id}

    def _feed_unit(self, event: Any) -> set[UUID]:
        if isinstance(event, Unit.UnitRegistered):
            commune = event.originator_id if event.kind is UnitKind.COMMUNE else (
                self.commune_of_unit.get(event.parent_id) if event.parent_id else None)
            if commune is not None:
                self.commune_of_unit[event.originator_id] = commune
        self.unit_events.append(event)
        for fold in self.folds.values():
            fold.apply(event)
        commune = self.commune_of_unit.get(event.originator_id)
        return set(self.folds) if commune is None else set(self.cycles_of.get(commune, ()))

    def _feed_person(self, event: Any) -> set[UUID]:
        if isinstance(event, Sanction.SanctionImposed):
            self.sanction_owner[event.originator_id] = event.official_id
            person = event.official_id
        elif isinstance(event, Sanction.SanctionRevoked):
            person = self.sanction_owner.get(event.originator_id, event.originator_id)
        elif isinstance(event, MissedApproval.ApprovalDeadlineMissed):
            person = event.approver_id
        else:
            person = event.originator_id
        history = self.person_events.setdefault(person, [])
        history.append(event)
        communes = self.person_communes.setdefault(person, set())
        touched: set[UUID] = set()
        arriving = self.commune_of_unit.get(event.unit_id) if isinstance(event, OFFICIAL_EVENTS) else None
        if arriving is not None and arriving not in communes:
            communes.add(arriving)
            for cycle_id in self.cycles_of.get(arriving, ()):
                for earlier in history[:-1]:
                    self.folds[cycle_id].apply(earlier)
        for commune in communes:
            for cycle_id in self.cycles_of.get(commune, ()):
                self.folds[cycle_id].apply(event)
                touched.add(cycle_id)
        return touched

    def _table(self, cycle_id: UUID) -> ScoreTable:
        version = self.pinned[cycle_id]
        return self.folds[cycle_id].table(self.policies[version], version)

    # ------------------------------------------------------------------ writing

    def _changes(self, before: ScoreTable | None, after: ScoreTable) -> list[Statement]:
        cycle = str(after.cycle_id)
        old = {r.official_id: r for r in before.rows} if before else {}
        new = {r.official_id: r for r in after.rows}
        positions = row_positions(after)
        # A leader's row records the newest position behind the members' rows it derives from,
        # so it is rewritten when only that moved (a rebuild, seeing all at once, writes it so).
        was_at = row_positions(before) if before else {}
        out: list[Statement] = []
        for official_id in old.keys() - new.keys():
            out += [
                self.s("DELETE FROM {scoreboard} WHERE cycle_id = ? AND official_id = ?",
                       (cycle, str(official_id))),
                self.s("DELETE FROM {lineage} WHERE cycle_id = ? AND official_id = ?",
                       (cycle, str(official_id))),
            ]
        for official_id, row in new.items():
            if old.get(official_id) == row and was_at.get(official_id) == positions[official_id]:
                continue
            out += [
                self.s("DELETE FROM {scoreboard} WHERE cycle_id = ? AND official_id = ?",
                       (cycle, str(official_id))),
                self.s("DELETE FROM {lineage} WHERE cycle_id = ? AND official_id = ?",
                       (cycle, str(official_id))),
                self.s("INSERT INTO {scoreboard} VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       scoreboard_row(cycle, row, positions[official_id])),
            ]
            out += [self.s("INSERT INTO {lineage} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           line) for line in lineage_rows(cycle, row)]
        if before is None or before.digest() != after.digest() or before.rows != after.rows:
            out += [
                self.s("DELETE FROM {cycle_scores} WHERE cycle_id = ?", (cycle,)),
                self.s("INSERT INTO {cycle_scores} VALUES (?, ?, ?, ?, ?, ?)",
                       (cycle, after.policy_version, after.starts_on.isoformat(),
                        after.ends_on.isoformat(), after.digest(), max(positions.values(), default=0))),
            ]
        return out


def row_positions(table: ScoreTable) -> dict[UUID, int]:
    """The newest log position behind each row; a leader's unit part brings in members' rows."""
    own = {
        r.official_id: max((c.position or 0 for c in r.contributions), default=0) for r in table.rows
    }
    result = dict(own)
    for r in table.rows:
        for c in r.contributions:
            if c.basis_official_id is not None:
                result[r.official_id] = max(result[r.official_id], own.get(c.basis_official_id, 0))
    return result


def scoreboard_row(cycle: str, r: OfficialScore, position: int) -> tuple[Any, ...]:
    event_ids = sorted({c.event_id for c in r.contributions if c.event_id})
    return (
        cycle, str(r.official_id), r.code, r.full_name, r.position, str(r.unit_id), r.unit_name,
        r.post, r.post_group, str(r.task), str(r.unit), str(r.discipline), str(r.conduct),
        str(r.approval), str(r.clamp), str(r.total), r.rating.value, json.dumps(list(r.flags)),
        position, json.dumps(event_ids),
    )


def lineage_rows(cycle: str, r: OfficialScore) -> list[tuple[Any, ...]]:
    rows = []
    running = Decimal(0)
    for seq, c in enumerate(r.contributions, start=1):
        running += c.delta
        rows.append((
            cycle, str(r.official_id), seq, c.event_id, c.event_type,
            None if c.actor_id is None else str(c.actor_id), c.actor_role,
            None if c.recorded_at is None else utc_text(c.recorded_at), c.component,
            str(c.delta), str(running), c.note,
            None if c.basis_official_id is None else str(c.basis_official_id), c.position,
        ))
    return rows


def utc_text(moment: datetime) -> str:
    """Recording times as fixed-width UTC text, so "recorded between T1 and T2" is a plain
    string comparison that sorts the same on SQLite and under any PostgreSQL collation."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
