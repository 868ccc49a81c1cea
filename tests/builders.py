"""Builders for scoring tests: a tiny commune recorded as real aggregate events, no database.

The Ledger normally stamps every event with its actor and a command id; these builders stamp
them the same way (as attributes on the frozen event), so lines can name their authors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.cycles import Cycle, CycleKind
from domain.discipline import ConductAssessment, Sanction, SanctionKind
from domain.org import Official, Post, Unit, UnitKind
from domain.policy import PolicyParams
from domain.scoring import ScoreTable, score
from domain.targets import Target
from domain.tasks import Deduction, KpiKind, MissedApproval, Responsibility, Task

STARTS_ON = date(2026, 3, 2)  # a Monday
ENDS_ON = date(2026, 3, 16)  # fifteen days later, a Monday
MONITOR = Actor(official_id=uuid5(NAMESPACE_URL, "kpi-ledger:test:monitor"), role="monitoring")


@dataclass
class Town:
    """Records events the way the Ledger would, keeping them in recording order."""

    events: list[object] = field(default_factory=list)
    _commands: int = 0
    _assessments: dict[UUID, ConductAssessment] = field(default_factory=dict)

    def record(self, aggregate: Aggregate, actor: Actor = MONITOR) -> None:
        for ev in aggregate.collect_events():
            self._commands += 1
            object.__setattr__(ev, "actor", actor)
            object.__setattr__(
                ev, "command_id", uuid5(NAMESPACE_URL, f"kpi-ledger:test:cmd:{self._commands}")
            )
            self.events.append(ev)

    # Organisation -------------------------------------------------------------------------
    def unit(self, code: str, name: str, kind: UnitKind, parent: Unit | None = None) -> Unit:
        unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None)
        self.record(unit)
        return unit

    def official(
        self, code: str, full_name: str, unit: Unit, position: str = "Chuyên viên",
        post_group: str = "civil_servant", on: date = date(2025, 7, 1),
    ) -> Official:
        official = Official(
            code=code, full_name=full_name, position=position, unit_id=unit.id,
            staff_category="civil_servant", post_group=post_group, occurred_on=on,
        )
        self.record(official)
        return official

    def appoint(self, unit: Unit, post: Post, official: Official, on: date = date(2025, 7, 1)) -> None:
        unit.appoint(post, official.id, on)
        self.record(unit)

    def relieve(self, unit: Unit, post: Post, official: Official, on: date) -> None:
        unit.relieve(post, official.id, on, "điều động")
        self.record(unit)

    def transfer(self, official: Official, to: Unit, on: date, post_group: str | None = None) -> None:
        official.transfer(to.id, official.position, post_group or official.post_group, on)
        self.record(official)

    # Cycle --------------------------------------------------------------------------------
    def open_cycle(
        self, commune: Unit, starts_on: date = STARTS_ON, ends_on: date = ENDS_ON,
        policy_version: str = "v1",
    ) -> Cycle:
        cycle = Cycle(
            unit_id=commune.id, kind=CycleKind.FIFTEEN_DAYS, starts_on=starts_on, ends_on=ends_on,
            policy_version=policy_version,
        )
        self.record(cycle)
        return cycle

    # Tasks --------------------------------------------------------------------------------
    def task(
        self, cycle: Cycle, assignee: Official, approver: Official, *, title: str = "Báo cáo",
        kind: KpiKind = KpiKind.HARD, weight: Decimal = Decimal(1), target: int = 1,
        due_on: date = date(2026, 3, 10), assigned_on: date = STARTS_ON,
    ) -> Task:
        task = Task(
            cycle_id=cycle.id, title=title, assignee_id=assignee.id, assigner_id=approver.id,
            approver_id=approver.id, kind=kind, responsibility=Responsibility.LEAD,
            product="báo cáo", target_quantity=target, weight=weight, due_on=due_on,
            authority="Quyết định giao việc", occurred_on=assigned_on,
        )
        self.record(task, Actor(approver.id, "approver"))
        return task

    def submit(self, task: Task, quantity: int | None = None, on: date = date(2026, 3, 9)) -> None:
        qty = quantity if quantity is not None else 1
        task.submit(task.assignee_id, qty, "nộp", on)
        self.record(task, Actor(task.assignee_id, "official"))

    def approve(self, task: Task, errors: int = 0, on: date = date(2026, 3, 11)) -> None:
        task.approve(task.approver_id, errors, "đạt", on)
        self.record(task, Actor(task.approver_id, "approver"))

    def return_(self, task: Task, errors: int = 0, on: date = date(2026, 3, 11)) -> None:
        task.return_for_rework(task.approver_id, errors, "làm lại", on)
        self.record(task, Actor(task.approver_id, "approver"))

    def reassign(self, task: Task, to: Official, on: date = date(2026, 3, 3)) -> None:
        task.reassign(to.id, "nghỉ ốm", on)
        self.record(task)

    def confirm_objective_cause(
        self, task: Task, deduction: Deduction, by: Official, on: date = date(2026, 3, 13)
    ) -> None:
        task.confirm_objective_cause(deduction, "mưa lũ", on)
        self.record(task, Actor(by.id, "approver"))

    def miss(self, task: Task, deadline: date, on: date | None = None) -> MissedApproval:
        version = task.submission_version
        submitted_on = task.submitted_on
        if version is None or submitted_on is None:
            raise ValueError("the task has not been submitted")
        missed = MissedApproval(
            task_id=task.id, cycle_id=task.cycle_id, approver_id=task.approver_id,
            submission_version=version, submitted_on=submitted_on, deadline=deadline,
            occurred_on=on or deadline,
        )
        self.record(missed, Actor(MONITOR.official_id, "system"))
        return missed

    # Discipline, conduct, targets -----------------------------------------------------------
    def sanction(
        self, official: Official, kind: SanctionKind = SanctionKind.DEDUCTION,
        criterion: str = "unexcused_training_absence", points: Decimal | None = None,
        on: date = date(2026, 3, 5),
    ) -> Sanction:
        sanction = Sanction(
            official_id=official.id, kind=kind, criterion=criterion, points=points,
            reason="vắng họp", evidence="biên bản", occurred_on=on,
        )
        self.record(sanction)
        return sanction

    def revoke(self, sanction: Sanction, on: date = date(2026, 3, 12)) -> None:
        sanction.revoke("khiếu nại được chấp nhận", on)
        self.record(sanction)

    def assess(
        self, official: Official, cycle: Cycle, points: Decimal, by: Official | None = None,
        on: date = ENDS_ON,
    ) -> ConductAssessment:
        key = ConductAssessment.create_id(official.id, cycle.id)
        existing = self._assessments.get(key)
        assessment = existing or ConductAssessment(official_id=official.id, cycle_id=cycle.id)
        self._assessments[key] = assessment
        assessment.assess(points, "nhận xét", Decimal(15), on)
        self.record(assessment, Actor(by.id, "head") if by else MONITOR)
        return assessment

    def target(self, commune: Unit, cycle: Cycle, indicator: str, value: Decimal) -> Target:
        target = Target(
            unit_id=commune.id, cycle_id=cycle.id, indicator=indicator, target_value=value,
            measure="hộ", occurred_on=STARTS_ON,
        )
        self.record(target)
        return target

    def report(self, target: Target, value: Decimal, on: date = ENDS_ON) -> None:
        target.report(value, "báo cáo thống kê", on)
        self.record(target)

    def score(self, cycle: Cycle, policy: PolicyParams | None = None) -> ScoreTable:
        return score(policy or PolicyParams(), cycle.id, self.events)


@dataclass
class Commune:
    """Xã An Phú: chairman and secretary at the commune, two departments with heads and staff."""

    town: Town
    commune: Unit
    culture: Unit
    office: Unit
    chairman: Official
    secretary: Official
    culture_head: Official
    office_head: Official
    lan: Official
    minh: Official
    nam: Official
    cycle: Cycle

    @property
    def staff(self) -> list[Official]:
        return [self.lan, self.minh, self.nam]

    def score(self, policy: PolicyParams | None = None) -> ScoreTable:
        return self.town.score(self.cycle, policy)


def tiny_commune() -> Commune:
    town = Town()
    commune = town.unit("XA-AN-PHU", "Xã An Phú", UnitKind.COMMUNE)
    culture = town.unit("XA-AN-PHU-VHXH", "Phòng Văn hóa - Xã hội", UnitKind.DEPARTMENT, commune)
    office = town.unit("XA-AN-PHU-VP", "Văn phòng HĐND-UBND", UnitKind.DEPARTMENT, commune)
    chairman = town.official("CT01", "Nguyễn Văn Chung", commune, "Chủ tịch UBND", "leader")
    secretary = town.official("BT01", "Trần Thị Bích", commune, "Bí thư Đảng ủy", "leader")
    culture_head = town.official("VH01", "Lê Văn Hùng", culture, "Trưởng phòng", "leader")
    office_head = town.official("VP01", "Đỗ Thị Hoa", office, "Chánh văn phòng", "leader")
    lan = town.official("VH02", "Phạm Thị Lan", culture)
    minh = town.official("VH03", "Hoàng Văn Minh", culture)
    nam = town.official("VP02", "Vũ Văn Nam", office)
    town.appoint(commune, Post.CHAIRMAN, chairman)
    town.appoint(commune, Post.SECRETARY, secretary)
    town.appoint(culture, Post.HEAD, culture_head)
    town.appoint(office, Post.HEAD, office_head)
    cycle = town.open_cycle(commune)
    return Commune(
        town, commune, culture, office, chairman, secretary, culture_head, office_head,
        lan, minh, nam, cycle,
    )
