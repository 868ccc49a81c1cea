"""Scores and what explains them, read from the projections: scoreboards, one official's score
and its lineage, leadership accountability, the monthly unit report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from api.routes.common import After, CallerDep, LedgerDep, Limit, ViewsDep, page, scope
from api.schemas import LineageLine, Page, ScoreRow, UnitScore
from domain.errors import InvalidInput
from projections import queries

router = APIRouter(tags=["scores"])


@router.get("/cycles/{cycle_id}/scoreboard", summary="Every score of a cycle that your scope reaches")
def scoreboard(
    cycle_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    unit_id: Annotated[UUID | None, Query(description="only this unit's officials")] = None,
    limit: Limit = 100, after: After = None,
) -> Page[ScoreRow]:
    s = scope(ledger, caller)
    visible = s.visible_units(ledger.get_cycle(cycle_id).unit_id, "cycle_id", views)
    if unit_id is not None:
        s.check_unit(unit_id, "unit_id")
    rows = [r for r in queries.scoreboard(views, cycle_id, unit_id) if visible is None or r["unit_id"] in visible]
    items, next_ = page(rows, lambda r: r["official_id"], limit, after)
    return Page[ScoreRow](items=[ScoreRow(**r) for r in items], next=next_)


@router.get("/cycles/{cycle_id}/units", summary="Per unit: officials, mean score, ratings")
def unit_scoreboard(
    cycle_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep, limit: Limit = 100, after: After = None,
) -> Page[UnitScore]:
    visible = scope(ledger, caller).visible_units(ledger.get_cycle(cycle_id).unit_id, "cycle_id", views)
    units = [
        UnitScore(unit_id=u["unit_id"], unit_name=u["unit_name"], officials=u["officials"],
                  mean_total=str(u["mean_total"]), ratings=u["ratings"])
        for u in queries.unit_scoreboard(views, cycle_id) if visible is None or u["unit_id"] in visible
    ]
    items, next_ = page(units, lambda u: str(u.unit_id), limit, after)
    return Page[UnitScore](items=items, next=next_)


@router.get("/cycles/{cycle_id}/scores/{official_id}", summary="One official's score (oneself, or within scope)")
def official_score(
    cycle_id: UUID, official_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep
) -> ScoreRow:
    ledger.get_cycle(cycle_id)
    scope(ledger, caller).check_official(official_id, "official_id")
    return ScoreRow(**queries.official_score(views, cycle_id, official_id))


@router.get("/cycles/{cycle_id}/scores/{official_id}/lineage",
            summary="Every contribution behind a score; since/until: what changed between two moments")
def lineage(
    cycle_id: UUID, official_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    since: Annotated[datetime | None, Query(description="recorded after this moment (UTC if no offset)")] = None,
    until: Annotated[datetime | None, Query(description="recorded at or before this moment")] = None,
    limit: Limit = 1000, after: After = None,
) -> Page[LineageLine]:
    ledger.get_cycle(cycle_id)
    scope(ledger, caller).check_official(official_id, "official_id")
    since, until = _utc("since", since), _utc("until", until)
    if since is not None and until is not None and until < since:
        raise InvalidInput("until", "must not precede since")
    lines = queries.lineage(views, cycle_id, official_id, since, until)
    items, next_ = page(lines, lambda r: str(r["seq"]), limit, after)
    return Page[LineageLine](items=[LineageLine(**r) for r in items], next=next_)


@router.get("/units/{unit_id}/accountability",
            summary="Per leader and tenure: targets, unit results, missed approvals, sanctions")
def accountability(
    unit_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep, limit: Limit = 100, after: After = None,
) -> Page[dict[str, Any]]:
    scope(ledger, caller).check_unit(unit_id, "unit_id")
    tenures = queries.accountability(views, unit_id)
    items, next_ = page(tenures, lambda t: f"{t['post']}:{t['official_id']}:{t['starts_on']}", limit, after)
    return Page[dict[str, Any]](items=items, next=next_)


@router.get("/units/{unit_id}/report", summary="The monthly report a commune sends the province")
def unit_report(
    unit_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM", examples=["2026-03"])],
) -> dict[str, Any]:
    visible = scope(ledger, caller).visible_units(unit_id, "unit_id", views)
    report = queries.unit_report(views, unit_id, month)
    if visible is not None:
        report["units"] = [u for u in report["units"] if u["unit_id"] in visible]
    return report


def _utc(field: str, moment: datetime | None) -> datetime | None:
    """Lineage stores recording times in UTC ISO text: compare like with like."""
    if moment is None:
        return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, "lies outside the years 1 to 9999 in UTC") from None
