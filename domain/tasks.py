"""Tasks assigned under "6 rõ" and their life: submission, approval or return, missed deadlines.

A task's stream stays short (assign, submit, act, perhaps return and resubmit), so loading it
for each command is cheap.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput, NotAuthorised


class KpiKind(str, Enum):
    HARD = "hard"  # KPI cứng
    SPEARHEAD = "spearhead"  # KPI mũi nhọn
    SOFT = "soft"  # KPI mềm


class Responsibility(str, Enum):
    LEAD = "lead"  # chủ trì
    SUPPORT = "support"  # phối hợp


class Status(str, Enum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class Deduction(str, Enum):
    ERRORS = "errors"
    DELAY = "delay"


class Task(Aggregate):
    class TaskAssigned(Aggregate.Created):
        cycle_id: UUID
        title: str
        assignee_id: UUID
        assigner_id: UUID
        approver_id: UUID
        kind: KpiKind
        responsibility: Responsibility
        product: str
        target_quantity: int
        weight: Decimal
        due_on: date
        authority: str
        occurred_on: date

    class TaskReassigned(Aggregate.Event):
        assignee_id: UUID
        reason: str
        occurred_on: date

    class TaskSubmitted(Aggregate.Event):
        quantity: int
        note: str
        occurred_on: date

    class TaskApproved(Aggregate.Event):
        major_errors: int
        comment: str
        occurred_on: date

    class TaskReturned(Aggregate.Event):
        major_errors: int
        comment: str
        occurred_on: date

    class ObjectiveCauseConfirmed(Aggregate.Event):
        deduction: Deduction
        reason: str
        occurred_on: date

    @event(TaskAssigned)
    def __init__(
        self,
        cycle_id: UUID,
        title: str,
        assignee_id: UUID,
        assigner_id: UUID,
        approver_id: UUID,
        kind: KpiKind,
        responsibility: Responsibility,
        product: str,
        target_quantity: int,
        weight: Decimal,
        due_on: date,
        authority: str,
        occurred_on: date,
    ) -> None:
        self.cycle_id = cycle_id
        self.title = title
        self.assignee_id = assignee_id
        self.assigner_id = assigner_id
        self.approver_id = approver_id
        self.kind = kind
        self.due_on = due_on
        self.assigned_on = occurred_on
        self.status = Status.ASSIGNED
        self.submitted_on: date | None = None
        self.submission_version: int | None = None
        self.acted_on: date | None = None
        self.voided: set[Deduction] = set()

    @staticmethod
    def check_terms(title: str, product: str, target_quantity: int, weight: Decimal, authority: str) -> None:
        """The "6 rõ" rule: a task without a clear product, quantity or authority is refused."""
        if not title.strip():
            raise InvalidInput("title", "a task must say what is to be done (rõ việc)")
        if not product.strip():
            raise InvalidInput("product", "a task must name its expected product (rõ sản phẩm)")
        if target_quantity < 1:
            raise InvalidInput("target_quantity", "must be at least 1")
        if not weight > 0:
            raise InvalidInput("weight", "must be positive")
        if not authority.strip():
            raise InvalidInput("authority", "a task must state the authority it is given (rõ thẩm quyền)")

    def reassign(self, assignee_id: UUID, reason: str, on: date) -> None:
        if self.status is not Status.ASSIGNED:
            raise Conflict("task_id", f"a {self.status.value} task cannot be reassigned")
        if assignee_id == self.assignee_id:
            raise Conflict("assignee_id", "the task is already assigned to this official")
        if not reason.strip():
            raise InvalidInput("reason", "a reassignment must say why")
        self._reassigned(assignee_id=assignee_id, reason=reason, occurred_on=on)

    @event(TaskReassigned)
    def _reassigned(self, assignee_id: UUID, reason: str, occurred_on: date) -> None:
        self.assignee_id = assignee_id

    def submit(self, by: UUID, quantity: int, note: str, on: date) -> None:
        if by != self.assignee_id:
            raise NotAuthorised("actor", "only the task's assignee may submit it")
        if self.status not in (Status.ASSIGNED, Status.RETURNED):
            raise Conflict("task_id", f"the task is already {self.status.value}")
        if quantity < 0:
            raise InvalidInput("quantity", "must not be negative")
        if on < self.assigned_on:
            raise InvalidInput("on", "a task cannot be submitted before it was assigned")
        if self.acted_on is not None and on < self.acted_on:
            raise InvalidInput("on", "a resubmission cannot precede the return that asked for it")
        self._submitted(quantity=quantity, note=note, occurred_on=on)

    @event(TaskSubmitted)
    def _submitted(self, quantity: int, note: str, occurred_on: date) -> None:
        self.status = Status.SUBMITTED
        self.submitted_on = occurred_on
        self.submission_version = self.version

    def check_can_be_acted_on_by(self, by: UUID, major_errors: int, on: date) -> None:
        if by != self.approver_id:
            raise NotAuthorised("actor", "only the task's named approver may approve or return it")
        if by == self.assignee_id:
            raise NotAuthorised("actor", "nobody may approve their own task")
        if self.status is not Status.SUBMITTED:
            raise Conflict("task_id", f"the task is {self.status.value}, not awaiting approval")
        if major_errors < 0:
            raise InvalidInput("major_errors", "must not be negative")
        if self.submitted_on is not None and on < self.submitted_on:
            raise InvalidInput("on", "cannot act before the submission date")

    def approve(self, by: UUID, major_errors: int, comment: str, on: date) -> None:
        self.check_can_be_acted_on_by(by, major_errors, on)
        self._approved(major_errors=major_errors, comment=comment, occurred_on=on)

    @event(TaskApproved)
    def _approved(self, major_errors: int, comment: str, occurred_on: date) -> None:
        self.status = Status.APPROVED
        self.acted_on = occurred_on

    def return_for_rework(self, by: UUID, major_errors: int, comment: str, on: date) -> None:
        self.check_can_be_acted_on_by(by, major_errors, on)
        if not comment.strip():
            raise InvalidInput("comment", "a return must say what to rework")
        self._returned(major_errors=major_errors, comment=comment, occurred_on=on)

    @event(TaskReturned)
    def _returned(self, major_errors: int, comment: str, occurred_on: date) -> None:
        self.status = Status.RETURNED
        self.acted_on = occurred_on

    def confirm_objective_cause(self, deduction: Deduction, reason: str, on: date) -> None:
        if not reason.strip():
            raise InvalidInput("reason", "must state the objective cause")
        if deduction in self.voided:
            raise Conflict("deduction", f"an objective cause for the {deduction.value} deduction is already confirmed")
        if self.status is Status.ASSIGNED:
            raise Conflict("task_id", "the task has not been submitted: there is no deduction to void")
        self._objective_cause_confirmed(deduction=deduction, reason=reason, occurred_on=on)

    @event(ObjectiveCauseConfirmed)
    def _objective_cause_confirmed(self, deduction: Deduction, reason: str, occurred_on: date) -> None:
        self.voided.add(deduction)


def missed_approval_id(task_id: UUID, submission_version: int, deadline: date) -> UUID:
    """One miss per (submission, deadline): a re-run of the watcher finds it already recorded."""
    return uuid5(NAMESPACE_URL, f"kpi-ledger:missed:{task_id}:{submission_version}:{deadline.isoformat()}")


class MissedApproval(Aggregate):
    class ApprovalDeadlineMissed(Aggregate.Created):
        task_id: UUID
        cycle_id: UUID
        approver_id: UUID
        submission_version: int
        submitted_on: date
        deadline: date
        occurred_on: date

    @staticmethod
    def create_id(task_id: UUID, submission_version: int, deadline: date, **_: object) -> UUID:
        return missed_approval_id(task_id, submission_version, deadline)

    @event(ApprovalDeadlineMissed)
    def __init__(
        self,
        task_id: UUID,
        cycle_id: UUID,
        approver_id: UUID,
        submission_version: int,
        submitted_on: date,
        deadline: date,
        occurred_on: date,
    ) -> None:
        self.task_id = task_id
        self.approver_id = approver_id
