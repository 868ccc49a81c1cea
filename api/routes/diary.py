"""The daily work diary: logging and voiding entries; days, weeks and flags for reviewers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.routes.common import (
    After,
    CallerDep,
    IdempotencyKey,
    LedgerDep,
    Limit,
    ViewsDep,
    check_range,
    command_id,
    page,
    result,
    scope,
)
from api.schemas import DiaryDayOut, DiaryEntryOut, DiaryFlagOut, DiaryWeekOut, LogWork, Page, Recorded, VoidWorkLog
from domain.access import AccessRole
from projections import queries

router = APIRouter(tags=["diary"])
OFFICIAL, HEAD = AccessRole.OFFICIAL, AccessRole.UNIT_HEAD
Start = Annotated[date, Query(description="first day")]
End = Annotated[date, Query(description="last day (at most 366 days after start)")]


@router.post("/diary/entries", summary="Log work in one's own diary; answers the entry number")
def log_work(body: LogWork, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(OFFICIAL, HEAD)
    entry_no = ledger.log_work(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="log_work", result=result(entry_no))


@router.post("/diary/entries/void", summary="Void a diary entry (its official, or their unit head)")
def void_work_log(body: VoidWorkLog, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    if body.official_id is None or body.official_id == caller.official_id:
        role = caller.acting_as(OFFICIAL, HEAD)
    else:
        role = caller.acting_as(HEAD)
        scope(ledger, caller).check_official(body.official_id, "official_id", role)
    ledger.void_work_log(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="void_work_log", result=None)


@router.get("/officials/{official_id}/diary/days", summary="An official's diary, day by day")
def diary_days(
    official_id: UUID, start: Start, end: End, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    limit: Limit = 100, after: After = None,
) -> Page[DiaryDayOut]:
    scope(ledger, caller).check_official(official_id, "official_id")
    check_range(start, end)
    days = [
        DiaryDayOut(
            day=d["day"], hours=str(d["hours"]), products=d["products"], first_recorded_at=d["first_recorded_at"],
            entries=[DiaryEntryOut(what=what, description=text, hours=hours) for what, text, hours in d["entries"]],
        )
        for d in queries.diary_days(views, official_id, start, end)
    ]
    items, next_ = page(days, lambda d: d.day.isoformat(), limit, after)
    return Page[DiaryDayOut](items=items, next=next_)


@router.get("/officials/{official_id}/diary/weeks", summary="An official's diary hours per ISO week")
def diary_weeks(
    official_id: UUID, start: Start, end: End, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    limit: Limit = 100, after: After = None,
) -> Page[DiaryWeekOut]:
    scope(ledger, caller).check_official(official_id, "official_id")
    check_range(start, end)
    weeks = [DiaryWeekOut(week=w, hours=str(h))
             for w, h in sorted(queries.diary_weeks(views, official_id, start, end).items())]
    items, next_ = page(weeks, lambda w: w.week, limit, after)
    return Page[DiaryWeekOut](items=items, next=next_)


@router.get("/officials/{official_id}/diary/flags",
            summary="Padding, hours without product and backfills: for people to look at, never penalties")
def diary_flags(
    official_id: UUID, start: Start, end: End, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    limit: Limit = 100, after: After = None,
) -> Page[DiaryFlagOut]:
    scope(ledger, caller).check_official(official_id, "official_id")
    check_range(start, end)
    flags = [DiaryFlagOut.model_validate({k: _text(v) for k, v in f.items()})
             for f in queries.diary_flags(views, official_id, start, end)]
    numbered = list(enumerate(flags))
    items, next_ = page(numbered, lambda pair: str(pair[0]), limit, after)
    return Page[DiaryFlagOut](items=[f for _, f in items], next=next_)


def _text(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value
