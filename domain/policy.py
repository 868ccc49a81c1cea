"""Scoring policy: every number of the scoring rules, versioned as events.

Defaults follow Decree 335/2025/NĐ-CP's 100-point scale as its published summaries describe it,
with the seeds' provincial practices as parameters. A cycle pins the version in force when it
opened, so a later policy never silently re-scores a closed cycle; replays may name another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.calendar import WorkingCalendar, calendar_of
from domain.errors import Conflict, InvalidInput, NotFound

D = Decimal


@dataclass(frozen=True)
class PolicyParams:
    # Task results (Decree 335: 70 of 100 points).
    task_points: Decimal = D(70)
    spearhead_multiplier: Decimal = D("1.5")
    error_penalty: Decimal = D("0.25")  # per major error, of the quality factor
    delay_penalty: Decimal = D("0.25")  # per started block of late working days
    delay_block_days: int = 5
    # General criteria (30 points).
    discipline_points: Decimal = D(15)
    conduct_points: Decimal = D(15)
    # Conduct not yet assessed by the unit head counts as this (flagged for the monitoring team).
    conduct_default: Decimal = D(15)
    # Point deductions per named criterion; a sanction under another criterion carries its own.
    criterion_points: tuple[tuple[str, Decimal], ...] = (("unexcused_training_absence", D(2)),)
    # Leaders: own tasks and unit result split the task points.
    leader_own_points: Decimal = D(35)
    leader_unit_points: Decimal = D(35)
    unit_part_factor_if_member_failed: Decimal = D("0.5")
    # Approval duty (seed 004: the "heavy" deduction for a lapsed approval).
    approval_deadline_days: int = 5
    approval_miss_points: Decimal = D(5)
    # Ratings.
    excellent_from: Decimal = D(90)
    good_from: Decimal = D(70)
    completed_from: Decimal = D(50)
    # Decree 90/2020 art. 20: "excellent" at most this share of those rated "good".
    excellent_cap_ratio: Decimal = D("0.2")
    excellent_cap_rounding: str = "down"  # or "half_up"
    # Formal measures that rate "not completed" whatever the points.
    failing_measures: tuple[str, ...] = ("reprimand", "warning", "demotion", "dismissal")
    holidays: tuple[date, ...] = ()
    # Diary checks (flags, never penalties).
    max_hours_per_day: Decimal = D(24)
    padding_run_days: int = 3
    backfill_after_days: int = 3
    # Appeal clocks.
    result_notice_working_days: int = 5
    appeal_window_days: int = 90
    appeal_decision_days: int = 30
    appeal_decision_days_complex: int = 45

    @property
    def calendar(self) -> WorkingCalendar:
        return calendar_of(self.holidays)

    def criterion_deduction(self, criterion: str) -> Decimal | None:
        return dict(self.criterion_points).get(criterion)

    def check(self) -> None:
        """Refuse a policy whose parts cannot add up to a 100-point scale."""
        if self.task_points + self.discipline_points + self.conduct_points != 100:
            raise InvalidInput("params", "task, discipline and conduct points must sum to 100")
        if self.leader_own_points + self.leader_unit_points != self.task_points:
            raise InvalidInput("params", "leader own and unit points must sum to the task points")
        if not self.excellent_from > self.good_from > self.completed_from >= 0:
            raise InvalidInput("params", "rating thresholds must descend: excellent > good > completed")
        if self.approval_deadline_days < 1 or self.delay_block_days < 1:
            raise InvalidInput("params", "working-day counts must be at least 1")
        if self.excellent_cap_rounding not in ("down", "half_up"):
            raise InvalidInput("params.excellent_cap_rounding", "must be 'down' or 'half_up'")
        if not D(0) <= self.conduct_default <= self.conduct_points:
            raise InvalidInput("params.conduct_default", "must lie within the conduct points")
        for name in ("excellent_cap_ratio", "unit_part_factor_if_member_failed", "error_penalty",
                     "delay_penalty"):
            if not D(0) <= getattr(self, name) <= 1:
                raise InvalidInput(f"params.{name}", "must lie between 0 and 1")
        if self.approval_miss_points < 0 or any(p <= 0 for _, p in self.criterion_points):
            raise InvalidInput("params", "deductions must be positive")


POLICY_REGISTRY_ID = uuid5(NAMESPACE_URL, "kpi-ledger:scoring-policies")


@dataclass(frozen=True)
class PublishedPolicy:
    version: str
    effective_from: date
    params: PolicyParams = field(default_factory=PolicyParams)


class ScoringPolicies(Aggregate):
    """All published policy versions: one short stream, so any command can find the one in force."""

    class Started(Aggregate.Created):
        pass

    class ScoringPolicyPublished(Aggregate.Event):
        version: str
        effective_from: date
        params: PolicyParams

    @staticmethod
    def create_id() -> UUID:
        return POLICY_REGISTRY_ID

    @event(Started)
    def __init__(self) -> None:
        self.versions: dict[str, PublishedPolicy] = {}

    def publish(self, version: str, effective_from: date, params: PolicyParams) -> None:
        if not version.strip():
            raise InvalidInput("version", "must not be empty")
        if version in self.versions:
            raise Conflict("version", f"policy {version} is already published; publish a new version")
        params.check()
        self._published(version=version, effective_from=effective_from, params=params)

    @event(ScoringPolicyPublished)
    def _published(self, version: str, effective_from: date, params: PolicyParams) -> None:
        self.versions[version] = PublishedPolicy(version, effective_from, params)

    def get(self, version: str) -> PublishedPolicy:
        try:
            return self.versions[version]
        except KeyError:
            raise NotFound("policy_version", f"no scoring policy {version!r} is published") from None

    def in_force_on(self, day: date) -> PublishedPolicy:
        candidates = [p for p in self.versions.values() if p.effective_from <= day]
        if not candidates:
            raise NotFound("policy_version", f"no scoring policy is in force on {day.isoformat()}")
        return max(candidates, key=lambda p: (p.effective_from, p.version))
