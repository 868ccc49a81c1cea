"""The ledger's log, read back: the part of the `Ledger` that needs no domain model.

A rebuild's worker is a new interpreter, and importing the commands imports every aggregate,
of whose ~110 event classes the library makes a dataclass each: ~0.1 s before the worker could
read anything, in a rebuild that takes under half a second at 60,000 events. Reading needs
none of it: the mapper imports an event's module when it first decodes one of its kind, and
the diary is copied from the stored JSON untyped. So a worker reads through a `LedgerLog`, and
imports the domain only if it goes on to score.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from domain.persistence import log_rows

PAGE = 5_000


class LedgerLog(Application[UUID]):
    name = "Ledger"  # fixes the PostgreSQL table names (ledger_events) and env prefixes

    def read_events(
        self, topics: Sequence[str] = (), up_to: int | None = None, page: int = PAGE
    ) -> Iterator[Any]:
        """The log in recording order, decoded, streamed a page at a time."""
        start = 1
        stop = up_to if up_to is not None else (self.recorder.max_notification_id() or 0)
        while True:
            rows = log_rows(self.recorder, start, stop, page, topics)
            for row in rows:
                yield self.decode(row)
            if len(rows) < page:
                return
            start = rows[-1].id + 1

    def decode(self, notification: Notification | Any) -> Any:
        """A stored event, typed again, carrying its log position (for lineage and proofs).
        Anything shaped like a library `Notification` will do (a projection's raw log row)."""
        event = self.mapper.to_domain_event(notification)
        object.__setattr__(event, "notification_id", notification.id)
        return event
