"""Scoring policies and evaluation cycles."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request

from api.routes.common import CallerDep, IdempotencyKey, LedgerDep, command_id, result, scope
from api.schemas import CloseCycle, OpenCycle, PolicyParamsIn, PublishPolicy, Recorded, ReopenCycle
from domain.access import AccessRole
from domain.policy import PolicyParams
from replay.certify import close_certified

router = APIRouter(tags=["policy and cycles"])
ADMIN, MONITORING, APPEALS = AccessRole.ADMIN, AccessRole.MONITORING, AccessRole.APPEALS


def policy_params(given: PolicyParamsIn | None) -> PolicyParams | None:
    """Parameters left out keep policy v1's defaults; lists become the tuples events hold."""
    if given is None:
        return None
    values = given.model_dump(exclude_none=True)
    if "criterion_points" in values:
        values["criterion_points"] = tuple(sorted(values["criterion_points"].items()))
    for name in ("failing_measures", "holidays"):
        if name in values:
            values[name] = tuple(values[name])
    return PolicyParams(**values)


@router.post("/policies", summary="Publish a scoring policy version (admin, whole ledger)")
def publish_policy(body: PublishPolicy, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_whole_ledger("version")
    ledger.publish_policy(
        caller.actor(role), version=body.version, effective_from=body.effective_from,
        params=policy_params(body.params), command_id=command_id(caller, key),
    )
    return Recorded(command="publish_policy", result=body.version)


@router.post("/cycles", summary="Open an evaluation cycle for a commune (admin, monitoring team)")
def open_cycle(body: OpenCycle, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(ADMIN, MONITORING)
    scope(ledger, caller).check_unit(body.unit_id, "unit_id")
    cycle_id = ledger.open_cycle(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="open_cycle", result=result(cycle_id))


@router.post("/cycles/{cycle_id}/close", summary="Close and certify a cycle (admin, monitoring team)")
def close_cycle(
    cycle_id: UUID, body: CloseCycle, ledger: LedgerDep, caller: CallerDep, request: Request,
    key: IdempotencyKey = None,
) -> Recorded:
    """With a signing key configured (`kpi-ledger serve --sign KEY`), the close also stores a
    signed checkpoint of the log in `CycleClosed`, as `kpi-ledger close-cycle` does."""
    role = caller.acting_as(ADMIN, MONITORING)
    scope(ledger, caller).check_unit(ledger.get_cycle(cycle_id).unit_id, "cycle_id")
    actor, cid = caller.actor(role), command_id(caller, key)
    signer = request.app.state.signer
    if signer is None:
        digest = ledger.close_cycle(actor, cycle_id=cycle_id, on=body.on, command_id=cid)
    else:
        digest = close_certified(ledger, actor, cycle_id, body.on, signer, datetime.now(UTC), command_id=cid).digest
    return Recorded(command="close_cycle", result=digest)


@router.post("/cycles/{cycle_id}/reopen", summary="Reopen a certified cycle on an appeal decision (admin, appeals)")
def reopen_cycle(
    cycle_id: UUID, body: ReopenCycle, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(APPEALS, ADMIN)
    scope(ledger, caller).check_unit(ledger.get_cycle(cycle_id).unit_id, "cycle_id")
    ledger.reopen_cycle(caller.actor(role), cycle_id=cycle_id, **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="reopen_cycle", result=None)
