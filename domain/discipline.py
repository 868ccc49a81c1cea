"""Discipline and conduct: the 30 points of general criteria.

A sanction is either a point deduction under a named criterion (an unexcused training absence
costs 2 of 15) or a formal measure (reprimand or heavier rates the period "not completed").
Deductions are looked up in the policy at scoring time, so a what-if under another policy
re-prices them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput

# Vietnamese labels for the criteria officials read on their score sheets.
CRITERION_LABELS = {
    "unexcused_training_absence": "Vắng tập huấn, bồi dưỡng không có lý do chính đáng",
}


class SanctionKind(str, Enum):
    DEDUCTION = "deduction"
    REPRIMAND = "reprimand"  # khiển trách
    WARNING = "warning"  # cảnh cáo
    DEMOTION = "demotion"  # giáng chức / hạ bậc
    DISMISSAL = "dismissal"  # buộc thôi việc / cách chức


class Sanction(Aggregate):
    class SanctionImposed(Aggregate.Created):
        official_id: UUID
        kind: SanctionKind
        criterion: str
        points: Decimal | None
        reason: str
        evidence: str
        occurred_on: date

    class SanctionRevoked(Aggregate.Event):
        reason: str
        occurred_on: date

    @event(SanctionImposed)
    def __init__(
        self,
        official_id: UUID,
        kind: SanctionKind,
        criterion: str,
        points: Decimal | None,
        reason: str,
        evidence: str,
        occurred_on: date,
    ) -> None:
        self.official_id = official_id
        self.occurred_on = occurred_on
        self.is_revoked = False

    @staticmethod
    def check_terms(kind: SanctionKind, criterion: str, points: Decimal | None, reason: str,
                    known_deduction: Decimal | None, max_points: Decimal) -> None:
        if not reason.strip():
            raise InvalidInput("reason", "a sanction must state its reason")
        if kind is SanctionKind.DEDUCTION:
            if not criterion.strip():
                raise InvalidInput("criterion", "a point deduction names the criterion breached")
            if points is None and known_deduction is None:
                raise InvalidInput("points", f"the policy has no deduction for {criterion!r}; give the points")
        if points is not None and not Decimal(0) < points <= max_points:
            raise InvalidInput("points", f"must be more than 0 and at most the {max_points} discipline points")

    def revoke(self, reason: str, on: date) -> None:
        if self.is_revoked:
            raise Conflict("sanction_id", "the sanction is already revoked")
        if not reason.strip():
            raise InvalidInput("reason", "a revocation must state its reason")
        self._revoked(reason=reason, occurred_on=on)

    @event(SanctionRevoked)
    def _revoked(self, reason: str, occurred_on: date) -> None:
        self.is_revoked = True


def conduct_id(official_id: UUID, cycle_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:conduct:{official_id}:{cycle_id}")


class ConductAssessment(Aggregate):
    """The unit head's assessment of ethics, work style and service to citizens (soft KPI)."""

    class ConductAssessmentStarted(Aggregate.Created):
        official_id: UUID
        cycle_id: UUID

    class ConductAssessed(Aggregate.Event):
        points: Decimal
        note: str
        occurred_on: date

    @staticmethod
    def create_id(official_id: UUID, cycle_id: UUID, **_: object) -> UUID:
        return conduct_id(official_id, cycle_id)

    @event(ConductAssessmentStarted)
    def __init__(self, official_id: UUID, cycle_id: UUID) -> None:
        self.official_id = official_id
        self.cycle_id = cycle_id

    def assess(self, points: Decimal, note: str, max_points: Decimal, on: date) -> None:
        if not Decimal(0) <= points <= max_points:
            raise InvalidInput("points", f"must lie between 0 and {max_points}")
        self._assessed(points=points, note=note, occurred_on=on)

    @event(ConductAssessed)
    def _assessed(self, points: Decimal, note: str, occurred_on: date) -> None:
        self.points = points
