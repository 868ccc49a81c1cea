"""Scoreboard and score lineage, from the one scoring fold applied incrementally.

Each open question about a score ("what is it", "why", "what changed between T1 and T2") is a
query here, never a replay at request time. The projection keeps one `CycleFold` per cycle in
memory, feeds it each page's events, and writes only the rows that changed. Every row records
the log position it reflects (the newest event behind it, so paging never changes it) and the
ids of the events that contributed.

Reading a cycle's table re-scores the whole cycle, and over a long backlog every page touches
every commune's cycle, so tables are read only once `flush_every` events have been fed since
the last read (and at the end of every catch-up, by the runner): the rows are the same, since
they do not depend on paging, but a live catch-up scores each cycle a few times instead of once
a page. A shadow (a rebuild) reads each table once, at the end of its catch-up, and keeps no
table after writing it: holding every cycle's table and rows at once was most of a rebuild's
memory.

Routing events to the folds that need them is an optimisation only: every fold ignores events
that are not its own, so feeding every event to every fold gives the same tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.cycles import Cycle
from domain.policy import PolicyParams, ScoringPolicies
from domain.scoring import FOLDED_EVENTS, CycleFold, OfficialScore, ScoreTable
from projections.base import Positioned, ReadModel, topics_of
from projections.routing import Route, Router
from projections.store import Statement, ViewStore

# What the folds read, and the policies they are priced by: the fold's own list, so the two
# cannot drift apart.
READS = (*FOLDED_EVENTS, ScoringPolicies.ScoringPolicyPublished)
TOPICS = tuple(get_topic(t) for t in READS)


# Events fed between a live model's table read-outs: its catch-up still ends fully written (it
# flushes at its last page).
LIVE_FLUSH_EVERY = 50_000


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

    topics = topics_of(*READS)

    def __init__(self, store: ViewStore, *, shadow: bool = False, flush_every: int | None = None) -> None:
        """`flush_every=0` reads the touched cycles' tables every page (never defers). A shadow
        ignores it: nothing reads a shadow's rows before the swap, so it reads each table once,
        at the end of its catch-up (the runner's final flush)."""
        super().__init__(store, shadow=shadow)
        self.shadow = shadow
        self.flush_every = LIVE_FLUSH_EVERY if flush_every is None else flush_every
        self.forget()

    def forget(self) -> None:
        self.touched: set[UUID] = set()  # cycles fed since the tables were last read
        self.unflushed = 0  # events fed since then
        self.folds: dict[UUID, CycleFold] = {}
        self.pinned: dict[UUID, str] = {}
        # Shared events, kept so a cycle opened later can be given them: units go to every
        # fold; a person's events (enrolment, transfers, sanctions, missed approvals; the
        # router keeps them) only to the folds of communes the person was ever posted to, since
        # a roster holds nobody else. Without this, every table read-out would walk a whole
        # province's officials.
        self.router: Router[Any] = Router()
        self.unit_events: list[Any] = []
        self.cycles_of: dict[UUID, list[UUID]] = {}  # commune -> its cycles
        self.policies: dict[str, PolicyParams] = {}
        self.current: dict[UUID, ScoreTable] = {}  # each cycle's table as written (live only)

    def warm_up(self, ledger: Any, up_to: int) -> None:
        if up_to:
            for event in ledger.read_events(topics=TOPICS, up_to=up_to):
                self._feed(event)
        if not self.shadow:
            self.current = {cycle_id: self._table(cycle_id) for cycle_id in self.folds}

    def apply(self, page: Sequence[Positioned]) -> list[Statement] | None:
        for _, event in page:
            self.touched |= self._feed(event)
        self.unflushed += len(page)
        if self.shadow or self.unflushed < self.flush_every:
            return None
        return list(self.flush())

    def flush(self) -> Iterable[Statement]:
        """A live model's statements as a list, worked out before the runner opens the page's
        transaction. A shadow's come from a generator that scores one cycle, yields its rows
        and lets them go before scoring the next, so a province's tables and rows are never
        all in memory. The runner's transaction consumes it, so the scoring runs inside it:
        PostgreSQL ends a session idle in a transaction for 5 s (the library's default
        idle_in_transaction_session_timeout), and what runs between two statements is one
        cycle's scoring, ~0.1-0.5 s for a 400-official commune. On SQLite the write lock is
        held meanwhile, so other writers wait for the whole province's scoring.

        A shadow keeps no table to diff against, so it deletes a cycle's rows and writes them
        all: there are none unless an earlier catch-up (this runner's, or a killed rebuild's)
        wrote them. Which cycles are written, and the reset of what was fed, are settled here
        and not in the generator, so an apply or flush made before it is consumed sees a
        clean state."""
        cycles = sorted(self.touched, key=str)
        self.touched, self.unflushed = set(), 0
        statements = self._written(cycles)
        return statements if self.shadow else list(statements)

    def _written(self, cycles: list[UUID]) -> Iterator[Statement]:
        for cycle_id in cycles:
            table = self._table(cycle_id)
            yield from self._changes(self.current.get(cycle_id), table, whole=self.shadow)
            if not self.shadow:
                self.current[cycle_id] = table
            del table  # not held while the next cycle is scored

    # ------------------------------------------------------------------ routing

    def _feed(self, event: Any) -> set[UUID]:
        """Give the event to the folds that need it (`projections.routing`); return the cycles
        it touched."""
        if isinstance(event, ScoringPolicies.ScoringPolicyPublished):
            self.policies[event.version] = event.params
            return set()
        route = self.router.route(event, event)
        if isinstance(event, Cycle.CycleOpened):
            return self._open(event)
        if route.everyone:
            return self._feed_unit(event, route)
        touched: set[UUID] = set()
        if route.arriving is not None:
            for cycle_id in self.cycles_of.get(route.arriving, ()):
                for earlier in route.earlier:
                    self.folds[cycle_id].apply(earlier)
        for commune in route.communes:
            for cycle_id in self.cycles_of.get(commune, ()):
                self.folds[cycle_id].apply(event)
                touched.add(cycle_id)
        if route.cycle is not None and route.cycle in self.folds:
            self.folds[route.cycle].apply(event)
            touched.add(route.cycle)
        return touched

    def _open(self, event: Cycle.CycleOpened) -> set[UUID]:
        fold = CycleFold(event.originator_id)
        for earlier in self.unit_events:
            fold.apply(earlier)
        for earlier in self.router.kept_for(event.unit_id):
            fold.apply(earlier)
        fold.apply(event)
        self.folds[event.originator_id] = fold
        self.pinned[event.originator_id] = event.policy_version
        self.cycles_of.setdefault(event.unit_id, []).append(event.originator_id)
        return {event.originator_id}

    def _feed_unit(self, event: Any, route: Route[Any]) -> set[UUID]:
        self.unit_events.append(event)
        for fold in self.folds.values():
            fold.apply(event)
        return set(self.folds) if route.commune is None else set(self.cycles_of.get(route.commune, ()))

    def _table(self, cycle_id: UUID) -> ScoreTable:
        version = self.pinned[cycle_id]
        return self.folds[cycle_id].table(self.policies[version], version)

    # ------------------------------------------------------------------ writing

    def _changes(self, before: ScoreTable | None, after: ScoreTable, whole: bool = False) -> list[Statement]:
        """`whole`: whatever rows the cycle has are deleted (`before` was not kept) and every
        row is written."""
        cycle = str(after.cycle_id)
        old = {r.official_id: r for r in before.rows} if before else {}
        new = {r.official_id: r for r in after.rows}
        positions = row_positions(after)
        # A leader's row records the newest position behind the members' rows it derives from,
        # so it is rewritten when only that moved (a rebuild, seeing all at once, writes it so).
        was_at = row_positions(before) if before else {}
        changed = [
            (official_id, row) for official_id, row in new.items()
            if old.get(official_id) != row or was_at.get(official_id) != positions[official_id]
        ]
        # Deletes, then inserts, each as one many-row statement (COPY on PostgreSQL): a
        # province's cycle is tens of thousands of rows. A cycle never read out before has no
        # rows to delete (its rows are written only here, and `current` holds what was; a
        # shadow keeps nothing and deletes with `whole`).
        stale = [(cycle, str(i)) for i in [*(old.keys() - new.keys()), *(i for i, _ in changed)]]
        out: list[Statement] = []
        if whole:
            out += [self.s("DELETE FROM {scoreboard} WHERE cycle_id = ?", (cycle,)),
                    self.s("DELETE FROM {lineage} WHERE cycle_id = ?", (cycle,))]
        if before is not None and stale:
            out += [
                Statement(self.q("DELETE FROM {scoreboard} WHERE cycle_id = ? AND official_id = ?"), many=stale),
                Statement(self.q("DELETE FROM {lineage} WHERE cycle_id = ? AND official_id = ?"), many=stale),
            ]
        if changed:
            out += [
                Statement(self.q("INSERT INTO {scoreboard} VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                          many=[scoreboard_row(cycle, row, positions[i]) for i, row in changed]),
                Statement(self.q("INSERT INTO {lineage} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                          many=[line for _, row in changed for line in lineage_rows(cycle, row)]),
            ]
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
