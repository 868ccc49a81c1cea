"""One process's share of a rebuild (`projections.rebuild`), as a worker process runs it.

A worker is a new interpreter, so what this module imports is what every worker waits for
before it can read a row. It imports no read model and no domain model: a worker imports the
models it fills (`MODEL_TOPICS`), reads the log through `domain.ledger_log.LedgerLog`, and
imports the domain only if it goes on to score (and finds a cycle left to take).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import resolve_topic

from domain.ledger_log import LedgerLog
from projections.base import ReadModel
from projections.runner import Progress, Runner
from projections.store import ViewStore

# Every read model, by name: a worker imports only those it fills.
MODEL_TOPICS = {
    "accountability": "projections.accountability:Accountability",
    "approvals": "projections.approvals:Approvals",
    "diary": "projections.diary:Diary",
    "scores": "projections.scores:Scores",
    "log_scopes": "projections.log_scopes:LogScopes",
}
SCORES, INDEX = "scores", "log_scopes"


def model_class(name: str) -> type[ReadModel]:
    found: type[ReadModel] = resolve_topic(MODEL_TOPICS[name])
    return found


@dataclass
class Scoring:
    """What the workers share to score the cycles between them, and to report."""

    reports: Any  # a queue: each worker's rows of the models it filled, and digests of the cycles it scored
    taken: Any  # a shared counter: the number of the next cycle not yet taken
    cycles: Any  # a shared number: the cycles to score, known once the index is filled
    index_filled: Any  # an event: set once the index is filled to the head

    @classmethod
    def made_by(cls, context: Any) -> Scoring:
        """Shared through `context` (a `multiprocessing` context, or the module itself)."""
        return cls(context.Queue(), context.Value("q", 0), context.Value("q", 0), context.Event())

    def index_done(self, cycles: int) -> None:
        self.cycles.value = cycles
        self.index_filled.set()

    def take(self) -> int:
        with self.taken.get_lock():
            number: int = self.taken.value
            self.taken.value += 1
        return number

    def cycles_left(self) -> bool:
        return bool(self.taken.value < self.cycles.value)


def fill_chain(
    env: dict[str, str], names: Sequence[str], scoring: bool, page: int, head: int, shared: Scoring, parent: int
) -> None:
    """A worker process: its share of the rebuild (`fill`), stopped if the rebuild is gone.

    Once its report is through the pipe, a worker process leaves without the interpreter's
    teardown of every module (~20 ms that the rebuild's check and swap wait for)."""
    fill(env, names, scoring, page, head, shared, lambda names: _stop_when_orphaned(names, parent))
    if multiprocessing.parent_process() is not None:
        shared.reports.close()
        shared.reports.join_thread()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def fill(
    env: dict[str, str], names: Sequence[str], scoring: bool, page: int, head: int, shared: Scoring,
    between: Callable[[Sequence[str]], Progress],
) -> None:
    """One process's share: its shadows caught up to `head` by one runner, and their rows
    counted; then, if `scoring`, the cycles it takes scored from the filled index (waiting for
    it). Both are sent back in one report. `between(names)` is called after each page or cycle
    of those models (and while waiting)."""
    counted: dict[str, int] = {}
    digests: dict[str, tuple[str, str]] = {}
    with no_cycle_collection():
        if names:
            log = LedgerLog(env=env)
            try:
                counted = _fill_models(log, names, page, head, shared, between)
            finally:
                log.close()
        if scoring:
            digests = _score(env, head, shared, between([SCORES]))
    shared.reports.put((counted, digests))


def _fill_models(
    log: LedgerLog, names: Sequence[str], page: int, head: int, shared: Scoring,
    between: Callable[[Sequence[str]], Progress],
) -> dict[str, int]:
    between(names)(0, head)  # a worker that took long to start may find the rebuild gone
    store = ViewStore(log.recorder)
    runner = Runner(log, [model_class(name)(store, shadow=True) for name in names], page=page, wait_to_write=False)
    runner.catch_up(stop=head, progress=between(names))
    index: Any = next((model for model in runner.models if model.name == INDEX), None)
    if index is not None:
        shared.index_done(index.cycles(head))
    for model in runner.models:  # here, while the others still work, not at the swap
        model.build_indexes()
    return {model.name: model.count() for model in runner.models}


def _score(env: dict[str, str], head: int, shared: Scoring, stop: Progress) -> dict[str, tuple[str, str]]:
    """The cycles this process takes, once the index is filled; none when the others have
    taken them all meanwhile (and then the domain is never imported here)."""
    while not shared.index_filled.wait(timeout=1):
        stop(0, head)
    if not shared.cycles_left():
        return {}
    from domain.ledger import Ledger  # only here: see the module's docstring

    ledger = Ledger(env=env)
    try:
        scores: Any = model_class(SCORES)(ViewStore(ledger.recorder), shadow=True)
        digests: dict[str, tuple[str, str]] = scores.rescore(ledger, head, progress=stop, take=shared.take)
        return digests
    finally:
        ledger.close()


def _stop_when_orphaned(names: Sequence[str], parent: int) -> Progress:
    """A worker stops after the page (or cycle) it is on when the rebuild that started it is
    gone (killed): a stopped rebuild does no work."""

    def check(_: int, __: int) -> None:
        if os.getppid() != parent:
            after = ("the next rebuild scores every cycle again" if SCORES in names
                     else "the next rebuild resumes from here")
            raise SystemExit(f"rebuild process {parent} is gone: {', '.join(names)} stops here; {after}")

    return check


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector off while a rebuild fills and scores. Its passes over the
    millions of short-lived events and rows took a tenth of that work, and found next to
    nothing: under 100 objects in cycles over all of a 250,000-event rebuild (reference counting
    frees everything else as before, so memory stays as it was)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
