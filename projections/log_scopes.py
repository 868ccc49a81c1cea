"""Which log positions a known-at replay of a cycle needs to read: the log indexed by scope.

A replay folds the log up to a position, and the fold ignores every event that is not its
cycle's; at province scale that is ~99 % of what a full scan decodes. This model writes down,
for every event the fold reads, the scopes whose replays need it (`projections.routing`, the
routing the live scores use):
- a cycle id: the cycle's own events;
- a commune id: the events of everyone ever posted to the commune, from before the posting
  too (rows for a person's earlier events are added when the person arrives);
- a person id: all of that person's events, so a replay whose index lags behind a transfer
  into its commune can still read the newcomer's past;
- "*": units' events and policy publications;
- "cycles": every cycle's opening, so a rebuild finds the cycles to score without a scan.
So a replay of cycle C of commune U reads the positions under C, U and "*" (`replay.timetravel`).
The index says only where to look: the replay still reads and decodes the log itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any, ClassVar
from uuid import UUID

from domain.cycles import Cycle
from domain.persistence import LogRow
from domain.policy import ScoringPolicies
from domain.scoring import FOLDED_EVENTS
from projections.base import Positioned, ReadModel, topics_of
from projections.routing import STATEFUL, Route, Router
from projections.store import Statement, ViewStore

EVERYONE = "*"
CYCLES = "cycles"
TABLE = "kpi_log_scopes"  # the live table, which replays read
# What the folds read, and the policies they are priced by: the fold's own list, so the index,
# the scores and a replay cannot drift apart.
READS = (*FOLDED_EVENTS, ScoringPolicies.ScoringPolicyPublished)
STATEFUL_TOPICS = topics_of(*STATEFUL)
TOPICS = topics_of(*READS)


def replay_scopes(cycle_id: UUID, commune_id: UUID | None) -> list[str]:
    """The scopes a replay of the cycle reads (its commune unknown: the cycle was never opened)."""
    return [str(cycle_id), EVERYONE, *(() if commune_id is None else (str(commune_id),))]


class LogScopes(ReadModel):
    name = "log_scopes"
    tables: ClassVar[dict[str, str]] = {
        "log_scopes": "scope TEXT, position INTEGER, PRIMARY KEY (scope, position)",
    }
    topics = topics_of(*READS)

    def __init__(self, store: ViewStore, *, shadow: bool = False) -> None:
        super().__init__(store, shadow=shadow)
        self.forget()

    def forget(self) -> None:
        self.router: Router[int] = Router()  # keeps a person's positions, never their events
        self.unread: tuple[Any, int] | None = None

    def warm_up(self, ledger: Any, up_to: int) -> None:
        """Routing what comes next needs to know who was posted where and which cycle each task
        is of, up to `up_to`: read back from the log once a new event comes, so a catch-up that
        finds nothing new (every query command's, mostly) does not read the log for it."""
        self.unread = (ledger, up_to) if up_to else None

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        if page and self.unread is not None:
            ledger, up_to = self.unread
            for event in ledger.read_events(topics=STATEFUL_TOPICS, up_to=up_to):
                self.router.route(event, event.notification_id)
            self.unread = None
        rows: list[tuple[str, int]] = []
        for position, event in page:
            if isinstance(event, READS):
                route = self.router.route(event, position)
                rows += [(scope, position) for scope in scopes(route)]
                if isinstance(event, Cycle.CycleOpened):
                    rows.append((CYCLES, position))
                if route.arriving is not None:
                    rows += [(str(route.arriving), earlier) for earlier in route.earlier]
        return [Statement(self.q("INSERT INTO {log_scopes} VALUES (?, ?)"), many=rows)] if rows else []


def scopes(route: Route[int]) -> list[str]:
    if route.everyone:
        return [EVERYONE]
    if route.person is not None:
        return [str(route.person), *map(str, route.communes)]
    return [] if route.cycle is None else [str(route.cycle)]


def indexed_rows(
    recorder: Any, scopes: Sequence[str], up_to: int, named: Collection[UUID] = (), table: str = TABLE
) -> list[LogRow]:
    """One query: the log's scoring events at the positions `table` files under `scopes`, and
    those of the `named` aggregates, up to `up_to`, in log order."""
    postgres = type(recorder).__module__.startswith("eventsourcing.postgres")
    if postgres:
        from psycopg import sql

        events = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
        query: Any = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {events} "
            "WHERE notification_id IN ("
            f"SELECT position FROM {table} WHERE scope = ANY(%s) AND position <= %s "
            "UNION SELECT notification_id FROM {events} WHERE originator_id = ANY(%s) AND notification_id <= %s"
            ") AND topic = ANY(%s) ORDER BY notification_id"
        ).format(events=events)
        params: tuple[Any, ...] = (list(scopes), up_to, list(named), up_to, list(TOPICS))
    else:
        events_table = f'"{recorder.events_table_name}"'
        query = (
            "SELECT rowid AS notification_id, originator_id, originator_version, topic, state "
            f"FROM {events_table} WHERE rowid IN ("
            f"SELECT position FROM {table} WHERE scope IN (SELECT value FROM json_each(?)) AND position <= ? "
            f"UNION SELECT rowid FROM {events_table} WHERE originator_id IN (SELECT value FROM json_each(?)) "
            "AND rowid <= ?) AND topic IN (SELECT value FROM json_each(?)) ORDER BY rowid"
        )
        params = (json.dumps(list(scopes)), up_to, json.dumps([a.hex for a in named]), up_to, json.dumps(TOPICS))
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return [
        LogRow(row["notification_id"], row["originator_id"] if postgres else UUID(row["originator_id"]),
               row["originator_version"], row["topic"], bytes(row["state"]))
        for row in rows
    ]
