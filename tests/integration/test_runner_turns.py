"""A runner that does not wait to write: a rebuild's processes share SQLite's single writer.

Where another connection is writing, such a runner holds its pages' SQL and reads on, then
writes all of it in one transaction once the database is free (or once it holds `MAX_HELD`
pages, when it waits like any other). What it leaves behind must be what a runner that waits
for every page leaves.
"""

from __future__ import annotations

import sqlite3
import threading

from domain.ledger import Ledger
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel
from projections.diary import Diary
from projections.log_scopes import LogScopes
from projections.runner import MAX_HELD, Runner
from projections.store import ViewStore
from tests.commune import build_commune


def filled(ledger: Ledger, shadow: bool) -> list[ReadModel]:
    store = ViewStore(ledger.recorder)
    return [cls(store, shadow=shadow) for cls in (Accountability, Approvals, Diary, LogScopes)]


def test_pages_held_while_another_connection_writes_go_in_together_and_fill_the_same_rows(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        page = 1
        assert head > 2 * MAX_HELD  # more pages than a runner may hold
        Runner(ledger, filled(ledger, shadow=False), page=page).catch_up()

        models = filled(ledger, shadow=True)
        runner = Runner(ledger, models, page=page, wait_to_write=False)
        runner.prepare()  # its tables made before the other writer holds the lock
        other = None
        if "SQLITE_DBNAME" in backend_env:  # another writer holds SQLite's lock for a while
            other = sqlite3.connect(backend_env["SQLITE_DBNAME"], isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
        written: list[int] = []

        def progress(position: int, _: int) -> None:
            written.append(position)

        def let_go() -> None:
            if other is not None:
                other.execute("ROLLBACK")

        releasing = threading.Timer(0.5, let_go)
        releasing.start()
        try:
            pages = runner.catch_up(progress=progress)  # one event a page
        finally:
            releasing.join()
        if other is not None:
            # Nothing could be written until MAX_HELD pages were held: those went in together.
            assert written[0] >= MAX_HELD * page
            assert len(written) < pages
            other.close()
        else:  # PostgreSQL writes for many at once: every page goes in as it is read
            assert len(written) == pages
        assert written[-1] == head
        assert {m.name: m.position() for m in models} == {m.name: head for m in models}
        assert [m.dump() for m in models] == [m.dump() for m in filled(ledger, shadow=False)]
    finally:
        ledger.close()
