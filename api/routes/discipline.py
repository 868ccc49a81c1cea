"""Discipline and conduct: sanctions (the unit head or an administrator) and the unit head's
conduct assessment (the soft criterion)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.routes.common import CallerDep, IdempotencyKey, LedgerDep, aggregate, command_id, result, scope
from api.schemas import AssessConduct, ImposeSanction, Recorded, RevokeSanction
from domain.access import AccessRole
from domain.discipline import Sanction

router = APIRouter(tags=["discipline"])
HEAD, ADMIN = AccessRole.UNIT_HEAD, AccessRole.ADMIN


@router.post("/sanctions", summary="Impose a sanction: a point deduction or a formal measure")
def impose_sanction(body: ImposeSanction, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(HEAD, ADMIN)
    scope(ledger, caller).check_official(body.official_id, "official_id", role)
    sanction_id = ledger.impose_sanction(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="impose_sanction", result=result(sanction_id))


@router.post("/sanctions/{sanction_id}/revoke", summary="Revoke a sanction")
def revoke_sanction(
    sanction_id: UUID, body: RevokeSanction, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(HEAD, ADMIN)
    sanction = aggregate(ledger, Sanction, sanction_id, "sanction_id")
    scope(ledger, caller).check_official(sanction.official_id, "sanction_id", role)
    ledger.revoke_sanction(caller.actor(role), sanction_id=sanction_id, **body.model_dump(),
                           command_id=command_id(caller, key))
    return Recorded(command="revoke_sanction", result=None)


@router.post("/conduct", summary="Assess an official's conduct for a cycle (their unit head)")
def assess_conduct(body: AssessConduct, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(HEAD)
    scope(ledger, caller).check_official(body.official_id, "official_id", role)
    ledger.assess_conduct(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="assess_conduct", result=None)
