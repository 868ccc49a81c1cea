"""The event feed: the log in recording order, for external systems that follow it.

Position-paginated (`after` = the last notification id seen), so a follower resumes exactly
where it stopped. The log is the whole ledger, so only administrators and inspectors whose
grant has no unit scope may read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Notification
from fastapi import APIRouter, Query

from api.routes.common import CallerDep, LedgerDep, scope
from api.schemas import EventFeed, EventOut
from domain.access import AccessRole

router = APIRouter(tags=["events"])
HIDDEN = frozenset({"originator_id", "originator_version", "timestamp", "notification_id"})


@router.get("/events", summary="The log from a position on (admin, inspector; whole ledger)")
def events(
    ledger: LedgerDep, caller: CallerDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="the last position already seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventFeed:
    caller.acting_as(AccessRole.ADMIN, AccessRole.INSPECTOR)
    scope(ledger, caller).check_whole_ledger("after")
    head = ledger.recorder.max_notification_id() or 0
    notifications: Sequence[Notification] = []
    if after < head:
        notifications = ledger.recorder.select_notifications(start=after + 1, limit=limit, stop=head)
    items = []
    for n in notifications:
        event = ledger.decode(n)
        items.append(EventOut(
            id=n.id, originator_id=UUID(str(n.originator_id)), originator_version=n.originator_version, topic=n.topic,
            recorded_at=event.timestamp, event=_json(event),
        ))
    return EventFeed(items=items, next_after=items[-1].id if items else after, head=head)


def _json(event: Any) -> dict[str, Any]:
    state = {k: v for k, v in vars(event).items() if k not in HIDDEN}
    data: dict[str, Any] = msgspec.to_builtins(state)
    return data
