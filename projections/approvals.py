"""Tasks and the approval queue: what each approver must act on, and by when.

Deadlines are computed when asked (submission date + the pinned policy's working days), so
the queue needs no timer and an "as of" date is just a query parameter. The same rows feed
the monthly unit report (tasks assigned, submitted, approved, returned, late).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from domain.codec import Fields, Stamped
from domain.cycles import Cycle
from domain.policy import ScoringPolicies
from domain.tasks import Task
from projections.accountability import event_id
from projections.base import Positioned, ReadModel, topics_of
from projections.store import Statement


# A task's events as the stored JSON holds them (`ReadModel.reads_as`): copied to the row's
# text columns as they are, not typed and printed back (dates, ids and weights as text).
class Assigned(Stamped):
    cycle_id: str
    title: str
    kind: str
    weight: str
    assignee_id: str
    assigner_id: str
    approver_id: str
    occurred_on: str
    due_on: str
    target_quantity: int


class Reassigned(Stamped):
    assignee_id: str


class Submitted(Stamped):
    occurred_on: str
    quantity: int


class Acted(Stamped):
    occurred_on: str
    major_errors: int


class Approved(Acted):
    pass


class Returned(Acted):
    pass


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

    reads_as: ClassVar[dict[str, type[Fields]]] = dict(zip(
        topics_of(Task.TaskAssigned, Task.TaskReassigned, Task.TaskSubmitted, Task.TaskApproved, Task.TaskReturned),
        (Assigned, Reassigned, Submitted, Approved, Returned), strict=True,
    ))
    topics = (*topics_of(ScoringPolicies.ScoringPolicyPublished, Cycle.CycleOpened), *reads_as)

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        """A task assigned within the page is written once, as it stands at the page's end; only
        tasks from earlier pages get UPDATEs, one per task with all the page did to it. A task's
        life is a handful of events, usually close together, so a rebuild writes most tasks with
        one many-row insert."""
        out: list[Statement] = []
        fresh: dict[str, dict[str, Any]] = {}
        earlier: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}  # tasks of earlier pages
        for position, e in page:
            if isinstance(e, Stamped):
                self._task(position, e, fresh, earlier)
                continue
            oid = str(e.originator_id)
            if isinstance(e, ScoringPolicies.ScoringPolicyPublished):
                holidays = json.dumps([d.isoformat() for d in e.params.holidays])
                out.append(self.s(
                    "INSERT INTO {task_policies} VALUES (?, ?, ?)",
                    (e.version, e.params.approval_deadline_days, holidays),
                ))
            elif isinstance(e, Cycle.CycleOpened):
                out.append(self.s(
                    "INSERT INTO {task_cycles} VALUES (?, ?, ?)", (oid, str(e.unit_id), e.policy_version)
                ))
        if fresh:
            columns = ", ".join("?" * len(_TASK_COLUMNS))
            rows = [tuple(row[c] for c in _TASK_COLUMNS) for row in fresh.values()]
            out.append(Statement(self.q(f"INSERT INTO {{tasks}} VALUES ({columns})"), many=rows))
        # One UPDATE per task, those of the same columns side by side: one executemany each.
        updates = [self._update(oid, sets, adds) for oid, (sets, adds) in earlier.items()]
        return out + sorted(updates, key=lambda u: u.sql)

    @staticmethod
    def _task(
        position: int, e: Stamped, fresh: dict[str, dict[str, Any]],
        earlier: dict[str, tuple[dict[str, Any], dict[str, int]]],
    ) -> None:
        """A task's event into the page's new row for it, or into what the page changes in
        an older task's row."""
        oid = e.originator_id
        if isinstance(e, Assigned):
            fresh[oid] = {
                "task_id": oid, "cycle_id": e.cycle_id, "title": e.title, "kind": e.kind, "weight": e.weight,
                "assignee_id": e.assignee_id, "assigner_id": e.assigner_id, "approver_id": e.approver_id,
                "assigned_on": e.occurred_on, "due_on": e.due_on, "status": "assigned", "submitted_on": None,
                "acted_on": None, "quantity": None, "target_quantity": e.target_quantity, "major_errors": 0,
                "returns": 0, "last_event_id": event_id(e), "position": position,
            }
            return
        sets, adds = _changes(e)
        sets.update(last_event_id=event_id(e), position=position)
        row = fresh.get(oid)
        to_set, to_add = (row, row) if row is not None else earlier.setdefault(oid, ({}, {}))
        to_set.update(sets)
        for column, delta in adds.items():
            to_add[column] = to_add.get(column, 0) + delta

    def _update(self, task_id: str, sets: dict[str, Any], adds: dict[str, int]) -> Statement:
        assignments = [f"{c} = ?" for c in sets] + [f"{c} = {c} + ?" for c in adds]
        return self.s(
            "UPDATE {tasks} SET " + ", ".join(assignments) + " WHERE task_id = ?",
            (*sets.values(), *adds.values(), task_id),
        )


_TASK_COLUMNS = (
    "task_id", "cycle_id", "title", "kind", "weight", "assignee_id", "assigner_id", "approver_id",
    "assigned_on", "due_on", "status", "submitted_on", "acted_on", "quantity", "target_quantity",
    "major_errors", "returns", "last_event_id", "position",
)


def _changes(e: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """What a later task event sets, and what it adds to, in the task's row."""
    if isinstance(e, Reassigned):
        return {"assignee_id": e.assignee_id}, {}
    if isinstance(e, Submitted):
        return {"status": "submitted", "submitted_on": e.occurred_on, "acted_on": None, "quantity": e.quantity}, {}
    if isinstance(e, Approved):
        return {"status": "approved", "acted_on": e.occurred_on}, {"major_errors": e.major_errors}
    if isinstance(e, Returned):
        return {"status": "returned", "acted_on": e.occurred_on}, {"major_errors": e.major_errors, "returns": 1}
    raise TypeError(f"approvals does not read {type(e).__qualname__}")
