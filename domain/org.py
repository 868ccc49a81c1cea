"""Organisation: units (province bodies, communes, departments), officials and leadership posts.

Authority under "6 rõ" follows this structure: whoever leads a unit, or a unit above it, may
assign and approve its members' work. Leadership tenures are kept with their effective dates
because accountability (joint chairman/secretary outcomes) is judged per tenure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput


class UnitKind(str, Enum):
    PROVINCE = "province"
    PROVINCE_BODY = "province_body"
    COMMUNE = "commune"
    DEPARTMENT = "department"


class Post(str, Enum):
    CHAIRMAN = "chairman"  # Chủ tịch UBND xã
    SECRETARY = "secretary"  # Bí thư Đảng ủy xã
    HEAD = "head"  # Trưởng phòng / Giám đốc trung tâm / head of a province body


POST_LABELS_VI = {
    Post.CHAIRMAN: "Chủ tịch UBND",
    Post.SECRETARY: "Bí thư Đảng ủy",
    Post.HEAD: "Trưởng đơn vị",
}


def unit_id_for(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:unit:{code}")


def official_id_for(code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:official:{code}")


@dataclass(frozen=True)
class Tenure:
    post: Post
    official_id: UUID
    starts_on: date
    ends_on: date | None = None

    def covers(self, day: date) -> bool:
        """A leader relieved on day X no longer holds the post on X: a successor may start then."""
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


class Unit(Aggregate):
    class UnitRegistered(Aggregate.Created):
        code: str
        name: str
        kind: UnitKind
        parent_id: UUID | None

    class LeaderAppointed(Aggregate.Event):
        post: Post
        official_id: UUID
        occurred_on: date

    class LeaderRelieved(Aggregate.Event):
        post: Post
        official_id: UUID
        occurred_on: date
        reason: str

    @staticmethod
    def create_id(code: str, **_: object) -> UUID:
        return unit_id_for(code)

    @event(UnitRegistered)
    def __init__(self, code: str, name: str, kind: UnitKind, parent_id: UUID | None) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.parent_id = parent_id
        self.tenures: list[Tenure] = []

    def leaders_on(self, day: date) -> dict[Post, UUID]:
        return {t.post: t.official_id for t in self.tenures if t.covers(day)}

    def appoint(self, post: Post, official_id: UUID, on: date) -> None:
        holder = self.leaders_on(on).get(post)
        if holder is not None:
            raise Conflict("post", f"{post.value} of {self.name} is held on {on}; relieve first")
        if post in (Post.CHAIRMAN, Post.SECRETARY) and self.kind is not UnitKind.COMMUNE:
            raise InvalidInput("post", f"{post.value} is a commune post; {self.name} is a {self.kind.value}")
        self._appointed(post=post, official_id=official_id, occurred_on=on)

    @event(LeaderAppointed)
    def _appointed(self, post: Post, official_id: UUID, occurred_on: date) -> None:
        self.tenures.append(Tenure(post, official_id, occurred_on))

    def relieve(self, post: Post, official_id: UUID, on: date, reason: str) -> None:
        current = [t for t in self.tenures if t.post is post and t.official_id == official_id and t.ends_on is None]
        if not current:
            raise Conflict("official_id", f"does not hold the post {post.value} of {self.name}")
        if on < current[0].starts_on:
            raise InvalidInput("on", "a tenure cannot end before it started")
        if not reason.strip():
            raise InvalidInput("reason", "relieving a leader must state the decision or reason")
        self._relieved(post=post, official_id=official_id, occurred_on=on, reason=reason)

    @event(LeaderRelieved)
    def _relieved(self, post: Post, official_id: UUID, occurred_on: date, reason: str) -> None:
        self.tenures = [
            Tenure(t.post, t.official_id, t.starts_on, occurred_on)
            if t.post is post and t.official_id == official_id and t.ends_on is None
            else t
            for t in self.tenures
        ]


class Official(Aggregate):
    class OfficialEnrolled(Aggregate.Created):
        code: str
        full_name: str
        position: str
        unit_id: UUID
        staff_category: str
        post_group: str
        occurred_on: date

    class OfficialTransferred(Aggregate.Event):
        unit_id: UUID
        position: str
        post_group: str
        occurred_on: date

    @staticmethod
    def create_id(code: str, **_: object) -> UUID:
        return official_id_for(code)

    @event(OfficialEnrolled)
    def __init__(
        self,
        code: str,
        full_name: str,
        position: str,
        unit_id: UUID,
        staff_category: str,
        post_group: str,
        occurred_on: date,
    ) -> None:
        self.code = code
        self.full_name = full_name
        self.position = position
        self.unit_id = unit_id
        self.staff_category = staff_category
        self.post_group = post_group
        self.enrolled_on = occurred_on

    def transfer(self, unit_id: UUID, position: str, post_group: str, on: date) -> None:
        if (unit_id, position, post_group) == (self.unit_id, self.position, self.post_group):
            raise Conflict("unit_id", "the official already holds this position in this unit")
        if on < self.enrolled_on:
            raise InvalidInput("on", "a transfer cannot precede enrolment")
        self._transferred(unit_id=unit_id, position=position, post_group=post_group, occurred_on=on)

    @event(OfficialTransferred)
    def _transferred(self, unit_id: UUID, position: str, post_group: str, occurred_on: date) -> None:
        self.unit_id = unit_id
        self.position = position
        self.post_group = post_group
