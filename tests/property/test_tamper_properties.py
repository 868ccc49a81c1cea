"""Whatever a superuser does to the stored rows, `verify` notices, and names the first position.

A log of a few hundred events (a worked commune cycle with diaries) is built once per backend,
its Merkle tree caught up and a checkpoint signed. Each example then rewrites the event table the
way only a superuser can (immutability triggers dropped on SQLite, disabled on PostgreSQL): one
byte of a state or topic edited, a row deleted, two rows swapped, a forged row inserted (later
rows renumbered), or the log cut short. `verify` must fail naming exactly that position; the
original rows are then put back, the triggers restored, and an untouched log must verify.

The inspector's bundle is held to the same standard: any single byte altered anywhere in the
file makes `verify_bundle` fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import Ledger
from domain.persistence import protect_event_tables
from replay.bundle import BundleError, export_bundle, verify_bundle
from replay.checkpoints import CheckpointStore, generate_key, make_checkpoint
from replay.leaves import leaf_hash_of
from replay.log_tree import catch_up
from replay.verify import verify
from tests.backends import backend_of, connect_direct, postgres_database, postgres_env, sqlite_env
from tests.commune import build_commune
from tests.integration.test_integrity import d, work_the_cycle

AT = datetime(2026, 3, 17, 8, 0, tzinfo=UTC)
EXAMPLES = 20

Row = tuple[int, str, int, str, bytes]  # (position, originator id, version, topic, state)


@dataclass(repr=False)
class Log:
    ledger: Ledger
    env: dict[str, str]
    table: str
    rows: list[Row]

    def __repr__(self) -> str:
        return f"Log({self.backend}, {len(self.rows)} rows)"

    @property
    def backend(self) -> str:
        return backend_of(self.env)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    folder = tmp_path_factory.mktemp("tamper")
    if request.param == "sqlite":
        yield from _built(sqlite_env(folder), folder)
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield from _built(postgres_env(url), folder)


def _built(env: dict[str, str], folder: Path) -> Iterator[Log]:
    """A worked cycle with diaries; its tree caught up; checkpoints at half and at full size."""
    ledger = Ledger(env=env)
    try:
        c = build_commune(ledger)
        work_the_cycle(ledger, c, diary_days=6)
        for leader in (c.chairman, c.secretary, c.economy_head, c.culture_head, c.monitoring):
            for day in range(2, 14):
                ledger.log_work(leader, cycle_id=c.cycle_id, on=d(day), hours=Decimal(4), duty="Tiếp công dân")
        tree = catch_up(ledger)
        signer = generate_key(folder / "k")
        size = tree.size()
        for at_size in (size // 2, size):
            CheckpointStore(tree.store).add(make_checkpoint(signer, at_size, tree.root(at_size), AT), AT)
        table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
        log = Log(ledger, env, table, read_rows(env, table))
        assert len(log.rows) >= 200
        yield log
    finally:
        ledger.close()


def read_rows(env: dict[str, str], table: str) -> list[Row]:
    conn = connect_direct(env)
    try:
        position = "notification_id" if backend_of(env) == "postgres" else "rowid"
        found = conn.execute(
            f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} ORDER BY {position}"
        ).fetchall()
    finally:
        conn.close()
    return [(int(p), str(o), int(v), str(t), bytes(s)) for p, o, v, t, s in found]


def rewrite(log: Log, rows: list[Row]) -> None:
    """Replace the whole event table by `rows`, as a superuser would: guards off, then back on."""
    conn = connect_direct(log.env)
    try:
        if log.backend == "postgres":
            with conn.transaction():
                conn.execute(f"ALTER TABLE {log.table} DISABLE TRIGGER USER")
                conn.execute(f"DELETE FROM {log.table}")
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {log.table} (notification_id, originator_id, originator_version, topic, state) "
                        "VALUES (%s, %s, %s, %s, %s)", rows,
                    )
                conn.execute(f"ALTER TABLE {log.table} ENABLE TRIGGER USER")
        else:
            conn.execute("BEGIN")
            for op in ("update", "delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS {log.table}_no_{op}")
            conn.execute(f"DELETE FROM {log.table}")
            conn.executemany(
                f"INSERT INTO {log.table} (rowid, originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?, ?)", rows,
            )
            conn.execute("COMMIT")
    finally:
        conn.close()
    if log.backend == "sqlite":
        protect_event_tables(log.ledger.recorder)  # recreate the dropped triggers


# ------------------------------------------------------------------------------ tampering


@st.composite
def tampering(draw: st.DrawFn, n: int) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["edit state", "edit topic", "delete", "swap", "insert", "truncate"]))
    k = draw(st.integers(0, n - 1))  # a row index
    if kind == "edit state":
        return kind, (k, draw(st.integers(0, 10_000)), draw(st.integers(1, 255)))
    if kind == "edit topic":
        return kind, (k, draw(st.integers(0, 100)), draw(st.integers(1, 93)))
    if kind == "swap":
        return kind, (k, draw(st.integers(0, n - 1).filter(lambda j: j != k)))
    return kind, k


def tampered(rows: list[Row], kind: str, arg: Any) -> tuple[list[Row], int]:
    """The rows after tampering, and the first position `verify` must name."""
    rows = list(rows)
    if kind in ("edit state", "edit topic"):
        k, offset, delta = arg
        position, origin, version, topic, state = rows[k]
        if kind == "edit state":
            data = bytearray(state)
            data[offset % len(data)] ^= delta
            state = bytes(data)
        else:
            i = offset % len(topic)
            topic = topic[:i] + chr(33 + (ord(topic[i]) - 33 + delta) % 94) + topic[i + 1:]
        rows[k] = (position, origin, version, topic, state)
        return rows, position
    if kind == "delete":
        return rows[:arg] + rows[arg + 1:], rows[arg][0]
    if kind == "swap":
        j, k = sorted(arg)
        rows[j], rows[k] = (rows[j][0], *rows[k][1:]), (rows[k][0], *rows[j][1:])
        return rows, rows[j][0]
    if kind == "insert":
        _, _, _, topic, state = rows[arg]
        forged = (rows[arg][0], str(uuid.uuid4()), 1, topic, state)
        return rows[:arg] + [forged] + [(p + 1, *rest) for p, *rest in rows[arg:]], rows[arg][0]
    assert kind == "truncate"
    return rows[:arg], rows[arg][0]


@settings(max_examples=EXAMPLES, deadline=None)  # database round trips vary
@given(data=st.data())
def test_verify_names_the_first_position_of_any_superuser_tampering(log: Log, data: st.DataObject) -> None:
    kind, arg = data.draw(tampering(len(log.rows)), label="tampering")
    rows, expected = tampered(log.rows, kind, arg)
    rewrite(log, rows)
    try:
        report = verify(log.ledger)
    finally:
        rewrite(log, log.rows)
    assert report.problem is not None, kind
    assert report.problem.position == expected, (kind, report.problem)
    assert verify(log.ledger).ok


def test_an_untouched_log_verifies_with_both_checkpoints(log: Log) -> None:
    report = verify(log.ledger)
    assert report.ok, report.problem
    assert (report.entries, report.leaves, report.checkpoints) == (len(log.rows), len(log.rows), 2)


def test_rows_rewritten_together_with_their_stored_leaves_are_caught_by_the_checkpoint(log: Log) -> None:
    """A superuser who also rewrites kpi_merkle_leaves still cannot re-sign the checkpoint."""
    k = len(log.rows) // 4
    rows, position = tampered(log.rows, "edit state", (k, 3, 1))
    rewrite(log, rows)
    placeholder = "%s" if log.backend == "postgres" else "?"
    update = f"UPDATE kpi_merkle_leaves SET leaf_hash = {placeholder} WHERE n = {placeholder}"
    conn = connect_direct(log.env)
    try:
        original = bytes(conn.execute(f"SELECT leaf_hash FROM kpi_merkle_leaves WHERE n = {position}").fetchone()[0])
        (notification,) = log.ledger.recorder.select_notifications(start=position, limit=1)
        conn.execute(update, (leaf_hash_of(notification), position))
        try:
            report = verify(log.ledger)
        finally:
            conn.execute(update, (original, position))
    finally:
        conn.close()
        rewrite(log, log.rows)
    assert report.problem is not None
    assert report.problem.position == 1  # inside the first checkpoint: anywhere from its start
    assert "rewritten too" in report.problem.reason
    assert verify(log.ledger).ok


# ------------------------------------------------------------------------------ the bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A closed cycle's bundle (from SQLite; the bundle is the same whatever the backend)."""
    folder = tmp_path_factory.mktemp("bundle")
    ledger = Ledger(env=sqlite_env(folder))
    try:
        c = build_commune(ledger)
        work_the_cycle(ledger, c, diary_days=1)
        signer = generate_key(folder / "k")
        tree = catch_up(ledger)
        size = tree.size()
        kept = make_checkpoint(signer, size, tree.root(size), AT)
        CheckpointStore(tree.store).add(kept, AT)
        ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(17), checkpoint=kept.note)
        data = export_bundle(ledger, c.cycle_id, public_key=signer.verifier_key, signer=signer, now=AT)
    finally:
        ledger.close()
    verify_bundle(data)  # honest: passes
    return data


