"""A score line: one signed amount of one component, and the recorded event it comes from.

Every score in the product is a sum of these lines, so an inspector can trace each point to an
event, its author (the `actor` the Ledger stamps on every event) and its recording time. Amounts
are quantised to 0.01 (ROUND_HALF_UP) line by line *before* they are added, so a total always
equals the sum of its lines to the last digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Protocol
from uuid import UUID

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Components, in the order a score table shows them.
TASK = "task"
UNIT = "unit"
DISCIPLINE = "discipline"
CONDUCT = "conduct"
APPROVAL = "approval"
CLAMP = "clamp"
RATING = "rating"  # always 0.00: explains a rating override, never moves points
POINT_COMPONENTS = (TASK, UNIT, DISCIPLINE, CONDUCT, APPROVAL, CLAMP)


def cents(amount: Decimal) -> Decimal:
    """Quantise to 0.01, half up, with no negative zero (so a digest never sees "-0.00")."""
    q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if q == 0 else q


def fmt_points(amount: Decimal) -> str:
    """Points as printed in notes: `2`, `12.5`, `-0.25` (no trailing zeros)."""
    text = f"{cents(amount):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class Rating(str, Enum):
    EXCELLENT = "excellent"
    GOOD = "good"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"

    @property
    def label_vi(self) -> str:
        return _LABELS_VI[self]

    @property
    def label_en(self) -> str:
        return _LABELS_EN[self]


_LABELS_VI = {
    Rating.EXCELLENT: "Hoàn thành xuất sắc nhiệm vụ",
    Rating.GOOD: "Hoàn thành tốt nhiệm vụ",
    Rating.COMPLETED: "Hoàn thành nhiệm vụ",
    Rating.NOT_COMPLETED: "Không hoàn thành nhiệm vụ",
}
_LABELS_EN = {
    Rating.EXCELLENT: "completed tasks excellently",
    Rating.GOOD: "completed tasks well",
    Rating.COMPLETED: "completed tasks",
    Rating.NOT_COMPLETED: "did not complete tasks",
}


class RecordedEvent(Protocol):
    """What a line needs of a stored domain event (any `Aggregate.Event` has these)."""

    @property
    def originator_id(self) -> UUID: ...

    @property
    def originator_version(self) -> int: ...

    @property
    def timestamp(self) -> datetime: ...


@dataclass(frozen=True)
class Contribution:
    official_id: UUID
    component: str  # one of POINT_COMPONENTS or RATING
    delta: Decimal  # quantised to 0.01, ROUND_HALF_UP
    event_id: str | None  # f"{originator_id}:{originator_version}"; None for a derived line
    event_type: str  # the event class name, or a derived kind ("MemberScore", "Clamp", ...)
    actor_id: UUID | None
    actor_role: str | None
    recorded_at: datetime | None
    note: str  # Vietnamese first, then English
    basis_official_id: UUID | None = None  # a leader's unit line: the member it derives from
    position: int | None = None  # the event's log position, where the reader stamped one


def event_id_of(event: RecordedEvent) -> str:
    return f"{event.originator_id}:{event.originator_version}"


def actor_of(event: object) -> tuple[UUID | None, str | None]:
    """The stamped `actor` metadata (an `Actor`, or a mapping once decoded loosely), if any."""
    actor = getattr(event, "actor", None)
    if actor is None:
        return None, None
    if isinstance(actor, Mapping):
        official, role = actor.get("official_id"), actor.get("role")
    else:
        official, role = getattr(actor, "official_id", None), getattr(actor, "role", None)
    if isinstance(official, str):
        official = UUID(official)
    return (
        official if isinstance(official, UUID) else None,
        role if isinstance(role, str) else None,
    )


def line(
    official_id: UUID,
    component: str,
    delta: Decimal,
    event: RecordedEvent,
    note: str,
    basis_official_id: UUID | None = None,
) -> Contribution:
    """A line caused by one recorded event."""
    actor_id, actor_role = actor_of(event)
    return Contribution(
        official_id=official_id,
        component=component,
        delta=cents(delta),
        event_id=event_id_of(event),
        event_type=type(event).__name__,
        actor_id=actor_id,
        actor_role=actor_role,
        recorded_at=event.timestamp,
        note=note,
        basis_official_id=basis_official_id,
        position=getattr(event, "notification_id", None),
    )


def derived_line(
    official_id: UUID,
    component: str,
    delta: Decimal,
    event_type: str,
    note: str,
    basis_official_id: UUID | None = None,
) -> Contribution:
    """A line that follows from other lines (a member's score, a clamp, the excellent cap)."""
    return Contribution(
        official_id=official_id,
        component=component,
        delta=cents(delta),
        event_id=None,
        event_type=event_type,
        actor_id=None,
        actor_role=None,
        recorded_at=None,
        note=note,
        basis_official_id=basis_official_id,
    )


def total_of(lines: list[Contribution], component: str | None = None) -> Decimal:
    return sum((c.delta for c in lines if component is None or c.component == component), ZERO)
