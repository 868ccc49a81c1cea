"""The log read raw for hashing gives the leaves the library's own read gives, on either database.

`verify` and the log-tree projection read the event table with plain SQL (`read_rows`) instead
of the library's `select_notifications`; a leaf that differed by one byte would make every
signed checkpoint fail, so the two reads are held against each other on a real log, and on
SQLite rows that a superuser re-spelt without changing what they say.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ledger import Ledger
from domain.persistence import protect_event_tables
from replay.leaves import leaf_hash_of, leaf_hashes, read_rows
from replay.log_tree import catch_up
from replay.verify import verify
from tests.backends import connect_direct, sqlite_env
from tests.commune import build_commune


@pytest.fixture
def ledger(backend_env: dict[str, str]) -> Iterator[Ledger]:
    app = Ledger(env=backend_env)
    build_commune(app)
    yield app
    app.close()


def library_leaves(ledger: Ledger) -> list[tuple[int, bytes]]:
    return [(n.id, leaf_hash_of(n)) for n in ledger.recorder.select_notifications(start=1, limit=10**6)]


def test_raw_rows_hash_to_the_leaves_of_the_librarys_notifications(ledger: Ledger) -> None:
    expected = library_leaves(ledger)
    assert len(expected) > 20
    rows = read_rows(ledger.recorder, 1, 10**6)
    assert list(zip([r[0] for r in rows], leaf_hashes(rows), strict=True)) == expected
    # A window: from a position, at most `limit`, none past `stop`.
    window = read_rows(ledger.recorder, 5, 7, stop=9)
    assert [(r[0], h) for r, h in zip(window, leaf_hashes(window), strict=True)] == expected[4:9]
    assert [r[0] for r in read_rows(ledger.recorder, 5, 3, stop=20)] == [5, 6, 7]
    assert read_rows(ledger.recorder, expected[-1][0] + 1, 10) == []
    # The projection stores the same leaves, read back in pages of any size.
    tree = catch_up(ledger)
    assert list(tree.entries(page=6)) == expected
    assert list(tree.entries(limit=10, page=3)) == expected[:10]


def test_a_sqlite_row_respelt_without_changing_what_it_says_keeps_its_leaf(tmp_path: Path) -> None:
    """The stream id in another spelling of the same UUID (the library reads it as that UUID)
    and the state turned into TEXT of the same bytes: neither is a change to the entry."""
    ledger = Ledger(env=sqlite_env(tmp_path))
    try:
        build_commune(ledger)
        tree = catch_up(ledger)
        expected = library_leaves(ledger)
        table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
        conn = connect_direct(sqlite_env(tmp_path))
        try:
            conn.execute(f"DROP TRIGGER {table}_no_update")
            conn.execute(f"UPDATE {table} SET originator_id = upper(substr(originator_id, 1, 8) || '-' || "
                         "substr(originator_id, 9, 4) || '-' || substr(originator_id, 13, 4) || '-' || "
                         "substr(originator_id, 17, 4) || '-' || substr(originator_id, 21)) WHERE rowid = 3")
            conn.execute(f"UPDATE {table} SET state = CAST(state AS TEXT) WHERE rowid = 4")
            respelt = conn.execute(f"SELECT originator_id, typeof(state) FROM {table} WHERE rowid IN (3, 4)")
            assert [(len(o), kind) for o, kind in respelt.fetchall()] == [(36, "blob"), (32, "text")]
        finally:
            conn.close()
        protect_event_tables(ledger.recorder)
        rows = read_rows(ledger.recorder, 1, 10**6)
        assert list(zip([r[0] for r in rows], leaf_hashes(rows), strict=True)) == expected
        report = verify(ledger, page=2)
        assert report.ok, report.problem
        assert report.leaves == tree.size() == len(expected)
    finally:
        ledger.close()
