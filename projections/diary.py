"""Diary entries, kept one row each so day and week totals are a GROUP BY away.

Padding (runs of identical exact-8-hour days) and backfills (entries recorded long after the
day they describe) are flags for the monitoring team and inspectors, never penalties; they are
computed when asked, from these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from domain.diary import DiaryDay
from projections.base import Positioned, ReadModel
from projections.store import Statement


class Diary(ReadModel):
    name = "diary"
    tables: ClassVar[dict[str, str]] = {
        "diary_entries": (
            "official_id TEXT, day TEXT, entry_no INTEGER, cycle_id TEXT, hours NUMERIC, "
            "task_id TEXT, duty TEXT, products INTEGER, description TEXT, recorded_at TEXT, "
            "voided_reason TEXT, position INTEGER, PRIMARY KEY (official_id, day, entry_no)"
        ),
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {"by_cycle": ("diary_entries", "cycle_id, official_id")}

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        out: list[Statement] = []
        for position, e in page:
            if isinstance(e, DiaryDay.WorkLogged):
                out.append(self.s(
                    "INSERT INTO {diary_entries} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                    (str(e.official_id), e.occurred_on.isoformat(), e.entry_no, str(e.cycle_id),
                     str(e.hours), None if e.task_id is None else str(e.task_id), e.duty,
                     e.products, e.description, e.timestamp.isoformat(), position),
                ))
            elif isinstance(e, DiaryDay.WorkLogVoided):
                out.append(self.s(
                    "UPDATE {diary_entries} SET voided_reason = ?, position = ? "
                    "WHERE official_id = ? AND day = ? AND entry_no = ?",
                    (e.reason, position, str(e.official_id), e.occurred_on.isoformat(),
                     e.entry_no),
                ))
        return out
