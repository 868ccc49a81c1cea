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
import queue
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.ledger import Ledger
from projections.base import ReadModel
from projections.diary import Diary
from projections.rebuild_worker import MODEL_TOPICS, Scoring, fill, fill_chain, model_class, no_cycle_collection
from projections.runner import DEFAULT_PAGE, Progress, Runner
from projections.scores import Digests, Scores
from projections.store import Statement, ViewStore

MODELS: dict[str, type[ReadModel]] = {name: model_class(name) for name in MODEL_TOPICS}


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

    With `workers` > 1 the read models are filled by that many processes (one core cannot keep
    up with a province), which then share the scoring of the cycles once the index is filled
    (`chains`). The check and the swap stay here, after all of them.
    """
    store = ViewStore(ledger.recorder)
    shadows = [cls(store, shadow=True) for cls in select(names)]
    if restart:
        with store.transaction() as cursor:
            for shadow in shadows:
                store.lock_position(cursor, shadow.tracking_name)
                store.drop(cursor, shadow.drop_tables())
                store.reset_tracking(cursor, shadow.tracking_name, None)
    head = ledger.recorder.max_notification_id() or 0
    scores = next((s for s in shadows if isinstance(s, Scores)), None)
    fills = [s for s in shadows if s is not scores]
    counted: dict[str, int] = {}
    if workers > 1 and len(shadows) > 1 and _on_disk(ledger):
        digests, counted = _fill_in_processes(ledger, shadows, page, head, progress, workers)
    else:
        report = None if progress is None else lambda _, __: progress(_mean_position(shadows, head), head)
        with no_cycle_collection():
            for group in chains([s.name for s in fills], 1):
                Runner(ledger, [s for s in fills if s.name in group], page=page).catch_up(stop=head, progress=report)
            digests = scores.rescore(ledger, head) if scores else None
    if scores is not None:
        if digests is None:
            raise RuntimeError("the scores worker ended without reporting its digests; run the rebuild again")
        check_scores(scores, digests, head)
    return swap_in(store, shadows, counted)


# Below this many events a second process costs more than it saves (it starts ~0.1 s after
# this one): on SQLite, 19,627 events took 0.24-0.25 s in 2 processes and 0.22 s in one;
# 31,630 took 0.28-0.29 s and 0.33-0.35 s; 60,942 took 0.46-0.48 s and 0.63-0.65 s
# (`python -m bench.child rebuild`).
PARALLEL_FROM = 25_000


def auto_workers(ledger: Ledger) -> int:
    """Worker processes for rebuilding this log: one per core (up to 4) once it is big enough."""
    if (ledger.recorder.max_notification_id() or 0) < PARALLEL_FROM:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _on_disk(ledger: Ledger) -> bool:
    """Other processes can reach the log (not an in-memory store, as in some tests)."""
    return type(ledger.recorder).__module__ in ("eventsourcing.sqlite", "eventsourcing.postgres")


# Read apart: the diary is two thirds of the log and no other model reads its events. The
# rest go with the index, whose pages hold accountability's events already (read with the
# diary instead, they were read twice: a 60,942-event rebuild took 0.55 s against 0.58 s, and
# no longer at 247,733 events, in interleaved runs).
APART = (Diary.name,)


def chains(names: Sequence[str], workers: int) -> list[list[str]]:
    """What each worker process fills before it scores: the index with the other models read
    with it (one read of the log but the diary, each event decoded once, where separate
    processes would each scan all of it), and the diary (two thirds of the log, read by no
    other model, `APART`; read with the others, it cost 10 % more than apart, in one
    process too, which reads the groups in turn). With scores, every worker goes on to score
    cycles once the index is filled, so a worker beyond these fills only scores.

    The index's group comes first: the process that starts the rebuild takes it, so scoring,
    which waits for the index, can start before a new process would have started at all."""
    fills = [name for name in names if name != Scores.name]
    found = [group for group in ([n for n in fills if n not in APART], [n for n in fills if n in APART])
             if group]
    if Scores.name in names:
        found += [[] for _ in range(workers - len(found))]
    return found


def _fill_in_processes(
    ledger: Ledger, shadows: Sequence[ReadModel], page: int, head: int, progress: Progress | None,
    workers: int,
) -> tuple[Digests | None, dict[str, int]]:
    """Fill the shadows up to `head` in `workers` processes (`chains`), this one among them,
    which then score the cycles between them; report the mean position; return the scores'
    digests and the rows of the models filled (each counted by its process once filled, while
    the others still work: the diary's count reads every day row).

    This process takes the first share (the index's) itself: a new one takes a tenth of a
    second or more to start (`projections.rebuild_worker`), and scoring waits for the index. The
    others end when their work is done: no idle pool is left behind if this process is killed (a
    working one stops after its page or cycle).
    """
    # The parent made the library's tables; workers creating them again at once race in
    # PostgreSQL's catalog ("tuple concurrently updated").
    env = {**ledger.env, "CREATE_TABLE": "n"}
    # SQLite has one writer: the other workers wait for a page's commit rather than fail.
    env.setdefault("SQLITE_LOCK_TIMEOUT", "300")
    context = multiprocessing.get_context("spawn")  # no database connection crosses a fork
    scoring = any(s.name == Scores.name for s in shadows)
    shared = Scoring.made_by(context)
    mine, *theirs = chains([s.name for s in shadows], workers)
    running = [
        context.Process(target=fill_chain, args=(env, chain, scoring, page, head, shared, os.getpid()),
                        name=f"rebuild {', '.join(chain) or 'scores'}")
        for chain in theirs
    ]
    digests: Digests = {}
    counted: dict[str, int] = {}
    reports = len(running) + 1  # one from each process

    def watch(_: int = 0, __: int = 0) -> None:
        """Between pages here: the others' reports read, their failures raised, progress told."""
        nonlocal reports
        reports -= _collect(shared.reports, digests, counted)
        for process in [p for p in running if not p.is_alive()]:
            running.remove(process)
            if process.exitcode != 0:
                raise RuntimeError(f"{process.name} failed (exit code {process.exitcode}); the shadow "
                                   "tables are kept: run the rebuild again to resume")
        if progress:
            progress(_mean_position(shadows, head), head)

    try:
        for process in running:
            process.start()
        fill(env, mine, scoring, page, head, shared, lambda _: watch)  # env as the workers', for SQLite's lock timeout
        while running:
            running[0].join(timeout=0.5)
            watch()
        for _ in range(reports):
            _add(shared.reports.get(timeout=5), digests, counted)
    except queue.Empty:
        return None, counted  # a process ended without reporting: the caller says so
    finally:
        for process in running:  # only after a failure: the others' work is resumable
            process.terminate()
            process.join()
        shared.reports.close()
    return digests if scoring else None, counted


def _mean_position(shadows: Sequence[ReadModel], head: int) -> int:
    return sum(min(s.position(), head) for s in shadows) // len(shadows)


def _collect(reports: Any, digests: Digests, counted: dict[str, int]) -> int:
    """The reports waiting now (a worker's exit waits until its report is read)."""
    found = 0
    while True:
        try:
            _add(reports.get_nowait(), digests, counted)
        except queue.Empty:
            return found
        found += 1


def _add(report: tuple[dict[str, int], Digests], digests: Digests, counted: dict[str, int]) -> None:
    counted.update(report[0])
    digests.update(report[1])


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


def swap_in(
    store: ViewStore, shadows: Sequence[ReadModel], counted: Mapping[str, int] | None = None
) -> list[Rebuilt]:
    """One transaction: live tables := shadow rows, live position := shadow position, shadow gone.
    Each model's rows are reported as `counted` (before the swap: the same rows), or counted.

    The live tables are dropped and the shadow's renamed to take their place (rows are not
    copied), with the indexes a worker built on them once filled; any others are built here,
    so a rebuild also brings them to the current table definitions. Both positions are read
    under their locks, so a live runner's page cannot commit in between (it finds its position
    moved and starts again from the swapped-in one).
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
            store.drop(cursor, live.drop_tables())
            store.execute(cursor, renames)
            store.execute(cursor, live.index_statements(store.indexes(cursor)))
            store.reset_tracking(cursor, live.tracking_name, position)
            store.reset_tracking(cursor, shadow.tracking_name, None)
            done.append((live, position))
    known = counted or {}
    return [Rebuilt(live.name, position, known[live.name] if live.name in known else live.count())
            for live, position in done]
