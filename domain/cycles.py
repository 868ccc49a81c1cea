"""Evaluation cycles of a commune: the period whose events are scored together.

Cycle membership follows business dates (`occurred_on`, `due_on`), never recording time, so a
late correction lands in the period it is about.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput


class CycleKind(str, Enum):
    FIFTEEN_DAYS = "15-day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


def cycle_id_for(unit_id: UUID, kind: CycleKind, starts_on: date) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:cycle:{unit_id}:{kind.value}:{starts_on.isoformat()}")


class Cycle(Aggregate):
    class CycleOpened(Aggregate.Created):
        unit_id: UUID
        kind: CycleKind
        starts_on: date
        ends_on: date
        policy_version: str

    class CycleClosed(Aggregate.Event):
        table_digest: str
        log_position: int
        occurred_on: date
        checkpoint: str  # the signed checkpoint of the log at closing (replay.checkpoints); "" if none

    class CycleReopened(Aggregate.Event):
        reason: str
        occurred_on: date

    @staticmethod
    def create_id(unit_id: UUID, kind: CycleKind, starts_on: date, **_: object) -> UUID:
        return cycle_id_for(unit_id, kind, starts_on)

    @event(CycleOpened)
    def __init__(
        self, unit_id: UUID, kind: CycleKind, starts_on: date, ends_on: date, policy_version: str
    ) -> None:
        self.unit_id = unit_id
        self.kind = kind
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.policy_version = policy_version
        self.is_closed = False

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def check_covers(self, field: str, day: date) -> None:
        if not self.covers(day):
            raise InvalidInput(
                field,
                f"{day.isoformat()} is outside the cycle "
                f"{self.starts_on.isoformat()}..{self.ends_on.isoformat()}",
            )

    def check_open(self) -> None:
        if self.is_closed:
            raise Conflict("cycle_id", "the cycle is closed; only an appeal decision may reopen it")

    def close(self, table_digest: str, log_position: int, on: date, checkpoint: str = "") -> None:
        self.check_open()
        if on < self.ends_on:
            raise InvalidInput("on", f"the cycle runs until {self.ends_on.isoformat()}")
        self._closed(table_digest=table_digest, log_position=log_position, occurred_on=on, checkpoint=checkpoint)

    @event(CycleClosed)
    def _closed(self, table_digest: str, log_position: int, occurred_on: date, checkpoint: str = "") -> None:
        self.is_closed = True
        self.table_digest = table_digest

    def reopen(self, reason: str, on: date) -> None:
        if not self.is_closed:
            raise Conflict("cycle_id", "the cycle is open")
        if not reason.strip():
            raise InvalidInput("reason", "must say which decision reopens the cycle")
        self._reopened(reason=reason, occurred_on=on)

    @event(CycleReopened)
    def _reopened(self, reason: str, occurred_on: date) -> None:
        self.is_closed = False
