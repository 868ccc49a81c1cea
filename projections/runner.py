"""The pull loop that feeds read models from the ledger's notification log.

One page of the log is read (raw rows, only the topics some model reads) and decoded once, then
every read model that has not yet seen it turns its own events into SQL, and all of that plus
each model's tracking row commits in one transaction. A model's recorded position is checked
inside that transaction, so two runners (or a runner and a rebuild swap) can never apply the
same events twice: the loser's page rolls back and it re-reads its position. SQLite has no
subscription, so `follow` polls.

A model may defer (its `apply` returns None): the page is absorbed into its memory and neither
its rows nor its tracking row are written. Its recorded position stays where the database has
it, so a crash just makes it fold those events again; the last page of every `catch_up` (and
the model itself, when it chooses) flushes everything deferred with the tracking row moved to
the position its memory has reached, in one transaction as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from domain.codec import Stamped, TypedMsgspecMapper
from domain.ledger_log import LedgerLog
from domain.persistence import RawRow, id_text, raw_log_rows, with_id
from projections.base import ReadModel
from projections.store import Busy, Statement, ViewStore

DEFAULT_PAGE = 5_000

Progress = Callable[[int, int], None]  # (position reached, head)
Writes = list[tuple[str, int, list[Statement]]]  # (tracking name, position, its SQL)


class ProjectionMoved(RuntimeError):
    """Another process moved a projection's position while this one was applying a page."""


# Pages a runner that does not wait to write (`wait_to_write`) may hold before it waits.
MAX_HELD = 8


