"""Commune development targets: set by the province, results reported by the monitoring team
or the commune's leaders (whose joint accountability they measure)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.routes.common import CallerDep, IdempotencyKey, LedgerDep, aggregate, command_id, result, scope
from api.schemas import Recorded, ReportTargetResult, SetTarget
from domain.access import AccessRole
from domain.targets import Target

router = APIRouter(tags=["targets"])
ADMIN, MONITORING, HEAD = AccessRole.ADMIN, AccessRole.MONITORING, AccessRole.UNIT_HEAD


@router.post("/targets", summary="Set a commune's development target for a cycle (admin)")
def set_target(body: SetTarget, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(ADMIN)
    scope(ledger, caller).check_unit(ledger.get_cycle(body.cycle_id).unit_id, "cycle_id")
    target_id = ledger.set_target(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="set_target", result=result(target_id))


@router.post("/targets/{target_id}/results",
             summary="Report a target's result (monitoring team, or the commune's chairman or secretary)")
def report_target_result(
    target_id: UUID, body: ReportTargetResult, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(MONITORING, HEAD)
    target = aggregate(ledger, Target, target_id, "target_id")
    scope(ledger, caller).check_unit(target.unit_id, "target_id")
    ledger.report_target_result(caller.actor(role), target_id=target_id, **body.model_dump(),
                                command_id=command_id(caller, key))
    return Recorded(command="report_target_result", result=None)
