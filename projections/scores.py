"""Scoreboard and score lineage, from the one scoring fold.

Each open question about a score ("what is it", "why", "what changed between T1 and T2") is a
query here, never a replay at request time. Every row records the log position it reflects
(the newest event behind it, so paging never changes it) and the ids of the events that
contributed. The rows come from the fold in two ways, which must agree row for row (the
property tests hold them to it):

- Live, incrementally: one `CycleFold` per cycle in memory, each page's events routed to the
  folds that need them (`projections.routing`; an optimisation only, since every fold ignores
  events that are not its own), and only changed rows written. Reading a cycle's table
  re-scores the whole cycle, and over a long backlog every page touches every commune's cycle,
  so tables are read only once `flush_every` events have been fed since the last read (and at
  the end of every catch-up, by the runner): the rows do not depend on paging.
- In a rebuild (`rescore`), cycle by cycle: each cycle's fold is fed the events the log-scope
  index files under it (the read a known-at replay makes), its rows written and the fold let
  go before the next, so memory holds one commune, not the province. The index was filled by
  the same routing as the live folds; the property tests hold both to a fold of the whole log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from typing import Any, ClassVar
from uuid import UUID

from domain.cycles import Cycle
from domain.policy import PolicyParams, ScoringPolicies
from domain.scoring import CycleFold, OfficialScore, ScoreTable, figures_digest
from projections.base import Positioned, ReadModel
from projections.log_scopes import CYCLES, TOPICS, LogScopes, indexed_rows, replay_scopes
from projections.routing import Route, Router
from projections.runner import Progress
from projections.store import Statement, ViewStore

# cycle id -> (the policy version it is scored by, the digest of its table)
Digests = dict[str, tuple[str, str]]


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

    topics = TOPICS

    def __init__(self, store: ViewStore, *, shadow: bool = False, flush_every: int | None = None) -> None:
        """`flush_every=0` reads the touched cycles' tables every page (never defers)."""
        super().__init__(store, shadow=shadow)
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
        self.router = Router()
        self.unit_events: list[Any] = []
        self.cycles_of: dict[UUID, list[UUID]] = {}  # commune -> its cycles
        self.policies: dict[str, PolicyParams] = {}
        self.current: dict[UUID, ScoreTable] = {}  # each cycle's table as written

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
        statements: list[Statement] = []
        for cycle_id in sorted(self.touched, key=str):
            table = self._table(cycle_id)
            statements += self._changes(self.current.get(cycle_id), table)
            self.current[cycle_id] = table
        self.touched, self.unflushed = set(), 0
        return statements

    def rescore(
        self, ledger: Any, up_to: int, progress: Progress | None = None, take: Callable[[], int] | None = None
    ) -> Digests:
        """A rebuild's fill: every cycle opened up to `up_to` folded from the events the
        log-scope index (its shadow, for a shadow; filled up to `up_to`) files under it, the cycle's rows deleted and
        written again in a transaction of its own, then the position recorded. Returns the
        fold's digests, which the rows read back must match before they are swapped in
        (`projections.rebuild.check_scores`).

        Nothing is resumed: scoring from the index is a small part of a rebuild, and a killed
        one leaves no position to trust, since each cycle is written on its own. `progress` hears
        the position of each cycle's opening once the cycle is written.

        `take` hands out the cycles' numbers (in log order) this call scores, one at a time, so
        several processes can share the cycles, each taking the next one not yet taken; the
        digests returned are of those cycles. By default it scores them all."""
        self.create_tables()
        index = LogScopes(self.store, shadow=bool(self.suffix)).table("log_scopes")
        registry = ledger.policies()
        digests: Digests = {}
        take = take or count().__next__
        mine = take()
        for number, opening in enumerate(indexed_rows(ledger.recorder, [CYCLES], up_to, table=index)):
            if number != mine:
                continue
            mine = take()
            opened = ledger.decode(opening)
            cycle_id, version = opened.originator_id, opened.policy_version
            fold = CycleFold(cycle_id)
            for row in indexed_rows(ledger.recorder, replay_scopes(cycle_id, opened.unit_id), up_to, table=index):
                fold.apply(ledger.decode(row))
            table = fold.table(registry.get(version).params, version)
            self.store.run(self._changes(None, table, whole=True))
            digests[str(cycle_id)] = (version, table.digest())
            if progress:
                progress(opening.id, up_to)
        with self.store.transaction() as cursor:
            self.store.lock_position(cursor, self.tracking_name)
            self.store.reset_tracking(cursor, self.tracking_name, up_to)
        return digests

    def stored_digests(self) -> dict[str, tuple[str, str, str]]:
        """{cycle id: (policy version, the digest stored with the rows, the digest of the rows
        themselves)}, read cycle by cycle, so what a rebuild is about to swap in can be held to
        the fold's digests."""
        found = {}
        for cycle in self.store.query(self.q("SELECT cycle_id, policy_version, digest FROM {cycle_scores}")):
            rows = self.store.query(self.q(
                "SELECT official_id, task, unit_part AS unit, discipline, conduct, approval, clamp, total, "
                "rating FROM {scoreboard} WHERE cycle_id = ?"), (cycle["cycle_id"],))
            found[cycle["cycle_id"]] = (cycle["policy_version"], cycle["digest"], figures_digest(rows))
        return found

    # ------------------------------------------------------------------ routing

    def _feed(self, event: Any) -> set[UUID]:
        """Give the event to the folds that need it (`projections.routing`); return the cycles
        it touched."""
        if isinstance(event, ScoringPolicies.ScoringPolicyPublished):
            self.policies[event.version] = event.params
            return set()
        route = self.router.route(event)
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

    def _feed_unit(self, event: Any, route: Route) -> set[UUID]:
        self.unit_events.append(event)
        for fold in self.folds.values():
            fold.apply(event)
        return set(self.folds) if route.commune is None else set(self.cycles_of.get(route.commune, ()))

    def _table(self, cycle_id: UUID) -> ScoreTable:
        version = self.pinned[cycle_id]
        return self.folds[cycle_id].table(self.policies[version], version)

    # ------------------------------------------------------------------ writing

    def _changes(self, before: ScoreTable | None, after: ScoreTable, whole: bool = False) -> list[Statement]:
        """`whole`: whatever rows the cycle has are deleted (a rebuild's, which keeps no
        `before`) and every row is written."""
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
        # rebuild keeps nothing and deletes with `whole`).
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
