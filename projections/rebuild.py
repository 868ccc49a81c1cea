"""Rebuilding read models without ever showing users a half-built table.

A rebuild fills shadow tables (their own tracking rows, so a killed rebuild resumes where it
stopped) while the live tables keep serving. When the shadow has caught up, every cycle's
score digest in it must equal the digest the scoring fold computes straight from the log at
the same position; only then, in one transaction, do the shadow's rows replace the live ones
and the live tracking position move to the shadow's.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.cycles import Cycle
from domain.discipline import ConductAssessment
from domain.ledger import Ledger
from domain.scoring import CycleFold
from domain.targets import Target
from domain.tasks import Task
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel, topics_of
from projections.diary import Diary
from projections.log_scopes import LogScopes
from projections.runner import DEFAULT_PAGE, Progress, Runner
from projections.scores import TOPICS, Scores
from projections.store import Statement, ViewStore

MODELS: dict[str, type[ReadModel]] = {
    m.name: m for m in (Accountability, Approvals, Diary, Scores, LogScopes)
}


# Events that name the one cycle their aggregate belongs to.
OWN_CYCLE = (Task.TaskAssigned, ConductAssessment.ConductAssessmentStarted, Target.TargetSet)
CYCLE_EVENTS = (Cycle.CycleOpened, Cycle.CycleClosed, Cycle.CycleReopened)


class RebuildMismatch(RuntimeError):
    """The rebuilt scores disagree with a fold of the log: nothing was swapped in."""


@dataclass(frozen=True)
class Rebuilt:
    name: str
    position: int
    rows: int


def select(names: Sequence[str] | None) -> list[type[ReadModel]]:
    if not names:
        return list(MODELS.values())
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown projection {unknown[0]!r}; choose from {', '.join(MODELS)}")
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
    topics, and the scoring fold's check runs in one more: the models share nothing but the
    log, and one core cannot keep up with a province. The comparison and the swap stay here,
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
    scores = next((s for s in shadows if isinstance(s, Scores)), None)
    if workers > 1 and len(shadows) > 1 and _on_disk(ledger):
        digests = _fill_in_processes(ledger, shadows, page, progress, workers)
    else:
        Runner(ledger, shadows, page=page).catch_up(progress=progress)
        for shadow in shadows:  # their rows are written: the check's fold takes their memory
            shadow.forget()
        digests = log_digests(ledger, scores.position()) if scores else None
    if scores is not None:
        assert digests is not None
        check_scores(scores, digests)
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


CHECK = "scoring fold"  # the job that folds the log for `check_scores`


def _fill_in_processes(
    ledger: Ledger, shadows: Sequence[ReadModel], page: int, progress: Progress | None, workers: int
) -> Digests | None:
    """Fill each shadow in a process of its own, the heaviest first, and fold the log for the
    check in another (when scores are rebuilt); report the mean position; return the fold's
    digests.

    One process per job, started when a slot is free and ended when its job is done: no idle
    pool is left behind if this process is killed (a working one stops after its page).
    """
    head = ledger.recorder.max_notification_id() or 0
    # The parent made the tables; workers creating them again at once race in PostgreSQL's
    # catalog ("tuple concurrently updated").
    env = {**ledger.env, "CREATE_TABLE": "n"}
    # SQLite has one writer: the scores worker writes a province's cycles in one transaction,
    # scoring them as it goes, for seconds; the other workers wait for it rather than fail.
    env.setdefault("SQLITE_LOCK_TIMEOUT", "300")
    jobs = [s.name for s in shadows] + ([CHECK] if any(isinstance(s, Scores) for s in shadows) else [])
    waiting = sorted(jobs, key=lambda name: WEIGHT.get(name, 0), reverse=True)
    context = multiprocessing.get_context("spawn")  # no database connection crosses a fork
    answer, sender = context.Pipe(duplex=False)
    digests: Digests | None = None
    running: list[Any] = []
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                name = waiting.pop(0)
                target, args = ((fold_log, (env, head, sender)) if name == CHECK
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


def fill_shadow(env: dict[str, str], name: str, page: int, head: int, parent: int) -> None:
    """A worker process: one shadow read model caught up to `head`. It stops after the page
    it is on when the rebuild that started it is gone (killed): a stopped rebuild does no work."""

    def stop_when_orphaned(_: int, __: int) -> None:
        if os.getppid() != parent:
            raise SystemExit(f"rebuild process {parent} is gone: {name} stops here, resumable")

    ledger = Ledger(env=env)
    try:
        store = ViewStore(ledger.recorder)
        runner = Runner(ledger, [MODELS[name](store, shadow=True)], page=page)
        runner.catch_up(stop=head, progress=stop_when_orphaned)
    finally:
        ledger.close()


def fold_log(env: dict[str, str], head: int, sender: Any) -> None:
    """A worker process: the log's digests for `check_scores`, sent back to the rebuild."""
    ledger = Ledger(env=env)
    try:
        sender.send(log_digests(ledger, head))
    finally:
        ledger.close()


# Rough share of a rebuild's work, so the longest start first when there are fewer workers.
WEIGHT = {"diary": 4, "scores": 3, CHECK: 3, "log_scopes": 2, "approvals": 1}

# cycle id -> (the policy version it is scored by, the digest of its table)
Digests = dict[str, tuple[str, str]]


def log_digests(ledger: Ledger, position: int) -> Digests:
    """Every cycle's score digest, folded straight from the log up to `position`.

    One read of the log's scoring events feeds a fresh `CycleFold` per cycle (not one read per
    cycle: a province has a hundred). An event created for a cycle (a task, an assessment, a
    target) and its aggregate's later events go to that cycle's fold only, everything else to
    every fold; the folds ignore other cycles' events anyway, so this is the same as `score`."""
    opened = [e for e in ledger.read_events(topics=topics_of(Cycle.CycleOpened), up_to=position)]
    folds = {e.originator_id: CycleFold(e.originator_id) for e in opened}
    home: dict[UUID, UUID] = {}  # aggregate id -> the cycle it was created for
    for event in ledger.read_events(topics=TOPICS, up_to=position) if folds else ():
        if isinstance(event, OWN_CYCLE):
            home[event.originator_id] = event.cycle_id
        cycle_id = home.get(event.originator_id)
        if cycle_id is None and isinstance(event, CYCLE_EVENTS):
            cycle_id = event.originator_id
        if cycle_id is None:
            for fold in folds.values():
                fold.apply(event)
        elif cycle_id in folds:
            folds[cycle_id].apply(event)
    registry = ledger.policies() if folds else None
    digests = {}
    for e in opened:
        assert registry is not None
        version = e.policy_version
        digests[str(e.originator_id)] = (version, folds[e.originator_id].table(
            registry.get(version).params, version).digest())
    return digests


def check_scores(scores: Scores, digests: Digests) -> None:
    """The rebuilt scores must be the fold of the log, cycle by cycle, before anything is
    swapped in."""
    position = scores.position()
    rows = scores.store.query(scores.q("SELECT cycle_id, policy_version, digest FROM {cycle_scores}"))
    stored = {row["cycle_id"]: (row["policy_version"], row["digest"]) for row in rows}
    for cycle_id in sorted(stored.keys() | digests.keys()):
        got, want = stored.get(cycle_id, ("", "none")), digests.get(cycle_id, ("", "none"))
        if got != want:
            raise RebuildMismatch(
                f"cycle {cycle_id}: rebuilt digest {got[1][:12]} (policy {got[0]}) differs from the "
                f"log's {want[1][:12]} (policy {want[0]}) at position {position}; live tables left as "
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