class Runner:
    def __init__(
        self, ledger: LedgerLog, models: Sequence[ReadModel], page: int = DEFAULT_PAGE, wait_to_write: bool = True
    ) -> None:
        """`wait_to_write=False`: where the database is busy writing for another connection
        (SQLite writes for one at a time), a page's SQL is held and the next page read, and all
        of it written in one transaction once the database is free (up to `MAX_HELD` pages).
        A rebuild's processes fill so: the diary's spent a third of its time waiting for the
        others' pages of index and tasks to commit."""
        self.ledger = ledger
        self.models = list(models)
        self.page = page
        self.wait_to_write = wait_to_write
        self.positions: dict[str, int] = {}  # what the database holds: checked, then moved
        self.fed: dict[str, int] = {}  # what each model's memory has absorbed (>= positions)

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
            self.fed[model.tracking_name] = position

    def catch_up(self, stop: int | None = None, progress: Progress | None = None) -> int:
        """Apply everything up to `stop` (default: the head now); returns the events read (of
        the topics the models read)."""
        if not self.positions:
            self.prepare()
        head = self.ledger.recorder.max_notification_id() or 0
        if stop is not None:
            head = min(head, stop)
        applied = 0
        start = min(self.fed.values()) + 1
        self.reads = {m.tracking_name: frozenset(m.topics) or None for m in self.models}
        mapper = cast(TypedMsgspecMapper[Any], self.ledger.mapper)
        self.readers = {m.tracking_name: {t: mapper.fields_reader(t, into) for t, into in m.reads_as.items()}
                        for m in self.models}
        wanted = self._wanted()
        decoded = self._decoded()
        decode = self.ledger.decode
        held: Writes = []
        pages_held = 0
        try:
            while start <= head:
                # Rows as stored, made `LogRow`s (ids parsed) only for the events decoded typed.
                rows = raw_log_rows(self.ledger.recorder, start, head, self.page, wanted)
                # A short page read everything up to the head: the models have seen all of it.
                last = rows[-1][0] if len(rows) == self.page else head
                page = [(row[0], decode(with_id(row)) if decoded is None or row[3] in decoded else None, row)
                        for row in rows]
                final = last >= head
                held, pages_held = held_with(held, self._prepare(page, last, final)), pages_held + 1
                if self._write(held, wait=self.wait_to_write or final or pages_held >= MAX_HELD):
                    held, pages_held = [], 0
                    if progress:
                        progress(last, head)
                applied += len(page)
                start = last + 1
            if self.fed != self.positions:  # `stop` fell in a gap of the ids: flush on its own
                self._write(self._prepare([], 0, final=True))
        except Exception:
            self.positions.clear()  # memory may be ahead of the database: re-prepare
            self.fed.clear()
            raise
        return applied

    def _wanted(self) -> list[str]:
        """The topics any model reads; empty (read everything) when one reads every event."""
        if any(topics is None for topics in self.reads.values()):
            return []
        return sorted(set().union(*(t for t in self.reads.values() if t is not None)))

    def _decoded(self) -> frozenset[str] | None:
        """The topics some model needs typed (None: all); the rest are passed as positions, or
        decoded into the fields a model reads them as."""
        found: set[str] = set()
        for model in self.models:
            topics = self.reads[model.tracking_name]
            if model.decodes and topics is None:
                return None
            found |= (topics - model.reads_as.keys()) if model.decodes and topics else set()
        return frozenset(found)

    def _own(self, model: ReadModel, page: list[tuple[int, Any, RawRow]], fed: int) -> list[tuple[int, Any]]:
        """The part of the page this model has not seen, of the event classes it reads."""
        topics = self.reads[model.tracking_name]
        if model.reads_as:
            readers = self.readers[model.tracking_name]
            return [(i, self._fields(model, readers[r[3]], r) if r[3] in readers else e) for i, e, r in page
                    if i > fed and (topics is None or r[3] in topics)]
        return [(i, e) for i, e, r in page if i > fed and (topics is None or r[3] in topics)]

    def _fields(self, model: ReadModel, read: Callable[[bytes], Any], row: RawRow) -> Any:
        fields = read(row[4])
        if fields is None:  # encrypted, compressed, or an older class_version: the full path
            mapper = cast(TypedMsgspecMapper[Any], self.ledger.mapper)
            return mapper.decode_fields(with_id(row), model.reads_as[row[3]])
        if isinstance(fields, Stamped):
            fields.originator_id, fields.originator_version = id_text(row[1]), row[2]
        return fields

    def _prepare(self, page: list[tuple[int, Any, RawRow]], last: int, final: bool) -> Writes:
        """Every model's SQL, worked out before its transaction opens (scoring a province's
        cycles takes seconds, and PostgreSQL ends a session idle in a transaction that long)."""
        writes: Writes = []
        for model in self.models:
            name = model.tracking_name
            fed = self.fed[name]
            applied = model.apply(self._own(model, page, fed)) if fed < last else None
            fed = self.fed[name] = max(fed, last)
            if applied is None and (not final or fed == self.positions[name]):
                continue  # deferred, or nothing new: the database keeps its position
            writes.append((name, fed, model.flush() if applied is None else applied))
        return writes

    def _write(self, writes: Writes, wait: bool = True) -> bool:
        """Commits the models' SQL and moves their positions; False (nothing written) where the
        database is busy writing for another connection and `wait` is False."""
        store = self.store
        moved: dict[str, int] = {}
        try:
            with store.transaction() as cursor:
                for name, fed, statements in writes:
                    recorded = store.lock_position(cursor, name, wait=wait or bool(moved))
                    if recorded != self.positions[name]:
                        raise ProjectionMoved(f"{name} is at {recorded}, expected {self.positions[name]}")
                    store.execute(cursor, statements)
                    store.record(cursor, name, fed)
                    moved[name] = fed
        except Busy:
            return False
        self.positions.update(moved)
        return True

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


def held_with(held: Writes, more: Writes) -> Writes:
    """Two pages' writes as one: each model's statements in page order, its last position."""
    merged = {name: (fed, statements) for name, fed, statements in held}
    for name, fed, statements in more:
        before = merged.get(name)
        merged[name] = (fed, before[1] + statements if before else statements)
    return [(name, fed, statements) for name, (fed, statements) in merged.items()]
