"""The scores projection may hold pages in memory before writing them; every event still counts once.

`Scores(flush_every=n)` reads its tables only after n events (and at the end of every catch-up),
writing nothing and leaving its tracking row alone for the pages in between, while the other read
models commit every page. A runner that dies with pages deferred loses nothing but memory: the
next one folds those events again from the scores' recorded position, and the tables end equal
to a rebuild from zero.
"""

from __future__ import annotations

from domain.ledger import Ledger
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel
from projections.diary import Diary
from projections.rebuild import rebuild
from projections.runner import Runner
from projections.scores import Scores
from projections.store import ViewStore
from tests.commune import build_commune

EVERY_PAGE = ("accountability", "approvals", "diary")


class Killed(Exception):
    """The runner's process dying after a committed page (nothing is rolled back by it)."""


def models(ledger: Ledger, flush_every: int) -> list[ReadModel]:
    store = ViewStore(ledger.recorder)
    return [Accountability(store), Approvals(store), Diary(store), Scores(store, flush_every=flush_every)]


def positions(ledger: Ledger) -> dict[str, int]:
    store = ViewStore(ledger.recorder)
    return {name: store.position(name) for name in (*EVERY_PAGE, "scores")}


def dumps(ledger: Ledger) -> dict[str, dict[str, list[str]]]:
    return {m.name: m.dump() for m in models(ledger, 0)}


def test_a_deferred_page_leaves_the_scores_position_at_its_last_flush_while_the_others_advance(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        runner = Runner(ledger, models(ledger, flush_every=head // 2 + 1), page=3)
        seen: list[tuple[int, dict[str, int]]] = []
        # A stop past the head is the head: the last page flushes everything.
        runner.catch_up(stop=head + 5, progress=lambda last, _: seen.append((last, positions(ledger))))

        assert all(at[name] == last for last, at in seen for name in EVERY_PAGE)
        flushed = [at["scores"] for _, at in seen]
        assert flushed[-1] == head
        middle = max(flushed[:-1])
        assert flushed == sorted(flushed) and set(flushed[:-1]) == {0, middle}, flushed
        assert 0 < middle < seen[-2][0]  # the model asked once, half-way; the rest waited
        assert positions(ledger) == {name: head for name in (*EVERY_PAGE, "scores")}
        before = dumps(ledger)
        rebuild(ledger)
        assert dumps(ledger) == before
    finally:
        ledger.close()


def test_a_runner_killed_with_pages_deferred_is_resumed_by_a_fresh_one_to_the_rows_of_a_rebuild(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        c = build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        runner = Runner(ledger, models(ledger, flush_every=10**9), page=3)
        runner.catch_up(stop=head // 3)
        assert positions(ledger) == {name: head // 3 for name in (*EVERY_PAGE, "scores")}

        def die_past_two_thirds(last: int, _: int) -> None:
            if last > 2 * head // 3:
                raise Killed

        try:
            runner.catch_up(progress=die_past_two_thirds)
        except Killed:
            pass
        at_death = positions(ledger)
        assert at_death["scores"] == head // 3  # its pages since were only in memory
        assert all(2 * head // 3 < at_death[name] < head for name in EVERY_PAGE), at_death
    finally:
        ledger.close()

    fresh = Ledger(env=backend_env)
    try:
        runner = Runner(fresh, models(fresh, flush_every=10**9), page=3)
        applied = runner.catch_up()
        read = runner.store.log_rows(head // 3 + 1, head, head, runner._wanted())
        assert applied == len(read) > 0  # from the scores' position, the furthest behind
        assert positions(fresh) == {name: head for name in (*EVERY_PAGE, "scores")}
        store = ViewStore(fresh.recorder)
        rows = store.query("SELECT COUNT(*) AS n FROM kpi_scoreboard WHERE cycle_id = ?", (str(c.cycle_id),))
        assert int(rows[0]["n"]) > 0
        before = dumps(fresh)
        rebuild(fresh)
        assert dumps(fresh) == before
    finally:
        fresh.close()
