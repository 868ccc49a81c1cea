"""Replays: a cycle as the ledger knew it at a log position or a recording time, what-ifs under
another policy or with events left out or proposed, the difference between two replays, and the
amendments recorded after a cycle was certified.

All of it is folded from the log in memory (`replay/`), never read from the projections, and
none of it writes anything, so reviewers may try what they like. Rows are cut to the caller's
scope like the scoreboard's: an official sees their own row, a unit head their unit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from api import render
from api.auth import Caller
from api.routes.common import CallerDep, LedgerDep, ViewsDep, scope
from domain.errors import InvalidInput, NotAuthorised
from domain.ledger import Ledger
from projections.access import officials_within
from projections.store import ViewStore
from replay.amendments import amendments as find_amendments
from replay.diff import Figures, diff
from replay.timetravel import KnownAt, Replay, replay

router = APIRouter(tags=["replay"])

Position = Annotated[int | None, Query(ge=0, le=2**62, description="as known at this log position")]
At = Annotated[datetime | None, Query(description="as known at this recording time (UTC unless it names an offset)")]
Policy = Annotated[str | None, Query(max_length=200, pattern=r"^[^\u0000]*$",
                                     description="read the table out under this published policy version")]
OfficialFilter = Annotated[UUID | None, Query(description="only this official's row")]


@router.get("/cycles/{cycle_id}/replay", summary="The cycle as known at a position or time; what-ifs")
def replay_cycle(
    cycle_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    position: Position = None, at: At = None, policy: Policy = None,
    without: Annotated[list[str] | None, Query(max_length=100, description="leave out these recorded events "
                                               "(ORIGINATOR_ID:VERSION, as lineage lists them)")] = None,
    with_: Annotated[str | None, Query(alias="with", max_length=20_000, pattern=r"^[^\u0000]*$",
                                       description='proposed events as a JSON list, e.g. [{"type": '
                                       '"SanctionRevoked", "aggregate": "<id>", "reason": "...", '
                                       '"occurred_on": "2026-03-11"}]')] = None,
    official_id: OfficialFilter = None,
) -> dict[str, Any]:
    shown = _shown(ledger, caller, views, cycle_id, official_id)
    result = replay(ledger, cycle_id, _known_at(position, at), policy, _proposals(with_), without or ())
    return {**_about(result), "rows": [render.row_json(r) for r in result.table.rows if shown(r.official_id)]}


@router.get("/cycles/{cycle_id}/diff", summary="Who scores differently between two replays, and the lines why")
def diff_cycle(
    cycle_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep,
    a_position: Position = None, a_at: At = None, a_policy: Policy = None,
    b_position: Position = None, b_at: At = None, b_policy: Policy = None,
    official_id: OfficialFilter = None,
) -> dict[str, Any]:
    shown = _shown(ledger, caller, views, cycle_id, official_id)
    a = replay(ledger, cycle_id, _known_at(a_position, a_at, "a_"), a_policy)
    b = replay(ledger, cycle_id, _known_at(b_position, b_at, "b_"), b_policy)
    changes = [c for c in diff(a, b).changes if shown(c.official_id)]
    return {"a": _about(a), "b": _about(b), "changes": [{
        "official_id": str(c.official_id), "code": c.code, "full_name": c.full_name,
        "before": _figures(c.before), "after": _figures(c.after), "delta": str(c.delta),
        "removed": [render.contribution_json(line) for line in c.removed],
        "added": [render.contribution_json(line) for line in c.added],
    } for c in changes]}


@router.get("/cycles/{cycle_id}/amendments",
            summary="Events recorded after the cycle was certified that changed a certified score")
def amendments(
    cycle_id: UUID, ledger: LedgerDep, caller: CallerDep, views: ViewsDep, official_id: OfficialFilter = None,
) -> dict[str, Any]:
    shown = _shown(ledger, caller, views, cycle_id, official_id)
    found = find_amendments(ledger, cycle_id)
    listed = []
    for amendment in found.amendments:
        changes = [asdict(c) for c in amendment.changes if shown(c.official_id)]
        if changes:
            listed.append({**asdict(amendment), "changes": changes})
    answer: dict[str, Any] = json.loads(json.dumps({
        "cycle_id": found.cycle_id, "close_position": found.close_position,
        "certified_digest": found.certified_digest, "reproduced": found.reproduced, "amendments": listed,
    }, default=str))
    return answer


def _shown(
    ledger: Ledger, caller: Caller, views: ViewStore, cycle_id: UUID, official_id: UUID | None
) -> Callable[[UUID], bool]:
    """Which officials' rows the caller may see: their own, or those of units in scope."""
    commune = ledger.get_cycle(cycle_id).unit_id
    s = scope(ledger, caller)
    if official_id is not None:
        s.check_official(official_id, "official_id")
        return lambda o: o == official_id
    if not caller.reads_units:
        me = caller.official_id
        try:
            mine = ledger.commune_of(ledger.get_official(me).unit_id).id == commune
        except InvalidInput:
            mine = False
        if not mine:
            raise NotAuthorised("cycle_id", "your token reads only your own records, in your own commune's cycles")
        return lambda o: o == me
    visible = s.visible_units(commune, "cycle_id", views)
    if visible is None:
        return lambda o: True
    members = {UUID(o) for o in officials_within(views, visible)}
    return lambda o: o in members


def _known_at(position: int | None, at: datetime | None, prefix: str = "") -> KnownAt:
    if position is not None and at is not None:
        raise InvalidInput(f"{prefix}at", f"give {prefix}position or {prefix}at, not both")
    if at is not None:
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return position


def _proposals(text: str | None) -> list[Any]:
    if text is None:
        return []
    try:
        entries = json.loads(text)
    except ValueError as e:
        raise InvalidInput("with", f"not JSON: {e}") from None
    if not isinstance(entries, list):
        raise InvalidInput("with", "a JSON list of proposed events")
    return entries


def _about(r: Replay) -> dict[str, Any]:
    return {
        "cycle_id": str(r.cycle_id), "position": r.position,
        "recorded_at": r.recorded_at.isoformat() if r.recorded_at else None,
        "known_at": r.known_at.isoformat() if r.known_at else None,
        "policy_version": r.policy_version, "pinned_version": r.pinned_version, "is_what_if": r.is_what_if,
        "removed": list(r.removed), "added": [type(e).__name__ for e in r.added], "digest": r.table.digest(),
    }


def _figures(f: Figures | None) -> dict[str, str] | None:
    return None if f is None else {k: str(getattr(v, "value", v)) for k, v in asdict(f).items()}

