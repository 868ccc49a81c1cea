"""Which log positions a known-at replay of a cycle needs to read: the log indexed by scope.

A replay folds the log up to a position, and the fold ignores every event that is not its
cycle's; at province scale that is ~99 % of what a full scan decodes. This model writes down,
for every event the fold reads, the scopes whose replays need it, by the routing rules of
`projections.routing` (which the live scores follow in memory):
- a cycle id: the cycle's own events;
- a commune id: the events of everyone ever posted to the commune, from before the posting
  too (rows for a person's earlier events are added when the person arrives);
- a person id: all of that person's events, so a replay whose index lags behind a transfer
  into its commune can still read the newcomer's past;
- "*": units' events and policy publications;
- "cycles": every cycle's opening, so a rebuild finds the cycles to score without a scan.
So a replay of cycle C of commune U reads the positions under C, U and "*" (`replay.timetravel`).
The index says only where to look: the replay still reads and decodes the log itself.

What routing has to remember (the cycle of every task, the commune of every unit, where every
person was ever posted) is kept in two tables beside the index, not in memory, and the rows
that depend on it are made by INSERT ... SELECT: a province holds hundreds of thousands of
tasks, and a rebuild's memory must not grow with them. So the model keeps no state between
pages and needs no warm-up after a restart.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any, ClassVar
from uuid import UUID

from domain.codec import Fields, Stamped
from domain.cycles import Cycle
from domain.discipline import ConductAssessment, Sanction
from domain.org import Unit, UnitKind
from domain.persistence import LogRow, with_id
from domain.policy import ScoringPolicies
from domain.scoring import FOLDED_EVENTS
from domain.tasks import MissedApproval, Task
from projections.base import Positioned, ReadModel, topics_of
from projections.routing import BY_CYCLE, CYCLE_EVENTS, OFFICIAL_EVENTS, PERSON_EVENTS, UNIT_EVENTS
from projections.store import Statement

EVERYONE = "*"
CYCLES = "cycles"
TABLE = "kpi_log_scopes"  # the live table, which replays read
# What the folds read, and the policies they are priced by: the fold's own list, so the index,
# the scores and a replay cannot drift apart.
READS = (*FOLDED_EVENTS, ScoringPolicies.ScoringPolicyPublished)
TOPICS = topics_of(*READS)


class FiledUnderCycle(Stamped):
    """The first event of a task or a conduct assessment (most of what the index reads), as
    the stored JSON holds it: the aggregate and the cycle it names, not typed."""

    cycle_id: str


class FiledUnderOwner(Stamped):
    """A later event of a task or an assessment: filed where its first event was."""


# What the routing rules (`projections.routing`) file by the aggregate alone, read as fields.
_AS_FIELDS: dict[type, type[Fields]] = {
    Task.TaskAssigned: FiledUnderCycle, ConductAssessment.ConductAssessmentStarted: FiledUnderCycle,
    **dict.fromkeys((Task.TaskReassigned, Task.TaskSubmitted, Task.TaskApproved, Task.TaskReturned,
                     Task.ObjectiveCauseConfirmed, ConductAssessment.ConductAssessed), FiledUnderOwner),
}


def replay_scopes(cycle_id: UUID, commune_id: UUID | None) -> list[str]:
    """The scopes a replay of the cycle reads (its commune unknown: the cycle was never opened)."""
    return [str(cycle_id), EVERYONE, *(() if commune_id is None else (str(commune_id),))]


class LogScopes(ReadModel):
    name = "log_scopes"
    tables: ClassVar[dict[str, str]] = {
        "log_scopes": "scope TEXT, position INTEGER, PRIMARY KEY (scope, position)",
        # what a later event of an aggregate is filed by: a task's, assessment's or target's
        # cycle, a sanction's official, a unit's commune
        "log_scope_owners": "aggregate_id TEXT PRIMARY KEY, owner TEXT",
        # every commune each person was ever posted to
        "log_scope_postings": "person TEXT, commune TEXT, PRIMARY KEY (person, commune)",
    }
    topics = TOPICS
    reads_as: ClassVar[dict[str, type[Fields]]] = {topics_of(cls)[0]: into for cls, into in _AS_FIELDS.items()}

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        """Rows whose scope is in the event go in as they are; the rest are looked up in SQL,
        after the page's own owners and postings are in. Which rows a page adds does not depend
        on the order they go in: a person's events are filed under every commune the person
        was ever posted to, earlier ones included, so pages of any size give the same index."""
        owners: list[tuple[str, str]] = []
        owned_by_parent: list[tuple[str, str]] = []  # (unit, parent): the parent's commune
        postings: list[tuple[str, str]] = []  # (person, unit)
        rows: list[tuple[str, int]] = []
        by_owner: list[tuple[int, str]] = []  # (position, aggregate): filed under its owner
        by_postings: list[tuple[int, str]] = []  # (position, person): under the person's communes
        by_owners_postings: list[tuple[int, str]] = []  # (position, sanction): its official's communes
        for position, event in page:
            if isinstance(event, FiledUnderCycle):
                owners.append((event.originator_id, event.cycle_id))
                rows.append((event.cycle_id, position))
                continue
            if isinstance(event, FiledUnderOwner):
                by_owner.append((position, event.originator_id))
                continue
            aggregate = str(event.originator_id)
            if isinstance(event, ScoringPolicies.ScoringPolicyPublished):
                rows.append((EVERYONE, position))
            elif isinstance(event, CYCLE_EVENTS):
                rows.append((aggregate, position))
                if isinstance(event, Cycle.CycleOpened):
                    rows.append((CYCLES, position))
            elif isinstance(event, UNIT_EVENTS):
                rows.append((EVERYONE, position))
                if isinstance(event, Unit.UnitRegistered):
                    if event.kind is UnitKind.COMMUNE:
                        owners.append((aggregate, aggregate))
                    elif event.parent_id is not None:
                        owned_by_parent.append((aggregate, str(event.parent_id)))
            elif isinstance(event, BY_CYCLE):
                owners.append((aggregate, str(event.cycle_id)))
                rows.append((str(event.cycle_id), position))
            elif isinstance(event, Sanction.SanctionRevoked):
                by_owner.append((position, aggregate))
                by_owners_postings.append((position, aggregate))
            elif isinstance(event, PERSON_EVENTS):
                person = person_of(event)
                rows.append((person, position))
                by_postings.append((position, person))
                if isinstance(event, Sanction.SanctionImposed):
                    owners.append((aggregate, person))
                elif isinstance(event, OFFICIAL_EVENTS):
                    postings.append((person, str(event.unit_id)))
            else:
                by_owner.append((position, aggregate))
        return [
            Statement(sql, many=many)
            for sql, many in (
                (self.q("INSERT INTO {log_scope_owners} VALUES (?, ?)"), owners),
                # in log order, so a unit whose parent came earlier in the page finds it
                (self.q("INSERT INTO {log_scope_owners} SELECT ?, owner FROM {log_scope_owners} "
                        "WHERE aggregate_id = ?"), owned_by_parent),
                (self.q("INSERT INTO {log_scope_postings} SELECT ?, owner FROM {log_scope_owners} "
                        "WHERE aggregate_id = ? ON CONFLICT DO NOTHING"), postings),
                (self.q("INSERT INTO {log_scopes} VALUES (?, ?)"), rows),
                (self.q("INSERT INTO {log_scopes} SELECT owner, ? FROM {log_scope_owners} "
                        "WHERE aggregate_id = ?"), by_owner),
                (self.q("INSERT INTO {log_scopes} SELECT commune, ? FROM {log_scope_postings} "
                        "WHERE person = ?"), by_postings),
                (self.q("INSERT INTO {log_scopes} SELECT p.commune, ? FROM {log_scope_owners} o "
                        "JOIN {log_scope_postings} p ON p.person = o.owner WHERE o.aggregate_id = ?"),
                 by_owners_postings),
                # a newcomer brings his past: everything filed under him, under his new commune
                (self.q("INSERT INTO {log_scopes} SELECT o.owner, s.position FROM {log_scope_owners} o "
                        "JOIN {log_scopes} s ON s.scope = ? WHERE o.aggregate_id = ? ON CONFLICT DO NOTHING"),
                 postings),
            )
            if many
        ]

    def cycles(self, up_to: int) -> int:
        """The cycles opened up to `up_to`: what a rebuild's scorers share (`Scores.rescore`)."""
        found = self.store.query(
            self.q("SELECT COUNT(*) AS n FROM {log_scopes} WHERE scope = ? AND position <= ?"), (CYCLES, up_to)
        )
        return int(found[0]["n"])


def person_of(event: Any) -> str:
    if isinstance(event, Sanction.SanctionImposed):
        return str(event.official_id)
    if isinstance(event, MissedApproval.ApprovalDeadlineMissed):
        return str(event.approver_id)
    return str(event.originator_id)


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
        if postgres:
            cursor.execute(query, params)
            return [LogRow(r["notification_id"], r["originator_id"], r["originator_version"], r["topic"],
                           bytes(r["state"])) for r in cursor.fetchall()]
        raw = cursor.sqlite_cursor  # plain tuples, not the library's `sqlite3.Row`s
        raw.row_factory = None
        raw.execute(query, params)
        return [with_id(row) for row in raw.fetchall()]
