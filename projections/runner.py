"""The pull loop that feeds read models from the ledger's notification log.

One page of notifications is read and decoded once, then every read model that has not yet
seen it turns it into SQL, and all of that plus each model's tracking row commits in one
transaction. A model's recorded position is checked inside that transaction, so two runners
(or a runner and a rebuild swap) can never apply the same events twice: the loser's page rolls
back and it re-reads its position. SQLite has no subscription, so `follow` polls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from domain.ledger import Ledger
from projections.base import ReadModel
from projections.store import ViewStore

DEFAULT_PAGE = 5_000

Progress = Callable[[int, int], None]  # (position reached, head)


class ProjectionMoved(RuntimeError):
    """Another process moved a projection's position while this one was applying a page."""


class Runner:
    def __init__(self, ledger: Ledger, models: Sequence[ReadModel], page: int = DEFAULT_PAGE) -> None:
        self.ledger = ledger
        self.models = list(models)
        self.page = page
        self.positions: dict[str, int] = {}

    @property
    def store(self) -> ViewStore:
        return self.models[0].store

    def prepare(self) -> None:
        """Create tables, read positions, and rebuild any in-memory state up to them."""
        for model in self.models:
            model.create_tables()
            position = model.position()
            model.forget()
            model.warm_up(self.ledger, position)
            self.positions[model.tracking_name] = position

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply everything up to `stop` (default: the head now); returns events applied."""
        if not self.positions:
            self.prepare()
        head = stop if stop is not None else (self.ledger.recorder.max_notification_id() or 0)
        applied = 0
        start = min(self.positions.values()) + 1
        while start <= head:
            notifications = self.ledger.recorder.select_notifications(
                start=start, limit=self.page, stop=head
            )
            if not notifications:
                break
            page = [(n.id, self.ledger.decode(n)) for n in notifications]
            last = notifications[-1].id
            try:
                self._commit(page, last)
            except Exception:
                self.positions.clear()  # memory may be ahead of the database: re-prepare
                raise
            applied += len(page)
            start = last + 1
            if progress:
                progress(last, head)
        return applied

    def _commit(self, page: list[tuple[int, Any]], last: int) -> None:
        store = self.store
        with store.transaction() as cursor:
            for model in self.models:
                name = model.tracking_name
                seen = self.positions[name]
                if seen >= last:
                    continue
                recorded = store.lock_position(cursor, name)
                if recorded != seen:
                    raise ProjectionMoved(f"{name} is at {recorded}, expected {seen}")
                store.execute(cursor, model.apply([(i, e) for i, e in page if i > seen]))
                store.record(cursor, name, last)
        for model in self.models:
            self.positions[model.tracking_name] = max(self.positions[model.tracking_name], last)

    def follow(self, poll: float = 1.0, until: Callable[[], bool] = lambda: False,
               progress: Progress | None = None, applied: Callable[[int], None] | None = None,
               sleep: Callable[[float], object] = time.sleep) -> None:
        """Keep applying new events until `until()` says stop; recovers from a moved position.
        `sleep` lets a caller wake the loop early (a `threading.Event().wait`)."""
        while not until():
            try:
                count = self.catch_up(progress=progress)
            except ProjectionMoved:
                continue
            if count and applied:
                applied(count)
            if not count:
                sleep(poll)
