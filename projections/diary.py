"""Diary entries, kept one row each so day and week totals are a GROUP BY away.

Padding (runs of identical exact-8-hour days) and backfills (entries recorded long after the
day they describe) are flags for the monitoring team and inspectors, never penalties; they are
computed when asked, from these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from domain.diary import DiaryDay
from projections.base import Positioned, ReadModel, topics_of
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
    topics = topics_of(DiaryDay.WorkLogged, DiaryDay.WorkLogVoided)

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        """Runs of new entries go as one many-row statement: a page is mostly diary entries."""
        out: list[Statement] = []
        insert = self.q("INSERT INTO {diary_entries} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        rows: list[tuple[object, ...]] = []
        for position, e in page:
            if isinstance(e, DiaryDay.WorkLogged):
                rows.append(
                    (str(e.official_id), e.occurred_on.isoformat(), e.entry_no, str(e.cycle_id),
                     str(e.hours), None if e.task_id is None else str(e.task_id), e.duty,
                     e.products, e.description, e.timestamp.isoformat(), None, position)
                )
            elif isinstance(e, DiaryDay.WorkLogVoided):
                if rows:
                    out.append(Statement(insert, many=rows))
                    rows = []
                out.append(self.s(
                    "UPDATE {diary_entries} SET voided_reason = ?, position = ? "
                    "WHERE official_id = ? AND day = ? AND entry_no = ?",
                    (e.reason, position, str(e.official_id), e.occurred_on.isoformat(),
                     e.entry_no),
                ))
        if rows:
            out.append(Statement(insert, many=rows))
        return out
