"""Working days: Monday to Friday minus the policy's public holidays.

The approval deadline (five working days in the seed) and task delays are counted in working
days, so the calendar is part of the policy, not of the machine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache


class WorkingCalendar:
    def __init__(self, holidays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (the start day itself is not counted)."""
        day = start
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end`; 0 when `end` <= `start`."""
        if end <= start:
            return 0
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )


@cache
def calendar_of(holidays: tuple[date, ...]) -> WorkingCalendar:
    """One calendar per holiday list: a cycle's scoring asks for it once per late task."""
    return WorkingCalendar(holidays)
