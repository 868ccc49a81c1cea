"""Diary entries, kept as one row per official and day (per page of the log that logged them).

A province's month is two thirds diary entries, so this model is most of a rebuild: a row per
entry cost more to write than everything else a rebuild does. A day's entries go as one JSON
list in one row, and they are copied from the stored event's JSON without typing them first
(`ReadModel.reads_as`). The entries of a day logged in two pages (a live runner's, mostly) make
two rows; voids are rows of their own. `projections.queries` puts a day back together.

Padding (runs of identical exact-8-hour days) and backfills (entries recorded long after the
day they describe) are flags for the monitoring team and inspectors, never penalties; they are
computed when asked, from these rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec

from domain.codec import Fields
from domain.diary import DiaryDay
from projections.base import Positioned, ReadModel, topics_of
from projections.store import Statement


class Logged(Fields):
    official_id: str
    occurred_on: str
    entry_no: int
    hours: str
    task_id: str | None
    duty: str
    products: int
    description: str
    timestamp: str


class Voided(Fields):
    official_id: str
    occurred_on: str
    entry_no: int
    reason: str


# One entry, as the `entries` column lists them.
ENTRY_FIELDS = ("entry_no", "hours", "task_id", "duty", "products", "description", "recorded_at", "position")
_encode = msgspec.json.Encoder().encode


class Diary(ReadModel):
    name = "diary"
    tables: ClassVar[dict[str, str]] = {
        # Keyed by the log position of the row's last entry (unique: one event, one official
        # and day), so a rebuild appends rows in key order instead of inserting them all over an
        # (official, day) key; the index for queries is built once, at the swap. (Tables made
        # before keep their (official, day, position) key: same columns, same order.)
        "diary_days": "official_id TEXT, day TEXT, position INTEGER PRIMARY KEY, entries TEXT",
        "diary_voids": (
            "official_id TEXT, day TEXT, entry_no INTEGER, reason TEXT, position INTEGER, "
            "PRIMARY KEY (official_id, day, entry_no)"
        ),
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {"by_official": ("diary_days", "official_id, day")}
    reads_as: ClassVar[dict[str, type[Fields]]] = dict(
        zip(topics_of(DiaryDay.WorkLogged, DiaryDay.WorkLogVoided), (Logged, Voided), strict=True)
    )
    topics = tuple(reads_as)

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        days: dict[tuple[str, str], list[Any]] = {}  # (official, day) -> [last position, entries]
        voids: list[tuple[object, ...]] = []
        for position, e in page:
            key = (e.official_id, e.occurred_on)
            if isinstance(e, Logged):
                entry = (e.entry_no, e.hours, e.task_id, e.duty, e.products, e.description, e.timestamp, position)
                day = days.get(key)
                if day is None:
                    days[key] = [position, [entry]]
                else:
                    day[0] = position
                    day[1].append(entry)
            else:
                voids.append((*key, e.entry_no, e.reason, position))
        out = []
        if days:
            out.append(Statement(self.q("INSERT INTO {diary_days} VALUES (?, ?, ?, ?)"), many=[
                (official_id, day, position, _encode(entries).decode())
                for (official_id, day), (position, entries) in days.items()
            ]))
        if voids:
            out.append(Statement(self.q("INSERT INTO {diary_voids} VALUES (?, ?, ?, ?, ?)"), many=voids))
        return out

    def dump(self) -> dict[str, list[str]]:
        """Entry by entry: how a log's entries fall into day rows depends on its paging, and a
        rebuild must come out equal to the live model that was fed one event at a time."""
        dumped = super().dump()
        dumped["diary_days"] = sorted(
            json.dumps({"official_id": r["official_id"], "day": r["day"], **entry}, sort_keys=True)
            for r in self.store.query(self.q("SELECT official_id, day, entries FROM {diary_days}"))
            for entry in entries_of(r["entries"])
        )
        return dumped

    def count(self) -> int:
        """Entries and voids, not day rows (which depend on paging)."""
        cast = "::json" if self.store.is_postgres else ""
        entries = self.store.query(self.q(f"SELECT SUM(json_array_length(entries{cast})) AS n FROM {{diary_days}}"))
        voids = self.store.query(self.q("SELECT COUNT(*) AS n FROM {diary_voids}"))
        return int(entries[0]["n"] or 0) + int(voids[0]["n"])


def entries_of(column: str) -> list[dict[str, Any]]:
    return [dict(zip(ENTRY_FIELDS, values, strict=True)) for values in json.loads(column)]