@settings(max_examples=EXAMPLES * 2, deadline=None)
@given(data=st.data())
def test_a_bundle_with_any_one_byte_altered_fails_verification(bundle: bytes, data: st.DataObject) -> None:
    where = data.draw(st.integers(0, len(bundle) - 1), label="byte")
    delta = data.draw(st.integers(1, 255), label="xor")
    altered = bytearray(bundle)
    altered[where] ^= delta
    with pytest.raises(BundleError):
        verify_bundle(bytes(altered))


@pytest.mark.parametrize("needle", [
    b'"state":"', b'"state_sha256":"', b'"proof":["', b'"digest":"', b'"old_root":"', b'"public_key":"',
    b'\\u2014 ', b'"delay_penalty":"', b'"log_position":', b'"old_size":', b'"originator_version":',
    b'"omitted_by_topic":{"', b'"topic":"domain.', b'+',
])
def test_a_bundle_with_a_byte_altered_in_any_kind_of_field_fails_verification(bundle: bytes, needle: bytes) -> None:
    """Targets what random bytes rarely hit: the certified digest, a key id, a signature's last
    base64 digit (whose low bits a lax decoder ignores), policy parameters."""
    start = bundle.index(needle) + len(needle)
    for offset in (0, 1, 5):
        for delta in (0x01, 0x20):
            altered = bytearray(bundle)
            altered[start + offset] ^= delta
            with pytest.raises(BundleError):
                verify_bundle(bytes(altered))
    signature_end = bundle.index(b'\\n"', bundle.index(b"\\u2014 ")) - 1  # last digit of the signature
    for delta in (1, 2, 3):
        altered = bytearray(bundle)
        altered[signature_end - 1] ^= delta
        with pytest.raises(BundleError):
            verify_bundle(bytes(altered))
