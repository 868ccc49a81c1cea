"""Rebuilding read models without ever showing users a half-built table.

A rebuild fills shadow tables (their own tracking rows, so a killed rebuild resumes where it
stopped) while the live tables keep serving. Scores are filled last, cycle by cycle, from the
fold fed through the freshly filled log-scope index (`Scores.rescore`), so the index is rebuilt
whenever scores are. Before anything is swapped in, the scoreboard read back from the shadow
must digest, cycle by cycle, to exactly what the fold computed; only then, in one transaction,
do the shadow's rows replace the live ones and the live tracking position move to the
shadow's.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.ledger import Ledger
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel
from projections.diary import Diary
from projections.log_scopes import LogScopes
from projections.runner import DEFAULT_PAGE, Progress, Runner
from projections.scores import Digests, Scores
from projections.store import Statement, ViewStore

MODELS: dict[str, type[ReadModel]] = {
    m.name: m for m in (Accountability, Approvals, Diary, Scores, LogScopes)
}


class RebuildMismatch(RuntimeError):
    """The rebuilt scores disagree with a fold of the log: nothing was swapped in."""


@dataclass(frozen=True)
class Rebuilt:
    name: str
    position: int
    rows: int


def select(names: Sequence[str] | None) -> list[type[ReadModel]]:
    """The models named (all when none), with the log-scope index wherever scores are: a
    rebuild scores through it."""
    if not names:
        return list(MODELS.values())
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown projection {unknown[0]!r}; choose from {', '.join(MODELS)}")
    if "scores" in names and "log_scopes" not in names:
        names = [*names, "log_scopes"]
    return [MODELS[n] for n in names]


def live_runner(ledger: Ledger, names: Sequence[str] | None = None, page: int = DEFAULT_PAGE) -> Runner:
    store = ViewStore(ledger.recorder)
    return Runner(ledger, [cls(store) for cls in select(names)], page=page)


def rebuild(
    ledger: Ledger, names: Sequence[str] | None = None, page: int = 10_000,
    progress: Progress | None = None, restart: bool = False, workers: int = 1,
) -> list[Rebuilt]:
    """Resumes a killed rebuild from its shadow tables; `restart` discards them first (after
    the projection code changed, say, when the shadow's rows are no longer worth keeping).

    With `workers` > 1 each read model is filled by a process of its own, reading only its own
    topics, and the scores by one more once the index is filled: the models share nothing but
    the log, and one core cannot keep up with a province. The check and the swap stay here,
    after all of them.
    """
    store = ViewStore(ledger.recorder)
    shadows = [cls(store, shadow=True) for cls in select(names)]
    if restart:
        with store.transaction() as cursor:
            for shadow in shadows:
                store.lock_position(cursor, shadow.tracking_name)
                store.execute(cursor, shadow.drop_tables())
                store.reset_tracking(cursor, shadow.tracking_name, None)
    head = ledger.recorder.max_notification_id() or 0
    scores = next((s for s in shadows if isinstance(s, Scores)), None)
    fills = [s for s in shadows if s is not scores]
    if workers > 1 and len(shadows) > 1 and _on_disk(ledger):
        digests = _fill_in_processes(ledger, shadows, page, head, progress, workers)
    else:
        Runner(ledger, fills, page=page).catch_up(stop=head, progress=progress)
        digests = scores.rescore(ledger, head) if scores else None
    if scores is not None:
        if digests is None:
            raise RuntimeError("the scores worker ended without reporting its digests; run the rebuild again")
        check_scores(scores, digests, head)
    return swap_in(store, shadows)


# Below this many events a second process costs more (~1 s to start and import) than it saves.
PARALLEL_FROM = 50_000


def auto_workers(ledger: Ledger) -> int:
    """Worker processes for rebuilding this log: one per core (up to 4) once it is big enough."""
    if (ledger.recorder.max_notification_id() or 0) < PARALLEL_FROM:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _on_disk(ledger: Ledger) -> bool:
    """Other processes can reach the log (not an in-memory store, as in some tests)."""
    return type(ledger.recorder).__module__ in ("eventsourcing.sqlite", "eventsourcing.postgres")


# Rough share of a rebuild's work, so the longest chains start first when there are fewer
# workers; the index carries the scores that wait for it.
WEIGHT = {"diary": 4, "log_scopes": 4, "scores": 2, "approvals": 1}
AFTER = {"scores": "log_scopes"}  # a job waits until this one is done


def _fill_in_processes(
    ledger: Ledger, shadows: Sequence[ReadModel], page: int, head: int, progress: Progress | None,
    workers: int,
) -> Digests | None:
    """Fill each shadow up to `head` in a process of its own, the heaviest first, the scores
    once the index is filled; report the mean position; return the scores' digests.

    One process per job, started when a slot is free and ended when its job is done: no idle
    pool is left behind if this process is killed (a working one stops after its page).
    """
    # The parent made the tables; workers creating them again at once race in PostgreSQL's
    # catalog ("tuple concurrently updated").
    env = {**ledger.env, "CREATE_TABLE": "n"}
    # SQLite has one writer: the other workers wait for a page's commit rather than fail.
    env.setdefault("SQLITE_LOCK_TIMEOUT", "300")
    waiting = sorted((s.name for s in shadows), key=lambda name: WEIGHT.get(name, 0), reverse=True)
    context = multiprocessing.get_context("spawn")  # no database connection crosses a fork
    answer, sender = context.Pipe(duplex=False)
    digests: Digests | None = None
    running: list[Any] = []
    try:
        while waiting or running:
            busy = waiting + [p.name.removeprefix("rebuild ") for p in running]
            ready = [name for name in waiting if AFTER.get(name) not in busy]
            while ready and len(running) < workers:
                name = ready.pop(0)
                waiting.remove(name)
                target, args = ((score_shadow, (env, head, sender, os.getpid())) if name == Scores.name
                                else (fill_shadow, (env, name, page, head, os.getpid())))
                process = context.Process(target=target, args=args, name=f"rebuild {name}")
                process.start()
                running.append(process)
            running[0].join(timeout=0.5)
            if answer.poll():
                digests = answer.recv()
            for process in [p for p in running if not p.is_alive()]:
                running.remove(process)
                if process.exitcode != 0:
                    raise RuntimeError(f"{process.name} failed (exit code {process.exitcode}); the shadow "
                                       "tables are kept: run the rebuild again to resume")
            if progress:
                reached = [head if s.position() >= head else s.position() for s in shadows]
                progress(sum(reached) // len(reached), head)
        if digests is None and answer.poll(timeout=5):
            digests = answer.recv()
    finally:
        for process in running:  # only after a failure: the others' work is resumable
            process.terminate()
            process.join()
        answer.close()
        sender.close()
    return digests


def _stop_when_orphaned(name: str, parent: int) -> Progress:
    """A worker stops after the page (or cycle) it is on when the rebuild that started it is
    gone (killed): a stopped rebuild does no work."""

    def check(_: int, __: int) -> None:
        if os.getppid() != parent:
            after = ("the next rebuild scores every cycle again" if name == Scores.name
                     else "the next rebuild resumes from here")
            raise SystemExit(f"rebuild process {parent} is gone: {name} stops here; {after}")

    return check


def fill_shadow(env: dict[str, str], name: str, page: int, head: int, parent: int) -> None:
    """A worker process: one shadow read model caught up to `head`."""
    ledger = Ledger(env=env)
    try:
        store = ViewStore(ledger.recorder)
        runner = Runner(ledger, [MODELS[name](store, shadow=True)], page=page)
        runner.catch_up(stop=head, progress=_stop_when_orphaned(name, parent))
    finally:
        ledger.close()


def score_shadow(env: dict[str, str], head: int, sender: Any, parent: int) -> None:
    """A worker process: the shadow scores from the filled index, digests sent back."""
    ledger = Ledger(env=env)
    try:
        scores = Scores(ViewStore(ledger.recorder), shadow=True)
        sender.send(scores.rescore(ledger, head, progress=_stop_when_orphaned(scores.name, parent)))
    finally:
        ledger.close()


def check_scores(scores: Scores, digests: Digests, head: int) -> None:
    """What is about to be swapped in must be what the fold computed: the same cycles, each
    under its policy with the fold's digest, stored with rows that digest to it too (nothing
    lost, changed or left over between the fold and the swap)."""
    stored = scores.stored_digests()
    for cycle_id in sorted(stored.keys() | digests.keys()):
        version, digest, rows = stored.get(cycle_id, ("", "none", "none"))
        want_version, want = digests.get(cycle_id, ("", "none"))
        if (version, digest, rows) != (want_version, want, want):
            got = digest if digest != want else rows
            raise RebuildMismatch(
                f"cycle {cycle_id}: rebuilt digest {got[:12]} (policy {version}) differs from the "
                f"log's {want[:12]} (policy {want_version}) at position {head}; live tables left as "
                "they were"
            )


def swap_in(store: ViewStore, shadows: Sequence[ReadModel]) -> list[Rebuilt]:
    """One transaction: live tables := shadow rows, live position := shadow position, shadow gone.

    The live tables are dropped and the shadow's renamed to take their place (rows are not
    copied), then the live indexes are built, so a rebuild also brings them to the current table
    definitions. Both positions are read under their locks, so a live runner's page cannot
    commit in between (it finds its position moved and starts again from the swapped-in one).
    """
    done = []
    with store.transaction() as cursor:
        for shadow in shadows:
            live = type(shadow)(store)
            store.lock_position(cursor, live.tracking_name)
            position = store.lock_position(cursor, shadow.tracking_name)
            renames = []
            for logical in shadow.tables:
                old, new = shadow.table(logical), live.table(logical)
                renames.append(Statement(f"ALTER TABLE {old} RENAME TO {new}"))
                if store.is_postgres:  # the primary key's index keeps the shadow's name otherwise
                    renames.append(Statement(f"ALTER INDEX IF EXISTS {old}_pkey RENAME TO {new}_pkey"))
            store.execute(cursor, live.drop_tables() + renames + live.index_statements())
            store.reset_tracking(cursor, live.tracking_name, position)
            store.reset_tracking(cursor, shadow.tracking_name, None)
            done.append((live, position))
    return [Rebuilt(live.name, position, live.count()) for live, position in done]
