"""Organisation commands: units, officials, leadership posts (administrators, within scope)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.routes.common import CallerDep, IdempotencyKey, LedgerDep, command_id, result, scope
from api.schemas import AppointLeader, EnrollOfficial, Recorded, RegisterUnit, RelieveLeader, TransferOfficial
from domain.access import AccessRole

router = APIRouter(tags=["organisation"])
ADMIN = AccessRole.ADMIN


@router.post("/units", summary="Register a unit (admin; a province needs a grant without a unit)")
def register_unit(body: RegisterUnit, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(ADMIN)
    if body.parent_id is None:
        scope(ledger, caller).check_whole_ledger("parent_id")
    else:
        scope(ledger, caller).check_unit(body.parent_id, "parent_id")
    unit_id = ledger.register_unit(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="register_unit", result=result(unit_id))


@router.post("/officials", summary="Enrol an official in a unit (admin)")
def enroll_official(
    body: EnrollOfficial, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_unit(body.unit_id, "unit_id")
    official_id = ledger.enroll_official(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="enroll_official", result=result(official_id))


@router.post("/officials/{official_id}/transfer", summary="Transfer an official to another unit or post (admin)")
def transfer_official(
    official_id: UUID, body: TransferOfficial, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_official(official_id, "official_id", role)
    scope(ledger, caller).check_unit(body.unit_id, "unit_id")
    ledger.transfer_official(caller.actor(role), official_id=official_id, **body.model_dump(),
                             command_id=command_id(caller, key))
    return Recorded(command="transfer_official", result=None)


@router.post("/units/{unit_id}/leaders/appoint", summary="Appoint a leader to a post of the unit (admin)")
def appoint_leader(
    unit_id: UUID, body: AppointLeader, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_unit(unit_id, "unit_id")
    ledger.appoint_leader(caller.actor(role), unit_id=unit_id, **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="appoint_leader", result=None)


@router.post("/units/{unit_id}/leaders/relieve", summary="Relieve a leader of a post (admin)")
def relieve_leader(
    unit_id: UUID, body: RelieveLeader, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_unit(unit_id, "unit_id")
    ledger.relieve_leader(caller.actor(role), unit_id=unit_id, **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="relieve_leader", result=None)
