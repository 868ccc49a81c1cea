"""Leadership accountability: who held which post when, and what fell within each tenure.

Inspectors ask "what were the commune's targets and results while this chairman served, which
approvals did he let lapse, which sanctions fell on him"; chairman and secretary answer jointly
for the commune's targets, so their outcomes are shown side by side. Unit outcomes (a leader's
unit part) are read from the scoreboard at query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from domain.cycles import Cycle
from domain.discipline import Sanction
from domain.org import Official, Unit
from domain.targets import Target
from domain.tasks import MissedApproval
from projections.base import Positioned, ReadModel, topics_of
from projections.store import Statement


def event_id(event: Any) -> str:
    return f"{event.originator_id}:{event.originator_version}"


class Accountability(ReadModel):
    name = "accountability"
    tables: ClassVar[dict[str, str]] = {
        "units": "unit_id TEXT PRIMARY KEY, code TEXT, name TEXT, kind TEXT, parent_id TEXT",
        "officials": (
            "official_id TEXT PRIMARY KEY, code TEXT, full_name TEXT, position TEXT, "
            "unit_id TEXT, post_group TEXT, staff_category TEXT"
        ),
        "tenures": (
            "unit_id TEXT, post TEXT, official_id TEXT, starts_on TEXT, ends_on TEXT, "
            "event_id TEXT, PRIMARY KEY (unit_id, post, official_id, starts_on)"
        ),
        "cycles": (
            "cycle_id TEXT PRIMARY KEY, unit_id TEXT, kind TEXT, starts_on TEXT, ends_on TEXT, "
            "policy_version TEXT, closed_on TEXT, table_digest TEXT, log_position INTEGER"
        ),
        "targets": (
            "target_id TEXT PRIMARY KEY, cycle_id TEXT, unit_id TEXT, indicator TEXT, "
            "target_value TEXT, measure TEXT, result TEXT, evidence TEXT, reported_on TEXT, "
            "event_id TEXT"
        ),
        "sanctions": (
            "sanction_id TEXT PRIMARY KEY, official_id TEXT, kind TEXT, criterion TEXT, "
            "points TEXT, reason TEXT, occurred_on TEXT, revoked_on TEXT, event_id TEXT"
        ),
        "misses": (
            "miss_id TEXT PRIMARY KEY, task_id TEXT, cycle_id TEXT, approver_id TEXT, "
            "submitted_on TEXT, deadline TEXT, event_id TEXT"
        ),
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {
        "by_official": ("sanctions", "official_id"),
        "by_approver": ("misses", "approver_id"),
        "by_cycle": ("targets", "cycle_id"),
    }

    topics = topics_of(
        Unit.UnitRegistered, Unit.LeaderAppointed, Unit.LeaderRelieved,
        Official.OfficialEnrolled, Official.OfficialTransferred,
        Cycle.CycleOpened, Cycle.CycleClosed, Cycle.CycleReopened,
        Target.TargetSet, Target.TargetResultReported,
        Sanction.SanctionImposed, Sanction.SanctionRevoked, MissedApproval.ApprovalDeadlineMissed,
    )

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        out: list[Statement] = []
        for _, e in page:
            out.extend(self._statements(e))
        return out

    def _statements(self, e: Any) -> list[Statement]:  # noqa: C901 - one branch per event type
        oid = str(e.originator_id)
        if isinstance(e, Unit.UnitRegistered):
            return [self.s(
                "INSERT INTO {units} VALUES (?, ?, ?, ?, ?)",
                (oid, e.code, e.name, e.kind.value, _opt(e.parent_id)),
            )]
        if isinstance(e, Unit.LeaderAppointed):
            return [self.s(
                "INSERT INTO {tenures} VALUES (?, ?, ?, ?, NULL, ?)",
                (oid, e.post.value, str(e.official_id), e.occurred_on.isoformat(), event_id(e)),
            )]
        if isinstance(e, Unit.LeaderRelieved):
            return [self.s(
                "UPDATE {tenures} SET ends_on = ? "
                "WHERE unit_id = ? AND post = ? AND official_id = ? AND ends_on IS NULL",
                (e.occurred_on.isoformat(), oid, e.post.value, str(e.official_id)),
            )]
        if isinstance(e, Official.OfficialEnrolled):
            return [self.s(
                "INSERT INTO {officials} VALUES (?, ?, ?, ?, ?, ?, ?)",
                (oid, e.code, e.full_name, e.position, str(e.unit_id), e.post_group,
                 e.staff_category),
            )]
        if isinstance(e, Official.OfficialTransferred):
            return [self.s(
                "UPDATE {officials} SET unit_id = ?, position = ?, post_group = ? "
                "WHERE official_id = ?",
                (str(e.unit_id), e.position, e.post_group, oid),
            )]
        if isinstance(e, Cycle.CycleOpened):
            return [self.s(
                "INSERT INTO {cycles} VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                (oid, str(e.unit_id), e.kind.value, e.starts_on.isoformat(),
                 e.ends_on.isoformat(), e.policy_version),
            )]
        if isinstance(e, Cycle.CycleClosed):
            return [self.s(
                "UPDATE {cycles} SET closed_on = ?, table_digest = ?, log_position = ? "
                "WHERE cycle_id = ?",
                (e.occurred_on.isoformat(), e.table_digest, e.log_position, oid),
            )]
        if isinstance(e, Cycle.CycleReopened):
            return [self.s("UPDATE {cycles} SET closed_on = NULL WHERE cycle_id = ?", (oid,))]
        if isinstance(e, Target.TargetSet):
            return [self.s(
                "INSERT INTO {targets} VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)",
                (oid, str(e.cycle_id), str(e.unit_id), e.indicator, str(e.target_value),
                 e.measure, event_id(e)),
            )]
        if isinstance(e, Target.TargetResultReported):
            return [self.s(
                "UPDATE {targets} SET result = ?, evidence = ?, reported_on = ?, event_id = ? "
                "WHERE target_id = ?",
                (str(e.value), e.evidence, e.occurred_on.isoformat(), event_id(e), oid),
            )]
        if isinstance(e, Sanction.SanctionImposed):
            return [self.s(
                "INSERT INTO {sanctions} VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (oid, str(e.official_id), e.kind.value, e.criterion, _opt(e.points), e.reason,
                 e.occurred_on.isoformat(), event_id(e)),
            )]
        if isinstance(e, Sanction.SanctionRevoked):
            return [self.s(
                "UPDATE {sanctions} SET revoked_on = ? WHERE sanction_id = ?",
                (e.occurred_on.isoformat(), oid),
            )]
        if isinstance(e, MissedApproval.ApprovalDeadlineMissed):
            return [self.s(
                "INSERT INTO {misses} VALUES (?, ?, ?, ?, ?, ?, ?)",
                (oid, str(e.task_id), str(e.cycle_id), str(e.approver_id),
                 e.submitted_on.isoformat(), e.deadline.isoformat(), event_id(e)),
            )]
        return []


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
