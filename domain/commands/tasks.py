"""Tasks under "6 rõ" from assignment to approval, and the deadline watcher that records an
approver's lapse (five working days in the seed policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.actors import SYSTEM, Actor
from domain.errors import InvalidInput
from domain.ledger_core import LedgerCore, amount
from domain.tasks import Deduction, KpiKind, MissedApproval, Responsibility, Task, missed_approval_id


class TaskCommands(LedgerCore):
    def assign_task(
        self, actor: Actor, *, cycle_id: UUID, assignee_id: UUID, title: str, kind: KpiKind,
        product: str, target_quantity: int, due_on: date, on: date, authority: str,
        weight: Decimal = Decimal(1), responsibility: Responsibility = Responsibility.LEAD,
        approver_id: UUID | None = None, command_id: str | None = None,
    ) -> UUID:
        """6 rõ: clear person, task, time, responsibility, product and authority, all required."""
        weight = amount("weight", weight)
        args = dict(cycle_id=cycle_id, assignee_id=assignee_id, title=title, kind=kind,
                    product=product, target_quantity=target_quantity, due_on=due_on, on=on,
                    authority=authority, weight=weight, responsibility=responsibility,
                    approver_id=approver_id)

        def decide() -> tuple[UUID, list[Aggregate]]:
            Task.check_terms(title, product, target_quantity, weight, authority)
            cycle = self.get_cycle(cycle_id)
            cycle.check_open()
            cycle.check_covers("due_on", due_on)
            if on > due_on:
                raise InvalidInput("on", "a task cannot be assigned after its due date")
            assignee = self.get_official(assignee_id, "assignee_id")
            self.check_in_cycle(assignee, cycle, "assignee_id")
            self.check_leads(actor.official_id, assignee, on)
            approver = approver_id or actor.official_id
            if approver != actor.official_id:
                self.get_official(approver, "approver_id")
                self.check_leads(approver, assignee, on, field="approver_id")
            task = Task(
                cycle_id=cycle_id, title=title, assignee_id=assignee_id,
                assigner_id=actor.official_id, approver_id=approver, kind=kind,
                responsibility=responsibility, product=product, target_quantity=target_quantity,
                weight=weight, due_on=due_on, authority=authority, occurred_on=on,
            )
            return task.id, [task]

        return self._handle("assign_task", actor, command_id, args, decide, decode=UUID)

    def reassign_task(
        self, actor: Actor, *, task_id: UUID, assignee_id: UUID, reason: str, on: date,
        command_id: str | None = None,
    ) -> None:
        args = dict(task_id=task_id, assignee_id=assignee_id, reason=reason, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            task = self.get_task(task_id)
            cycle = self.get_cycle(task.cycle_id)
            cycle.check_open()
            assignee = self.get_official(assignee_id, "assignee_id")
            self.check_in_cycle(assignee, cycle, "assignee_id")
            # Authority over the work being taken away and over the new hand; the approver must
            # still lead whoever now does the task.
            self.check_leads(actor.official_id, self.get_official(task.assignee_id, "task_id"), on)
            self.check_leads(actor.official_id, assignee, on)
            if assignee_id == task.approver_id:
                raise InvalidInput("assignee_id", "the task's approver cannot also be its assignee")
            self.check_leads(task.approver_id, assignee, on, field="assignee_id")
            task.reassign(assignee_id, reason, on)
            return None, [task]

        return self._handle("reassign_task", actor, command_id, args, decide)

    def submit_task(
        self, actor: Actor, *, task_id: UUID, quantity: int, on: date, note: str = "",
        command_id: str | None = None,
    ) -> None:
        args = dict(task_id=task_id, quantity=quantity, on=on, note=note)

        def decide() -> tuple[None, list[Aggregate]]:
            task = self.get_task(task_id)
            task.submit(actor.official_id, quantity, note, on)
            return None, [task]

        return self._handle("submit_task", actor, command_id, args, decide)

    def approve_task(
        self, actor: Actor, *, task_id: UUID, on: date, major_errors: int = 0, comment: str = "",
        command_id: str | None = None,
    ) -> None:
        args = dict(task_id=task_id, on=on, major_errors=major_errors, comment=comment)

        def decide() -> tuple[None, list[Aggregate]]:
            task = self.get_task(task_id)
            task.approve(actor.official_id, major_errors, comment, on)
            return None, [task]

        return self._handle("approve_task", actor, command_id, args, decide)

    def return_task(
        self, actor: Actor, *, task_id: UUID, on: date, comment: str, major_errors: int = 0,
        command_id: str | None = None,
    ) -> None:
        args = dict(task_id=task_id, on=on, comment=comment, major_errors=major_errors)

        def decide() -> tuple[None, list[Aggregate]]:
            task = self.get_task(task_id)
            task.return_for_rework(actor.official_id, major_errors, comment, on)
            return None, [task]

        return self._handle("return_task", actor, command_id, args, decide)

    def confirm_objective_cause(
        self, actor: Actor, *, task_id: UUID, deduction: Deduction, reason: str, on: date,
        command_id: str | None = None,
    ) -> None:
        """Only the approver's superior may void an error or delay deduction (DESIGN, policy v1)."""
        args = dict(task_id=task_id, deduction=deduction, reason=reason, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            task = self.get_task(task_id)
            approver = self.get_official(task.approver_id, "task_id")
            self.check_leads(actor.official_id, approver, on)
            task.confirm_objective_cause(deduction, reason, on)
            return None, [task]

        return self._handle("confirm_objective_cause", actor, command_id, args, decide)

    def record_missed_deadlines(self, now: datetime | date) -> list[UUID]:
        """The deadline watcher: one ApprovalDeadlineMissed per submission left unacted past
        the policy's working days. Miss ids derive from (submission, deadline), so re-runs and
        later as-of dates never record a miss twice."""
        if self._batch is not None:
            raise RuntimeError("the deadline watcher reads the log; run it outside a batch")
        as_of = now.date() if isinstance(now, datetime) else now
        missed: list[Aggregate] = []
        for task_id, version, submitted_on, acted_on in self._submissions():
            task = self.get_task(task_id)
            cycle = self.get_cycle(task.cycle_id)
            policy = self.policy_of(cycle).params
            deadline = policy.calendar.add_working_days(submitted_on, policy.approval_deadline_days)
            lapsed = as_of > deadline and (acted_on is None or acted_on > deadline)
            if not lapsed or missed_approval_id(task_id, version, deadline) in self.repository:
                continue
            miss = MissedApproval(
                task_id=task_id, cycle_id=task.cycle_id, approver_id=task.approver_id,
                submission_version=version, submitted_on=submitted_on, deadline=deadline,
                occurred_on=deadline,
            )
            for pending in miss.pending_events:
                object.__setattr__(pending, "actor", SYSTEM)
                object.__setattr__(pending, "command_id", f"deadline-watch:{as_of.isoformat()}")
            missed.append(miss)
        if missed:
            try:
                self.save(*missed)
            except IntegrityError:
                # Another watcher recorded some of them first: keep only what is still new.
                missed = [m for m in missed if m.id not in self.repository]
                if missed:
                    self.save(*missed)
        return [m.id for m in missed]

    def _submissions(self) -> Iterator[tuple[UUID, int, date, date | None]]:
        """Each submission: (task, its version, submitted on, first acted on or None)."""
        topics = [get_topic(t) for t in (Task.TaskSubmitted, Task.TaskApproved, Task.TaskReturned)]
        open_: dict[UUID, tuple[int, date]] = {}
        for event in self.read_events(topics=topics):
            if isinstance(event, Task.TaskSubmitted):
                open_[event.originator_id] = (event.originator_version, event.occurred_on)
            elif event.originator_id in open_:
                version, submitted_on = open_.pop(event.originator_id)
                yield event.originator_id, version, submitted_on, event.occurred_on
        for task_id, (version, submitted_on) in open_.items():
            yield task_id, version, submitted_on, None
