"""Who is scored in a cycle, and who of them leads.

Membership follows business dates (DESIGN "Time"): an official belongs to the cycle when enrolled
on or before its last day and, on that day, posted (latest transfer dated on or before it) to the
cycle's commune or a unit below it. The post that makes a leader is the one held on the last day:
chairman or secretary of the commune, or head of the official's own unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.cycles import Cycle
from domain.org import Official, Post, Tenure, Unit

History = Sequence[Aggregate.Event]  # one aggregate's events, in version order


@dataclass(frozen=True)
class Member:
    official_id: UUID
    code: str
    full_name: str
    position: str
    unit_id: UUID
    unit_name: str
    post_group: str
    post: Post | None

    @property
    def is_commune_leader(self) -> bool:
        """Chairman or secretary: jointly accountable for the commune's targets."""
        return self.post in (Post.CHAIRMAN, Post.SECRETARY)

    @property
    def is_unit_head(self) -> bool:
        return self.post is Post.HEAD

    @property
    def is_leader(self) -> bool:
        return self.post is not None


def tenures(history: History) -> list[Tenure]:
    """The unit's leadership tenures, replayed as `Unit` itself records them."""
    held: list[Tenure] = []
    for ev in history:
        if isinstance(ev, Unit.LeaderAppointed):
            held.append(Tenure(ev.post, ev.official_id, ev.occurred_on))
        elif isinstance(ev, Unit.LeaderRelieved):
            held = [
                Tenure(t.post, t.official_id, t.starts_on, ev.occurred_on)
                if t.post is ev.post and t.official_id == ev.official_id and t.ends_on is None
                else t
                for t in held
            ]
    return held


def holders_on(history: History, day: date) -> dict[Post, UUID]:
    return {t.post: t.official_id for t in tenures(history) if t.covers(day)}


@dataclass(frozen=True)
class _Posting:
    enrolled: Official.OfficialEnrolled
    unit_id: UUID
    position: str
    post_group: str


def _posting_on(history: History, day: date) -> _Posting | None:
    """Where the official served on `day`; None when not yet enrolled.

    The latest transfer by business date wins (ties: the later recorded one), so a backdated
    transfer lands where it belongs.
    """
    enrolled = history[0] if history else None
    if not isinstance(enrolled, Official.OfficialEnrolled) or enrolled.occurred_on > day:
        return None
    posting = _Posting(enrolled, enrolled.unit_id, enrolled.position, enrolled.post_group)
    latest: tuple[date, int] | None = None
    for ev in history[1:]:
        if isinstance(ev, Official.OfficialTransferred) and ev.occurred_on <= day:
            key = (ev.occurred_on, ev.originator_version)
            if latest is None or key >= latest:
                latest = key
                posting = _Posting(enrolled, ev.unit_id, ev.position, ev.post_group)
    return posting


def _within(unit_id: UUID, commune_id: UUID, units: Mapping[UUID, Unit.UnitRegistered]) -> bool:
    """Is `unit_id` the commune or below it? (Walks `parent_id`; a loop ends the walk.)"""
    seen: set[UUID] = set()
    current: UUID | None = unit_id
    while current is not None and current not in seen:
        if current == commune_id:
            return True
        seen.add(current)
        registered = units.get(current)
        current = registered.parent_id if registered is not None else None
    return False


def roster(
    opened: Cycle.CycleOpened, units: Mapping[UUID, History], officials: Mapping[UUID, History]
) -> list[Member]:
    """The officials scored in the cycle, in no particular order (callers sort)."""
    registered = {
        uid: h[0] for uid, h in units.items() if h and isinstance(h[0], Unit.UnitRegistered)
    }
    day = opened.ends_on
    commune_posts = holders_on(units.get(opened.unit_id, ()), day)
    members: list[Member] = []
    for official_id, history in officials.items():
        p = _posting_on(history, day)
        if p is None or not _within(p.unit_id, opened.unit_id, registered):
            continue
        members.append(
            Member(
                official_id=official_id,
                code=p.enrolled.code,
                full_name=p.enrolled.full_name,
                position=p.position,
                unit_id=p.unit_id,
                unit_name=registered[p.unit_id].name if p.unit_id in registered else "",
                post_group=p.post_group,
                post=_post_of(official_id, p.unit_id, commune_posts, units, day),
            )
        )
    return members


def _post_of(
    official_id: UUID,
    unit_id: UUID,
    commune_posts: dict[Post, UUID],
    units: Mapping[UUID, History],
    day: date,
) -> Post | None:
    """Chairman before secretary (one person may hold both: bí thư kiêm chủ tịch), then head."""
    for post in (Post.CHAIRMAN, Post.SECRETARY):
        if commune_posts.get(post) == official_id:
            return post
    if holders_on(units.get(unit_id, ()), day).get(Post.HEAD) == official_id:
        return Post.HEAD
    return None
