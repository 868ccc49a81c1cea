"""The yardsticks every figure is measured against, on the same database in the same run.

The library's own paths (an `Application`'s `repository.get` + `save`; `select_notifications`
+ `mapper.to_domain_event`) and plain DB-API work (a SELECT over the event table,
`executemany`/COPY of the same rows, `hashlib.sha256` over the same bytes) set what the
hardware and the engine allow; the product's figures are reported as ratios to them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

SCAN_PAGE = 10_000


class Counter(Aggregate):
    """The smallest useful aggregate: one event per bump, stream kept short."""

    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Bumped")
    def bump(self, by: int) -> None:
        self.count += by


class Reference(Application[UUID]):
    """The library's application with its defaults (JSON transcoder), on the same database."""

    name = "Reference"


def reference_env(ledger_env: dict[str, str], sqlite_path: str) -> dict[str, str]:
    env = {k: v for k, v in ledger_env.items() if k.startswith(("PERSISTENCE_MODULE", "POSTGRES_"))}
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        env["SQLITE_DBNAME"] = sqlite_path  # table names are fixed on SQLite: a file of its own
    env["CREATE_TABLE"] = "y"
    return env


def get_and_save(app: Reference, n: int) -> float:
    """Seconds for `n` commands of the library's own shape: get one aggregate, one event, save."""
    counters = [Counter() for _ in range(n)]
    app.save(*counters)
    ids = [c.id for c in counters]
    started = time.perf_counter()
    for aggregate_id in ids:
        counter: Counter = app.repository.get(aggregate_id)
        counter.bump(1)
        app.save(counter)
    return time.perf_counter() - started


def is_postgres(env: dict[str, str]) -> bool:
    return env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"


def connect(env: dict[str, str]) -> Any:
    """A plain DB-API connection to the ledger's database, outside the library."""
    if is_postgres(env):
        import psycopg

        return psycopg.connect(
            dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"],
        )
    return sqlite3.connect(env["SQLITE_DBNAME"])


def events_table(env: dict[str, str]) -> str:
    return "ledger_events" if is_postgres(env) else "stored_events"


def plain_scan(env: dict[str, str], hash_rows: bool = False) -> tuple[int, float, int]:
    """(rows, seconds, bytes): every row of the event table in log order, fetched in pages.

    With `hash_rows`, each row's bytes are also hashed (SHA-256), plus one SHA-256 per interior
    node of a binary tree over them: the least any verifier of the log must do.
    """
    table = events_table(env)
    conn = connect(env)
    rows = size = 0
    started = time.perf_counter()
    try:
        if is_postgres(env):
            cursor = conn.cursor(name="bench_scan")
            cursor.itersize = SCAN_PAGE
            cursor.execute(f"SELECT notification_id, originator_id, originator_version, topic, state "
                           f"FROM {table} ORDER BY notification_id")
        else:
            cursor = conn.execute(f"SELECT rowid, originator_id, originator_version, topic, state "
                                  f"FROM {table} ORDER BY rowid")
        sha = hashlib.sha256
        leaves: list[bytes] = []
        while True:
            page = cursor.fetchmany(SCAN_PAGE)
            if not page:
                break
            rows += len(page)
            for row in page:
                state = bytes(row[4])
                size += len(state)
                if hash_rows:
                    leaves.append(sha(b"\x00" + str(row[1]).encode() + row[3].encode() + state).digest())
        if hash_rows:
            while len(leaves) > 1:
                leaves = [sha(b"\x01" + leaves[i] + leaves[i + 1]).digest() if i + 1 < len(leaves) else leaves[i]
                          for i in range(0, len(leaves), 2)]
    finally:
        conn.close()
    return rows, time.perf_counter() - started, size


def read_and_decode(app: Any, page: int = SCAN_PAGE) -> tuple[int, float]:
    """(events, seconds): the library's own read (`select_notifications`) and the app's mapper."""
    recorder, mapper = app.recorder, app.mapper
    started = time.perf_counter()
    n, start = 0, 1
    while True:
        notifications = recorder.select_notifications(start=start, limit=page)
        for notification in notifications:
            mapper.to_domain_event(notification)
        n += len(notifications)
        if len(notifications) < page:
            return n, time.perf_counter() - started
        start = notifications[-1].id + 1


def sha256_only(env: dict[str, str]) -> tuple[int, float]:
    """(bytes, seconds) of hashlib.sha256 over every stored state, already in memory."""
    conn = connect(env)
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT state FROM {events_table(env)}")
        states = [bytes(r[0]) for r in cursor.fetchall()]
    finally:
        conn.close()
    started = time.perf_counter()
    for state in states:
        hashlib.sha256(state).digest()
    return sum(map(len, states)), time.perf_counter() - started


def stored_rows(env: dict[str, str], after: int) -> list[tuple[Any, ...]]:
    """The stored rows recorded after log position `after`, as the raw-insert reference's input."""
    conn = connect(env)
    try:
        cursor = conn.cursor()
        if is_postgres(env):
            cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {events_table(env)} "
                           "WHERE notification_id > %s ORDER BY notification_id", (after,))
        else:
            cursor.execute(f"SELECT originator_id, originator_version, topic, state FROM {events_table(env)} "
                           "WHERE rowid > ? ORDER BY rowid", (after,))
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        conn.close()


def raw_insert(env: dict[str, str], rows: list[tuple[Any, ...]], copy: bool = False) -> float:
    """Seconds to insert `rows` into a fresh table shaped like the event table, one transaction,
    by `executemany` (or PostgreSQL COPY), fresh ids so the primary key is checked as usual."""
    conn = connect(env)
    table = f"bench_raw_{uuid4().hex[:8]}"
    fresh = [(uuid4() if is_postgres(env) else uuid4().hex, *r[1:]) for r in rows]
    try:
        cursor = conn.cursor()
        if is_postgres(env):
            cursor.execute(f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
                           "topic text, state bytea, notification_id bigserial, "
                           "PRIMARY KEY (originator_id, originator_version))")
            cursor.execute(f"CREATE UNIQUE INDEX {table}_nid ON {table} (notification_id)")
        else:
            cursor.execute(f"CREATE TABLE {table} (originator_id TEXT, originator_version INTEGER, topic TEXT, "
                           "state BLOB, PRIMARY KEY (originator_id, originator_version))")
        conn.commit()
        started = time.perf_counter()
        if copy:
            with cursor.copy(f"COPY {table} (originator_id, originator_version, topic, state) FROM STDIN") as c:
                for row in fresh:
                    c.write_row(row)
        else:
            ph = "%s" if is_postgres(env) else "?"
            cursor.executemany(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                               f"VALUES ({ph}, {ph}, {ph}, {ph})", fresh)
        conn.commit()
        elapsed = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {table}")
        conn.commit()
        return elapsed
    finally:
        conn.close()
