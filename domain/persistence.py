"""Where the ledger is stored, in which format, and the guard that keeps stored events immutable.

`ledger_env` turns one `DATABASE_URL` (what operators and platforms hand out) into the
`eventsourcing` library's own variables, so the rest of the code never parses URLs, and pins the
stored event format (`domain.codec`), which must not vary between deployments.

The library itself never updates or deletes stored events but does nothing to stop anyone else
from doing so; a score that decides careers needs the database to refuse. `protect_event_tables`
installs triggers that abort UPDATE and DELETE (and TRUNCATE on PostgreSQL). Triggers stop
mistakes and ordinary roles; the table *owner* can still disable them or drop the table, so in
production the application must connect as a role that does not own the event table and has had
UPDATE, DELETE and TRUNCATE revoked (`revoke_statements`). The Merkle checkpoints in `replay/`
detect whatever gets past both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast
from urllib.parse import unquote, urlsplit
from uuid import UUID

MAPPER_TOPIC = "domain.codec:TypedMsgspecMapper"
DEFAULT_SQLITE_PATH = "./kpi-ledger.sqlite3"
IMMUTABLE_MESSAGE = "stored events are immutable"

# Library settings passed through from the environment (connection tuning, cipher, ...).
_LIBRARY_PREFIXES = (
    "PERSISTENCE_MODULE",
    "POSTGRES_",
    "SQLITE_",
    "CREATE_TABLE",
    "CIPHER_",
    "COMPRESSOR_TOPIC",
    "SINGLE_ROW_TRACKING",
    "ORIGINATOR_ID_TYPE",
)
_PG_FUNCTION = "kpi_refuse_stored_event_change"


def ledger_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `env` for `Ledger(env=...)`, from `environ` (default: `os.environ`).

    Precedence: `DATABASE_URL`; else the library's own `PERSISTENCE_MODULE` and friends; else
    a SQLite file at `KPI_LEDGER_DB` or `./kpi-ledger.sqlite3`, so a fresh machine needs nothing.
    """
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k.startswith(_LIBRARY_PREFIXES)}
    url = source.get("DATABASE_URL", "").strip()
    if url:
        env.update(_from_database_url(url))
    elif not env.get("PERSISTENCE_MODULE"):
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
        env["SQLITE_DBNAME"] = source.get("KPI_LEDGER_DB") or DEFAULT_SQLITE_PATH
    env["MAPPER_TOPIC"] = MAPPER_TOPIC
    # Respected if set: a production role without CREATE on the schema must say CREATE_TABLE=n.
    env.setdefault("CREATE_TABLE", "y")
    return env


def _from_database_url(url: str) -> dict[str, str]:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ValueError("DATABASE_URL 'sqlite:///' names no file: use sqlite:///path/to/file")
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if not url.startswith(("postgresql://", "postgres://")):
        scheme = url.split(":", 1)[0] if ":" in url else url
        msg = (
            f"DATABASE_URL has unsupported scheme {scheme!r}: "
            "use postgresql://user[:password]@host[:port]/dbname or sqlite:///path"
        )
        raise ValueError(msg)

    parts = urlsplit(url)
    if parts.query or parts.fragment:
        # Silently dropping e.g. sslmode=require would weaken the connection without saying so.
        msg = (
            "DATABASE_URL query parameters are not supported "
            f"({parts.query or parts.fragment!r}); set POSTGRES_* variables instead"
        )
        raise ValueError(msg)
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"DATABASE_URL has an invalid port: {e}") from e
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ValueError("DATABASE_URL names no database: postgresql://user@host:5432/dbname")
    if not parts.username:
        raise ValueError("DATABASE_URL names no user: postgresql://user@host:5432/dbname")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": unquote(parts.hostname or ""),  # empty: libpq's default socket
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username),
        # The library refuses a missing password; empty means "none" (trust, peer, .pgpass).
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }


