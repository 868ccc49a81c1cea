"""Tasks under "6 rõ": assignment, submission, approval or return, objective causes, the
deadline watcher, and the approval queue.

Submissions, approvals and returns are dated by the server (today in Vietnam), never by the
caller: the five-working-day approval deadline and the delay deductions run from these dates,
so letting a client choose them would let an approver or an official date their act back
inside a deadline already missed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.routes.common import (
    After,
    CallerDep,
    IdempotencyKey,
    LedgerDep,
    Limit,
    TodayDep,
    ViewsDep,
    command_id,
    page,
    result,
    scope,
)
from api.schemas import (
    ApproveTask,
    AssignTask,
    AwaitingOut,
    ConfirmObjectiveCause,
    Page,
    ReassignTask,
    Recorded,
    RecordMissedDeadlines,
    ReturnTask,
    SubmitTask,
)
from domain.access import AccessRole
from domain.errors import InvalidInput
from projections import queries
from projections.access import officials_within

router = APIRouter(tags=["tasks"])
OFFICIAL, HEAD, ADMIN = AccessRole.OFFICIAL, AccessRole.UNIT_HEAD, AccessRole.ADMIN


@router.post("/tasks", summary="Assign a task under 6 rõ (unit head of the assignee)")
def assign_task(body: AssignTask, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Recorded:
    role = caller.acting_as(HEAD)
    scope(ledger, caller).check_official(body.assignee_id, "assignee_id", role)
    task_id = ledger.assign_task(caller.actor(role), **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="assign_task", result=result(task_id))


@router.post("/tasks/{task_id}/reassign", summary="Hand a task to another official (unit head)")
def reassign_task(
    task_id: UUID, body: ReassignTask, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(HEAD)
    s = scope(ledger, caller)
    s.check_official(ledger.get_task(task_id).assignee_id, "task_id", role)
    s.check_official(body.assignee_id, "assignee_id", role)
    ledger.reassign_task(caller.actor(role), task_id=task_id, **body.model_dump(), command_id=command_id(caller, key))
    return Recorded(command="reassign_task", result=None)


@router.post("/tasks/{task_id}/submit", summary="Submit one's task, dated today (the assignee)")
def submit_task(
    task_id: UUID, body: SubmitTask, ledger: LedgerDep, caller: CallerDep, today: TodayDep,
    key: IdempotencyKey = None,
) -> Recorded:
    role = caller.acting_as(OFFICIAL, HEAD)
    scope(ledger, caller).check_official(ledger.get_task(task_id).assignee_id, "task_id", role)
    ledger.submit_task(caller.actor(role), task_id=task_id, on=today, **body.model_dump(),
                       command_id=command_id(caller, key))
    return Recorded(command="submit_task", result=None)


@router.post("/tasks/{task_id}/approve", summary="Approve a submitted task, dated today (its approver)")
def approve_task(
    task_id: UUID, body: ApproveTask, ledger: LedgerDep, caller: CallerDep, today: TodayDep,
    key: IdempotencyKey = None,
) -> Recorded:
    role = caller.acting_as(HEAD)
    scope(ledger, caller).check_official(ledger.get_task(task_id).assignee_id, "task_id", role)
    ledger.approve_task(caller.actor(role), task_id=task_id, on=today, **body.model_dump(),
                        command_id=command_id(caller, key))
    return Recorded(command="approve_task", result=None)


@router.post("/tasks/{task_id}/return", summary="Return a submitted task for rework, dated today (its approver)")
def return_task(
    task_id: UUID, body: ReturnTask, ledger: LedgerDep, caller: CallerDep, today: TodayDep,
    key: IdempotencyKey = None,
) -> Recorded:
    role = caller.acting_as(HEAD)
    scope(ledger, caller).check_official(ledger.get_task(task_id).assignee_id, "task_id", role)
    ledger.return_task(caller.actor(role), task_id=task_id, on=today, **body.model_dump(),
                       command_id=command_id(caller, key))
    return Recorded(command="return_task", result=None)


@router.post("/tasks/{task_id}/objective-cause",
             summary="Void an error or delay deduction for an objective cause (the approver's superior)")
def confirm_objective_cause(
    task_id: UUID, body: ConfirmObjectiveCause, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(HEAD)
    scope(ledger, caller).check_official(ledger.get_task(task_id).assignee_id, "task_id", role)
    ledger.confirm_objective_cause(caller.actor(role), task_id=task_id, **body.model_dump(),
                                   command_id=command_id(caller, key))
    return Recorded(command="confirm_objective_cause", result=None)


@router.post("/deadlines/record", summary="Run the deadline watcher up to a day (admin, whole ledger)")
def record_missed_deadlines(
    body: RecordMissedDeadlines, ledger: LedgerDep, caller: CallerDep, today: TodayDep,
) -> Recorded:
    """Safe to repeat: a miss's id derives from (submission, deadline), so nothing is recorded
    twice; hence no Idempotency-Key. A day after today is refused: a miss not yet happened."""
    caller.acting_as(ADMIN)
    scope(ledger, caller).check_whole_ledger("as_of")
    as_of = body.as_of or today
    if as_of > today:
        raise InvalidInput("as_of", f"must not be after today ({today.isoformat()}, Vietnam time)")
    recorded = ledger.record_missed_deadlines(as_of)
    return Recorded(command="record_missed_deadlines", result=len(recorded))


@router.get("/approvals", summary="Submissions awaiting approval, overdue first")
def approval_queue(
    ledger: LedgerDep, caller: CallerDep, views: ViewsDep, today: TodayDep,
    approver_id: Annotated[UUID | None, Query(description="default: your own queue, or, for a "
                                              "reading role, every approver in your scope")] = None,
    as_of: Annotated[date | None, Query(description="default: today in Vietnam")] = None,
    limit: Limit = 100, after: After = None,
) -> Page[AwaitingOut]:
    s = scope(ledger, caller)
    if approver_id is None and not caller.reads_units:
        approver_id = caller.official_id
    if approver_id is not None:
        s.check_official(approver_id, "approver_id")
    queue = queries.approval_queue(views, as_of or today, approver_id)
    units = s.units(views) if approver_id != caller.official_id else None
    if units is not None:
        members = officials_within(views, units)
        queue = [a for a in queue if a.assignee_id in members]
    items, next_ = page(queue, lambda a: a.task_id, limit, after)
    return Page[AwaitingOut](items=[AwaitingOut(**vars(a)) for a in items], next=next_)
