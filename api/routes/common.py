"""What every router shares: the ledger, the caller, fresh views, today, idempotency, pages.

Reads catch the projections up to the head of the log first (one Runner per app, one caller
at a time), so a client that has just recorded something reads it back: simple and correct for
the embedded default; a deployment with separate projection workers would drop the catch-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Caller, Scope, authenticate
from domain.errors import InvalidInput, NotFound
from domain.ledger import Ledger
from domain.ledger_core import project
from projections.access import AccessGrants
from projections.base import ReadModel
from projections.rebuild import MODELS
from projections.runner import ProjectionMoved, Runner
from projections.store import ViewStore

T = TypeVar("T")

# Vietnam keeps UTC+7 all year (no daylight saving): the zone of Asia/Ho_Chi_Minh.
VIETNAM = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")


def today_in_vietnam() -> date:
    return datetime.now(VIETNAM).date()


class Views:
    """The app's read models and the Runner that feeds them, caught up before each read."""

    def __init__(self, ledger: Ledger) -> None:
        store = ViewStore(ledger.recorder)
        models: list[ReadModel] = [cls(store) for cls in MODELS.values()]
        if AccessGrants.name not in MODELS:
            models.append(AccessGrants(store))
        self.store = store
        self.runner = Runner(ledger, models)
        self.lock = threading.Lock()

    def fresh(self) -> ViewStore:
        with self.lock:
            try:
                self.runner.catch_up()
            except ProjectionMoved:  # another process applied a page first: re-read, go on
                self.runner.catch_up()
        return self.store


bearer = HTTPBearer(
    auto_error=False, scheme_name="token",
    description="A token from `kpi-ledger token create` or POST /api/v1/access.",
)


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    return authenticate(get_ledger(request), credentials.credentials if credentials else None)


def get_views(request: Request) -> ViewStore:
    views: Views = request.app.state.views
    return views.fresh()


def get_today(request: Request) -> date:
    today: Callable[[], date] = request.app.state.today
    return today()


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
CallerDep = Annotated[Caller, Depends(get_caller)]
ViewsDep = Annotated[ViewStore, Depends(get_views)]
TodayDep = Annotated[date, Depends(get_today)]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Retrying with the same key records nothing new and answers as the first time.",
)]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]
After = Annotated[str | None, Query(max_length=200, pattern=r"^[\x21-\x7e]+$",
                                    description="the `next` of the previous page")]


def command_id(caller: Caller, key: str | None) -> str | None:
    """Keys are per official: two callers who pick the same key never meet."""
    return None if key is None else f"{caller.official_id}:{key}"


def scope(ledger: Ledger, caller: Caller) -> Scope:
    return Scope(ledger, caller)


def result(value: Any) -> str | int | None:
    return str(value) if isinstance(value, UUID) else value


def page(items: Sequence[T], key: Callable[[T], str], limit: int, after: str | None) -> tuple[list[T], str | None]:
    """Items after the one whose key is `after`, at most `limit`, and the cursor for the rest."""
    start = 0
    if after is not None:
        keys = [key(item) for item in items]
        if after not in keys:
            raise InvalidInput("after", "is not the key of an item of this list: pass the `next` of a page")
        start = keys.index(after) + 1
    chunk = list(items[start:start + limit])
    more = start + limit < len(items)
    return chunk, key(chunk[-1]) if more and chunk else None


def check_range(start: date, end: date, days: int = 366) -> None:
    if end < start:
        raise InvalidInput("end", "must not precede start")
    if (end - start).days >= days:
        raise InvalidInput("end", f"a range spans at most {days} days")


A = TypeVar("A", bound=Aggregate)


def aggregate(ledger: Ledger, cls: type[A], aggregate_id: UUID, field: str) -> A:
    """A record the Ledger has no public getter for (a sanction, a target), to find its scope."""
    try:
        found: Aggregate = ledger.repository.get(aggregate_id, projector_func=project)
    except AggregateNotFoundError:
        raise NotFound(field, f"no {cls.__name__.lower()} {aggregate_id}") from None
    if not isinstance(found, cls):
        raise NotFound(field, f"{aggregate_id} is not a {cls.__name__.lower()}")
    return found