class LogRow(NamedTuple):
    """One stored event as the log holds it; `Ledger.decode` takes it as it takes a library
    `Notification` (same attribute names)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


# LogRow's fields as a plain tuple, the originator id as the database gives it (SQLite's text).
RawRow = tuple[int, Any, int, str, bytes]


def log_rows(
    recorder: Any, start: int, stop: int, limit: int, topics: Sequence[str] = ()
) -> list[LogRow]:
    """Up to `limit` log entries with ids in [start, stop], of `topics` (all when empty)."""
    return [with_id(row) for row in raw_log_rows(recorder, start, stop, limit, topics)]


def raw_log_rows(recorder: Any, start: int, stop: int, limit: int, topics: Sequence[str] = ()) -> list[RawRow]:
    """`log_rows` as the database gives them, for a reader that looks at most rows' state alone
    (a rebuild's diary): on SQLite, parsing every originator id cost as much as the rest of
    reading a diary entry, and a named tuple per row or the library's `sqlite3.Row` a third as
    much again.

    The library's `select_notifications` reads the same rows; this skips its per-row
    dictionaries and object building, which cost more than decoding the event. (An in-memory
    recorder, in tests, is read through the library.)
    """
    kind = type(recorder).__module__
    if kind not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        found = recorder.select_notifications(start=start, limit=limit, stop=stop, topics=topics)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in found]
    where = "{id} >= ? AND {id} <= ?"
    params: list[Any] = [start, stop]
    if topics:
        where += f" AND topic IN ({', '.join('?' * len(topics))})"
        params += list(topics)
    params.append(limit)
    table = recorder.events_table_name
    if kind == "eventsourcing.postgres":
        from psycopg.rows import tuple_row

        sql = (
            f"SELECT notification_id, originator_id, originator_version, topic, state FROM "
            f"{recorder.datastore.schema}.{table} WHERE {where.format(id='notification_id')} "
            "ORDER BY notification_id LIMIT ?"
        ).replace("?", "%s")
        with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(sql, params, prepare=True, binary=True)  # bytea as bytes, not hex text
            return [(i, o, v, t, bytes(s)) for i, o, v, t, s in cursor.fetchall()]
    sql = (
        f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
        f"WHERE {where.format(id='rowid')} ORDER BY rowid LIMIT ?"
    )
    with recorder.datastore.transaction(commit=False) as cursor:
        raw = cursor.sqlite_cursor  # the library's connections make `sqlite3.Row`s
        raw.row_factory = None
        raw.execute(sql, params)
        rows: list[RawRow] = raw.fetchall()
        return rows


def with_id(row: RawRow) -> LogRow:
    """A raw row as a `LogRow`, its originator id parsed (for a typed decode)."""
    i, originator_id, version, topic, state = row
    return LogRow(i, originator_id if isinstance(originator_id, UUID) else UUID(originator_id), version, topic, state)


def id_text(raw: object) -> str:
    """A raw row's originator id as `str(UUID)` writes it, without parsing it where it can be
    helped: SQLite holds the 32 hex digits (`UUID.hex`), PostgreSQL gives a `UUID`."""
    if isinstance(raw, str) and len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return str(raw if isinstance(raw, UUID) else UUID(str(raw)))


def stored_streams(recorder: Any, ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """The stored events of several aggregates in one query, each stream in version order (the
    library's `select_events` reads one aggregate per query and per transaction)."""
    kind = type(recorder).__module__
    if kind not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        return {i: list(recorder.select_events(i)) for i in ids}
    from eventsourcing.persistence import StoredEvent

    table = recorder.events_table_name
    if kind == "eventsourcing.postgres":
        sql = (
            f"SELECT originator_id, originator_version, topic, state FROM {recorder.datastore.schema}.{table} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        )
        # A read on its own, as the library's select_events: no BEGIN and ROLLBACK round trips.
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, (list(ids),), prepare=True)
            found = [StoredEvent(UUID(str(r["originator_id"])), r["originator_version"], r["topic"],
                                 bytes(r["state"])) for r in cursor.fetchall()]  # str(): a text-id table too
    else:
        sql = (
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            f"WHERE originator_id IN ({', '.join('?' * len(ids))}) ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, [i.hex for i in ids])
            found = [StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"])
                     for r in cursor.fetchall()]
    streams: dict[UUID, list[Any]] = {i: [] for i in ids}
    for stored in found:
        streams[cast(UUID, stored.originator_id)].append(stored)  # both branches made it a UUID
    return streams


def protect_event_tables(recorder: Any) -> None:
    """Make the recorder's event table refuse UPDATE/DELETE (and TRUNCATE on PostgreSQL).

    Idempotent and cheap when already in place, so every application start can call it; runs in
    the recorder's own database through its own datastore. In-memory (POPO) recorders are left
    alone: nothing outside the process can reach them.
    """
    from eventsourcing.popo import POPORecorder

    if isinstance(recorder, POPORecorder):
        return
    from eventsourcing.sqlite import SQLiteAggregateRecorder

    if isinstance(recorder, SQLiteAggregateRecorder):
        _protect_sqlite(recorder)
        return
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # psycopg missing: cannot be a PostgreSQL recorder
        PostgresAggregateRecorder = ()  # type: ignore[assignment,misc]  # noqa: N806
    if isinstance(recorder, PostgresAggregateRecorder):
        _protect_postgres(recorder)
        return
    raise TypeError(f"cannot protect event tables of {type(recorder).__qualname__}")


def _protect_sqlite(recorder: Any) -> None:
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=True) as curs:
        for op in ("UPDATE", "DELETE"):
            curs.execute(
                f'CREATE TRIGGER IF NOT EXISTS "{table}_no_{op.lower()}" '
                f'BEFORE {op} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END"
            )


def _protect_postgres(recorder: Any) -> None:
    from psycopg import sql

    schema = recorder.datastore.schema
    table = recorder.events_table_name
    triggers = {
        f"{table}_no_update_delete": "BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW",
        f"{table}_no_truncate": "BEFORE TRUNCATE ON {table} FOR EACH STATEMENT",
    }
    qualified = sql.Identifier(schema, table)
    with recorder.datastore.transaction(commit=True) as curs:
        # Present and enabled: nothing to do, and no DDL privilege needed (production roles).
        curs.execute(
            "SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
            "AND tgname = ANY(%s) AND tgenabled <> 'D'",
            (qualified.as_string(curs), list(triggers)),
        )
        row = curs.fetchone()
        if row is not None and row["n"] == len(triggers):
            return
    with recorder.datastore.transaction(commit=True) as curs:
        # Serialise concurrent starters: CREATE OR REPLACE FUNCTION races otherwise.
        curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.{table}",))
        function = sql.Identifier(schema, _PG_FUNCTION)
        curs.execute(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION '{message}: % on %.% refused', "
                "TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME; END $$"
            ).format(function=function, message=sql.SQL(IMMUTABLE_MESSAGE))
        )
        for name, timing in triggers.items():
            curs.execute(
                sql.SQL("DROP TRIGGER IF EXISTS {name} ON {table}").format(
                    name=sql.Identifier(name), table=qualified
                )
            )
            create = sql.SQL("CREATE TRIGGER {name} " + timing + " EXECUTE FUNCTION {function}()")
            curs.execute(
                create.format(name=sql.Identifier(name), table=qualified, function=function)
            )


def revoke_statements(table: str, role: str) -> list[str]:
    """SQL an administrator runs so the application's role cannot rewrite history.

    `table` may be schema-qualified (`public.ledger_events`). The role must not own the table:
    owners keep every privilege and can disable triggers.
    """
    return [f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {_quote(table)} FROM {_quote(role)};"]


def _quote(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
