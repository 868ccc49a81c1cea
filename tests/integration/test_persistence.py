"""On both backends: events saved through the library cannot be updated, deleted or truncated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import EnvType

from domain.actors import Actor
from domain.persistence import IMMUTABLE_MESSAGE, protect_event_tables
from tests.backends import backend_of, connect_direct


class Diary(Aggregate):
    @event("Opened")
    def __init__(self, owner: UUID, opened_on: date) -> None:
        self.owner = owner
        self.hours: list[str] = []

    @event("WorkLogged")
    def log(self, on: date, hours: str) -> None:
        self.hours.append(hours)


class ProbeApp(Application[UUID]):
    """Stands in for the Ledger: the same env, stamps and protection."""

    name = "Ledger"

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        protect_event_tables(self.recorder)

    def record(self, diary: Diary, actor: Actor, command_id: str) -> None:
        for pending in diary._pending_events:
            object.__setattr__(pending, "actor", actor)
            object.__setattr__(pending, "command_id", command_id)
        self.save(diary)


def events_table(app: Application[Any]) -> str:
    return app.recorder.events_table_name  # type: ignore[attr-defined, no-any-return]


def dump(conn: Any, table: str) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        f"SELECT originator_id, originator_version, topic, state FROM {table} "
        "ORDER BY originator_id, originator_version"
    ).fetchall()
    return [(str(a), b, c, bytes(d)) for a, b, c, d in rows]


@pytest.fixture
def app(backend_env: dict[str, str]) -> Iterator[ProbeApp]:
    application = ProbeApp(env=backend_env)
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def saved(app: ProbeApp) -> Diary:
    diary = Diary(UUID(int=7), date(2025, 8, 20))
    diary.log(date(2025, 8, 21), "7.5")
    app.record(diary, Actor(UUID(int=7), "official"), "cmd-1")
    return diary


def tamper_statements(table: str, backend: str) -> list[str]:
    statements = [
        f"UPDATE {table} SET topic = 'forged'",
        f"UPDATE {table} SET state = state WHERE originator_version = 2",
        f"DELETE FROM {table} WHERE originator_version = 2",
        f"DELETE FROM {table}",  # SQLite's truncate optimisation must not bypass the trigger
    ]
    if backend == "postgres":
        statements.append(f"TRUNCATE {table}")
    return statements


def test_events_decode_typed_through_the_database(app: ProbeApp, saved: Diary) -> None:
    events = list(app.events.get(saved.id))
    assert [type(e).__name__ for e in events] == ["Opened", "WorkLogged"]
    assert vars(events[0])["opened_on"] == date(2025, 8, 20)
    assert vars(events[1])["actor"] == Actor(UUID(int=7), "official")
    assert vars(events[1])["command_id"] == "cmd-1"
    assert isinstance(vars(events[1])["timestamp"], datetime)
    assert vars(events[1])["timestamp"].tzinfo is not None
    copy: Diary = app.repository.get(saved.id)
    assert copy.hours == ["7.5"]
    assert copy.created_on.utcoffset() is not None


def test_stored_events_refuse_update_delete_truncate(
    app: ProbeApp, saved: Diary, backend_env: dict[str, str]
) -> None:
    backend = backend_of(backend_env)
    table = events_table(app)
    conn = connect_direct(backend_env)
    try:
        before = dump(conn, table)
        assert len(before) == 2
        for statement in tamper_statements(table, backend):
            with pytest.raises(Exception, match=IMMUTABLE_MESSAGE):
                conn.execute(statement)
        assert dump(conn, table) == before
    finally:
        conn.close()
    assert app.repository.get(saved.id).version == 2


def test_appending_still_works_and_protection_is_idempotent(
    app: ProbeApp, saved: Diary, backend_env: dict[str, str]
) -> None:
    protect_event_tables(app.recorder)
    again = ProbeApp(env=backend_env)  # a second start on the same database
    try:
        diary: Diary = again.repository.get(saved.id)
        diary.log(date(2025, 8, 22), "8")
        again.record(diary, Actor(UUID(int=7), "official"), "cmd-2")
        assert again.repository.get(saved.id).hours == ["7.5", "8"]
    finally:
        again.close()


@pytest.mark.postgres
def test_postgres_disabled_triggers_are_reenabled_on_start(pg_env: dict[str, str]) -> None:
    first = ProbeApp(env=pg_env)
    table = events_table(first)
    first.close()
    conn = connect_direct(pg_env)
    try:
        conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        ProbeApp(env=pg_env).close()
        with pytest.raises(Exception, match=IMMUTABLE_MESSAGE):
            conn.execute(f"TRUNCATE {table}")
    finally:
        conn.close()
