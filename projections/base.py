"""What every read model shares: its tables, its tracking name, and a page-at-a-time apply.

A read model is the library's `Projection`, but it turns a whole page of events into SQL
statements at once, because one transaction per event caps a projection at ~1,500 events/s on
PostgreSQL and a province's month is millions of events. `process_event` still works for the
library's own runner (one event, one transaction).
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.codec import Fields, fields_of
from projections.store import Statement, ViewStore

SHADOW = "__shadow"

# (notification id, decoded domain event)
Positioned = tuple[int, Any]


def topics_of(*classes: type) -> tuple[str, ...]:
    return tuple(get_topic(cls) for cls in classes)


class ReadModel(Projection[TrackingRecorder]):
    """Tables are declared as {logical name: column DDL}; SQL refers to them as {name}.

    `topics` (the library's attribute: none means every event) names what `apply` reads, and the
    runner hands a model only those. Most of a province's log is diary entries that most models
    never look at: not reading and decoding them for those models is much of a rebuild's speed.
    """

    tables: ClassVar[dict[str, str]] = {}
    decodes: ClassVar[bool] = True  # False: `apply` needs positions only, its events come as None
    # {topic: the fields `apply` reads}: those events come as `domain.codec.Fields`, not domain
    # types (`TypedMsgspecMapper.decode_fields`), for a model that only copies values to columns.
    reads_as: ClassVar[dict[str, type[Fields]]] = {}
    indexes: ClassVar[dict[str, tuple[str, str]]] = {}  # {index suffix: (logical table, columns)}

    def __init__(self, store: ViewStore, *, shadow: bool = False) -> None:
        super().__init__(store.tracking)
        self.store = store
        self.suffix = SHADOW if shadow else ""

    @property
    def tracking_name(self) -> str:
        return self.name + self.suffix

    def table(self, logical: str) -> str:
        return f"kpi_{logical}{self.suffix}"

    def q(self, sql: str) -> str:
        """SQL with {logical} table names resolved for this (live or shadow) instance; kept per
        text, since a rebuild resolves the same few statements millions of times."""
        resolved: dict[str, str] = self.__dict__.setdefault("_resolved", {})
        found = resolved.get(sql)
        if found is None:
            found = resolved[sql] = sql.format(**{name: self.table(name) for name in self.tables})
        return found

    def s(self, sql: str, params: Sequence[Any] | None = None) -> Statement:
        return Statement(self.q(sql), params)

    def create_tables(self) -> None:
        """A table made new under a recorded position (the model's tables changed in an upgrade)
        would stay empty behind it: the position goes back to zero and the model is refilled."""
        if self.store.missing(self.table(name) for name in self.tables) and self.position():
            with self.store.transaction() as cursor:
                self.store.lock_position(cursor, self.tracking_name)
                self.store.drop(cursor, self.drop_tables())
                self.store.reset_tracking(cursor, self.tracking_name, None)
        self.store.run_ddl([
            Statement(f"CREATE TABLE IF NOT EXISTS {self.table(name)} ({columns})")
            for name, columns in self.tables.items()
        ])
        if not self.suffix:  # a shadow's, once it is filled (`build_indexes`)
            self.build_indexes()

    def build_indexes(self) -> None:
        """A shadow's secondary indexes are built once it is filled, not row by row as it
        fills (nothing queries it meanwhile), by the rebuild process that filled it."""
        self.store.run_ddl(self.index_statements(self.store.indexes()))

    def index_statements(self, existing: Mapping[str, str]) -> list[Statement]:
        """The secondary indexes the tables lack, given the database's {index: table}.

        A shadow's indexes are built while the live table has its own, and keep their names
        when the shadow is renamed live (SQLite cannot rename an index). So each index has two
        names, and a table's goes by whichever was free when it was built."""
        statements = []
        for suffix, (logical, columns) in self.indexes.items():
            table = self.table(logical)
            names = [f"kpi_{logical}_{suffix}", f"kpi_{logical}_{suffix}_2"]
            if any(existing.get(name) == table for name in names):
                continue
            name = next(name for name in names if name not in existing)
            statements.append(Statement(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})"))
        return statements

    def drop_tables(self) -> list[Statement]:
        return [Statement(f"DROP TABLE IF EXISTS {self.table(name)}") for name in self.tables]

    def position(self) -> int:
        return self.store.position(self.tracking_name)

    def warm_up(self, read: Any, up_to: int) -> None:
        """Rebuild in-memory state (if any) from the log up to the tracking position."""

    def forget(self) -> None:
        """Drop in-memory state: the database moved without us (a failed page, a swap)."""

    @abstractmethod
    def apply(self, page: Sequence[Positioned]) -> list[Statement] | None:
        """The SQL that brings this model's tables up to date with `page` (and with any pages
        deferred before it), or None: absorbed into memory, the tables wait for `flush`."""

    def flush(self) -> list[Statement]:
        """The SQL for every page `apply` deferred; a model that never defers has none."""
        return []

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        into = self.reads_as.get(get_topic(type(domain_event)))
        if into is not None:
            domain_event = fields_of(domain_event, into)
        statements = self.apply([(tracking.notification_id, domain_event)])
        with self.store.transaction() as cursor:
            self.store.execute(cursor, self.flush() if statements is None else statements)
            self.store.record(cursor, self.tracking_name, tracking.notification_id)

    def dump(self) -> dict[str, list[str]]:
        """Every row of every table as canonical JSON, sorted: two views hold the same rows
        exactly when their dumps are equal (within one backend: a NUMERIC reads back as
        Decimal on PostgreSQL and as a number on SQLite)."""
        return {
            name: sorted(
                json.dumps(r, sort_keys=True, default=str)
                for r in self.store.query(f"SELECT * FROM {self.table(name)}")
            )
            for name in sorted(self.tables)
        }

    def digest(self) -> str:
        """SHA-256 over every row of every table, in key order: equal digests, equal views."""
        h = hashlib.sha256()
        for name, rows in self.dump().items():
            h.update(f"[{name}]\n".encode())
            for row in rows:
                h.update(row.encode())
                h.update(b"\n")
        return h.hexdigest()

    def count(self) -> int:
        return sum(
            int(self.store.query(f"SELECT COUNT(*) AS n FROM {self.table(name)}")[0]["n"])
            for name in self.tables
        )
