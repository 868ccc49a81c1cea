"""The daily work diary (nhật ký công việc): one short stream per official per day.

Keying the stream by (official, day) lets the 24-hour check read one small aggregate instead
of the official's whole history.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput


def diary_day_id(official_id: UUID, day: date) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:diary:{official_id}:{day.isoformat()}")


class DiaryDay(Aggregate):
    class DiaryDayStarted(Aggregate.Created):
        official_id: UUID
        occurred_on: date

    class WorkLogged(Aggregate.Event):
        official_id: UUID
        entry_no: int
        cycle_id: UUID
        hours: Decimal
        task_id: UUID | None
        duty: str
        products: int
        description: str
        occurred_on: date

    class WorkLogVoided(Aggregate.Event):
        official_id: UUID
        entry_no: int
        reason: str
        occurred_on: date

    @staticmethod
    def create_id(official_id: UUID, occurred_on: date, **_: object) -> UUID:
        return diary_day_id(official_id, occurred_on)

    @event(DiaryDayStarted)
    def __init__(self, official_id: UUID, occurred_on: date) -> None:
        self.official_id = official_id
        self.day = occurred_on
        self.entries: dict[int, Decimal] = {}
        self.entry_cycles: dict[int, UUID] = {}
        self.next_entry_no = 1

    @property
    def hours(self) -> Decimal:
        return sum(self.entries.values(), Decimal(0))

    def log(
        self,
        cycle_id: UUID,
        hours: Decimal,
        task_id: UUID | None,
        duty: str,
        products: int,
        description: str,
        max_hours: Decimal,
    ) -> int:
        if not hours > 0:
            raise InvalidInput("hours", "must be more than 0")
        if self.hours + hours > max_hours:
            raise InvalidInput(
                "hours",
                f"{self.hours + hours} hours on {self.day.isoformat()} exceeds {max_hours} a day",
            )
        if task_id is None and not duty.strip():
            raise InvalidInput("duty", "an entry names a task or a routine duty")
        if products < 0:
            raise InvalidInput("products", "must not be negative")
        entry_no = self.next_entry_no
        self._logged(
            official_id=self.official_id, entry_no=entry_no, cycle_id=cycle_id, hours=hours, task_id=task_id, duty=duty,
            products=products, description=description, occurred_on=self.day,
        )
        return entry_no

    @event(WorkLogged)
    def _logged(
        self, official_id: UUID, entry_no: int, cycle_id: UUID, hours: Decimal, task_id: UUID | None, duty: str,
        products: int, description: str, occurred_on: date,
    ) -> None:
        self.entries[entry_no] = hours
        self.entry_cycles[entry_no] = cycle_id
        self.next_entry_no = entry_no + 1

    def void(self, entry_no: int, reason: str) -> None:
        if entry_no not in self.entries:
            raise Conflict("entry_no", f"no live entry {entry_no} on {self.day.isoformat()}")
        if not reason.strip():
            raise InvalidInput("reason", "a voided entry must say why")
        self._voided(official_id=self.official_id, entry_no=entry_no, reason=reason, occurred_on=self.day)

    @event(WorkLogVoided)
    def _voided(self, official_id: UUID, entry_no: int, reason: str, occurred_on: date) -> None:
        del self.entries[entry_no]
