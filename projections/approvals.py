"""Tasks and the approval queue: what each approver must act on, and by when.

Deadlines are computed when asked (submission date + the pinned policy's working days), so
the queue needs no timer and an "as of" date is just a query parameter. The same rows feed
the monthly unit report (tasks assigned, submitted, approved, returned, late).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from domain.cycles import Cycle
from domain.policy import ScoringPolicies
from domain.tasks import Task
from projections.accountability import event_id
from projections.base import Positioned, ReadModel
from projections.store import Statement


class Approvals(ReadModel):
    name = "approvals"
    tables: ClassVar[dict[str, str]] = {
        "tasks": (
            "task_id TEXT PRIMARY KEY, cycle_id TEXT, title TEXT, kind TEXT, weight TEXT, "
            "assignee_id TEXT, assigner_id TEXT, approver_id TEXT, assigned_on TEXT, "
            "due_on TEXT, status TEXT, submitted_on TEXT, acted_on TEXT, quantity INTEGER, "
            "target_quantity INTEGER, major_errors INTEGER, returns INTEGER, "
            "last_event_id TEXT, position INTEGER"
        ),
        "task_cycles": "cycle_id TEXT PRIMARY KEY, unit_id TEXT, policy_version TEXT",
        "task_policies": "version TEXT PRIMARY KEY, deadline_days INTEGER, holidays TEXT",
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {
        "by_approver": ("tasks", "approver_id, status"),
        "by_cycle": ("tasks", "cycle_id"),
    }

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        out: list[Statement] = []
        for position, e in page:
            out.extend(self._statements(position, e))
        return out

    def _statements(self, position: int, e: Any) -> list[Statement]:
        oid = str(e.originator_id)
        if isinstance(e, ScoringPolicies.ScoringPolicyPublished):
            holidays = json.dumps([d.isoformat() for d in e.params.holidays])
            return [self.s(
                "INSERT INTO {task_policies} VALUES (?, ?, ?)",
                (e.version, e.params.approval_deadline_days, holidays),
            )]
        if isinstance(e, Cycle.CycleOpened):
            return [self.s(
                "INSERT INTO {task_cycles} VALUES (?, ?, ?)",
                (oid, str(e.unit_id), e.policy_version),
            )]
        if isinstance(e, Task.TaskAssigned):
            return [self.s(
                "INSERT INTO {tasks} VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'assigned', NULL, NULL, NULL, ?, 0, 0, ?, ?)",
                (oid, str(e.cycle_id), e.title, e.kind.value, str(e.weight), str(e.assignee_id),
                 str(e.assigner_id), str(e.approver_id), e.occurred_on.isoformat(),
                 e.due_on.isoformat(), e.target_quantity, event_id(e), position),
            )]
        if isinstance(e, Task.TaskReassigned):
            return [self._update("assignee_id = ?", (str(e.assignee_id),), e, position)]
        if isinstance(e, Task.TaskSubmitted):
            return [self._update(
                "status = 'submitted', submitted_on = ?, acted_on = NULL, quantity = ?",
                (e.occurred_on.isoformat(), e.quantity), e, position,
            )]
        if isinstance(e, Task.TaskApproved):
            return [self._update(
                "status = 'approved', acted_on = ?, major_errors = major_errors + ?",
                (e.occurred_on.isoformat(), e.major_errors), e, position,
            )]
        if isinstance(e, Task.TaskReturned):
            return [self._update(
                "status = 'returned', acted_on = ?, major_errors = major_errors + ?, "
                "returns = returns + 1",
                (e.occurred_on.isoformat(), e.major_errors), e, position,
            )]
        return []

    def _update(self, assignments: str, params: tuple[Any, ...], e: Any, position: int) -> Statement:
        return self.s(
            "UPDATE {tasks} SET " + assignments + ", last_event_id = ?, position = ? "
            "WHERE task_id = ?",
            (*params, event_id(e), position, str(e.originator_id)),
        )
