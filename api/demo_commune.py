"""`kpi-ledger demo`: Xã Cam Lộ's first 15-day cycle of March 2026, recorded through the Ledger.

Nothing here writes to the store directly: the province registers the units and enrols the
officials, the leaders assign tasks under "6 rõ", officials keep their diaries and submit, the
approvers act (or, once, do not), the deadline watcher runs, the heads assess conduct, the
province sets the commune's targets and the monitoring team reports them. The story itself (who,
which task, what happened) is data in `api/demo_roster.py`.

Every command carries a fixed command id (`demo-camlo:...`), so a second run finds each command's
receipt and records nothing new; the deadline watcher needs none, as its misses have natural ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from api import demo_roster as r
from domain.actors import Actor
from domain.cycles import CycleKind
from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.org import Post, UnitKind, official_id_for, unit_id_for
from domain.policy import PolicyParams
from domain.roles import Role

PREFIX = "demo-camlo"
POLICY_VERSION = "v1"
POLICY_EFFECTIVE = date(2026, 1, 1)
# Public holidays of 2026 for civil servants (Tết Bính Ngọ: 16-20 Feb): none in the cycle.
POLICY = PolicyParams(
    holidays=(date(2026, 1, 1), *(date(2026, 2, day) for day in range(16, 21)),
              date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)),
)
TRAINING_DAY = r.d(10)
PHASES = ("Đơn vị và cán bộ", "Chính sách và kỳ đánh giá", "Giao nhiệm vụ (6 rõ)",
          *(f"Nhật ký, nộp và duyệt ngày {day:%d/%m}" for day in
            (r.CYCLE_STARTS + timedelta(n) for n in range(15)) if day.weekday() < 5),
          "Theo dõi hạn phê duyệt", "Kỷ luật, phẩm chất và chỉ tiêu")


@dataclass
class DemoCommune:
    province_id: UUID
    commune_id: UUID
    commune_code: str
    cycle_id: UUID
    officials: dict[str, UUID]
    explained_official_id: UUID  # the approver who let a submission lapse
    admin: Actor
    missed_deadlines: list[UUID] = field(default_factory=list)  # recorded by this run


def as_official(code: str, role: Role = Role.OFFICIAL) -> Actor:
    return Actor(official_id=official_id_for(code), role=role.value)


def record_demo_commune(
    ledger: Ledger, progress: Callable[[str], None] | None = None
) -> DemoCommune:
    """Record the demo commune (idempotent: a second run on the same database adds nothing)."""
    return _Story(ledger, progress or (lambda _: None)).record()


class _Story:
    def __init__(self, ledger: Ledger, progress: Callable[[str], None]) -> None:
        self.ledger = ledger
        self.progress = progress
        self.admin = as_official(r.ADMIN.code, Role.ADMIN)
        self.monitor = as_official(r.MONITOR, Role.MONITORING)
        self.people = {p.code: p for p in (r.ADMIN, r.GOVERNOR, *r.COMMUNE_STAFF)}
        self.cycle_id = UUID(int=0)
        self.task_ids: dict[r.TaskPlan, UUID] = {}
        self.target_ids: dict[str, UUID] = {}
        phases = iter(PHASES)
        self._next_phase: Callable[[], None] = lambda: self.progress(next(phases))

    def record(self) -> DemoCommune:
        self._next_phase()
        self.organise()
        self._next_phase()
        self.open_cycle()
        self._next_phase()
        self.assign_tasks()
        for day in _working_days(r.CYCLE_STARTS, r.CYCLE_ENDS):
            self._next_phase()
            self.keep_diaries(day)
            self.submit_and_act(day)
        self._next_phase()
        missed = self.ledger.record_missed_deadlines(r.CYCLE_ENDS)
        self._next_phase()
        self.impose_training_absence()
        self.assess_conduct()
        self.report_targets()
        return DemoCommune(
            province_id=unit_id_for(r.PROVINCE.code),
            commune_id=unit_id_for(r.COMMUNE.code),
            commune_code=r.COMMUNE.code,
            cycle_id=self.cycle_id,
            officials={p.code: official_id_for(p.code) for p in r.COMMUNE_STAFF},
            explained_official_id=official_id_for(r.LAPSED_APPROVER),
            admin=self.admin,
            missed_deadlines=missed,
        )

    # -------------------------------------------------------------- organisation

    def organise(self) -> None:
        ledger, admin = self.ledger, self.admin
        province = ledger.register_unit(
            admin, code=r.PROVINCE.code, name=r.PROVINCE.name, kind=UnitKind.PROVINCE,
            command_id=f"{PREFIX}:unit:{r.PROVINCE.code}",
        )
        ledger.register_unit(
            admin, code=r.HOME_AFFAIRS.code, name=r.HOME_AFFAIRS.name,
            kind=UnitKind.PROVINCE_BODY, parent_id=province,
            command_id=f"{PREFIX}:unit:{r.HOME_AFFAIRS.code}",
        )
        commune = ledger.register_unit(
            admin, code=r.COMMUNE.code, name=r.COMMUNE.name, kind=UnitKind.COMMUNE,
            parent_id=province, command_id=f"{PREFIX}:unit:{r.COMMUNE.code}",
        )
        for department in r.DEPARTMENTS:
            ledger.register_unit(
                admin, code=department.code, name=department.name, kind=UnitKind.DEPARTMENT,
                parent_id=commune, command_id=f"{PREFIX}:unit:{department.code}",
            )
        for person in self.people.values():
            ledger.enroll_official(
                admin, code=person.code, full_name=person.full_name, position=person.position,
                unit_id=unit_id_for(person.unit.code), staff_category=person.staff_category,
                post_group=person.post_group, on=r.ENROLLED_ON,
                command_id=f"{PREFIX}:enrol:{person.code}",
            )
        posts = [(r.PROVINCE.code, Post.HEAD, r.GOVERNOR.code),
                 (r.COMMUNE.code, Post.CHAIRMAN, r.CHAIRMAN.code),
                 (r.COMMUNE.code, Post.SECRETARY, r.SECRETARY.code),
                 *((unit, Post.HEAD, head) for unit, head in r.HEADS.items())]
        for unit_code, post, code in posts:
            ledger.appoint_leader(
                admin, unit_id=unit_id_for(unit_code), post=post,
                official_id=official_id_for(code), on=r.ENROLLED_ON,
                command_id=f"{PREFIX}:appoint:{unit_code}:{post.value}",
            )

    def open_cycle(self) -> None:
        self.ledger.publish_policy(
            self.admin, version=POLICY_VERSION, effective_from=POLICY_EFFECTIVE, params=POLICY,
            command_id=f"{PREFIX}:policy:{POLICY_VERSION}",
        )
        self.cycle_id = self.ledger.open_cycle(
            self.admin, unit_id=unit_id_for(r.COMMUNE.code), kind=CycleKind.FIFTEEN_DAYS,
            starts_on=r.CYCLE_STARTS, ends_on=r.CYCLE_ENDS,
            command_id=f"{PREFIX}:cycle:{r.CYCLE_STARTS.isoformat()}",
        )
        for target in r.TARGETS:
            self.target_ids[target.indicator] = self.ledger.set_target(
                self.admin, cycle_id=self.cycle_id, indicator=target.indicator,
                target_value=target.target, measure=target.measure, on=r.CYCLE_STARTS,
                command_id=f"{PREFIX}:target:{target.indicator}",
            )

    # --------------------------------------------------------------------- tasks

    def approver_of(self, assignee: str) -> tuple[str, str]:
        """(approver code, authority text): the unit head for members, the chairman for heads
        and deputies, the province for the commune's chairman and secretary."""
        person = self.people[assignee]
        if assignee in (r.CHAIRMAN.code, r.SECRETARY.code):
            return r.GOVERNOR.code, r.AUTHORITY["province"]
        head = r.HEADS.get(person.unit.code)
        if head is None or head == assignee:
            return r.CHAIRMAN.code, r.AUTHORITY["commune"]
        text = r.AUTHORITY["unit"].format(head_title=person.unit.head_title, unit=person.unit.name)
        return head, text

    def assign_tasks(self) -> None:
        for plan, ref in _numbered(r.TASKS):
            approver, authority = self.approver_of(plan.assignee)
            self.task_ids[plan] = self.ledger.assign_task(
                as_official(approver), cycle_id=self.cycle_id,
                assignee_id=official_id_for(plan.assignee), title=plan.title, kind=plan.kind,
                product=plan.product, target_quantity=plan.quantity, due_on=plan.due_on,
                on=r.CYCLE_STARTS, authority=authority, weight=plan.weight,
                command_id=f"{PREFIX}:task:{ref}:assign",
            )

    def submit_and_act(self, day: date) -> None:
        """The day's submissions, returns, resubmissions and approvals, in that order."""
        for plan, ref in _numbered(r.TASKS):
            task_id = self.task_ids[plan]
            assignee = as_official(plan.assignee)
            approver = as_official(self.approver_of(plan.assignee)[0])
            delivered = plan.quantity if plan.delivered is None else plan.delivered
            if plan.submitted_on == day:
                self.ledger.submit_task(
                    assignee, task_id=task_id, quantity=delivered, on=day,
                    note=f"Hoàn thành {delivered} {plan.product.lower()}",
                    command_id=f"{PREFIX}:task:{ref}:submit",
                )
            back = plan.returned
            if back is not None and back.on == day:
                self.ledger.return_task(
                    approver, task_id=task_id, on=day, comment=back.comment,
                    major_errors=back.major_errors, command_id=f"{PREFIX}:task:{ref}:return",
                )
            if back is not None and back.resubmitted_on == day:
                self.ledger.submit_task(
                    assignee, task_id=task_id, quantity=delivered, on=day,
                    note="Đã chỉnh sửa, bổ sung theo ý kiến phê duyệt",
                    command_id=f"{PREFIX}:task:{ref}:resubmit",
                )
            if plan.approved_on == day:
                self.ledger.approve_task(
                    approver, task_id=task_id, on=day, major_errors=plan.major_errors,
                    comment=plan.comment or "Đạt yêu cầu",
                    command_id=f"{PREFIX}:task:{ref}:approve",
                )

    # --------------------------------------------------------------------- diary

    def keep_diaries(self, day: date) -> None:
        for n, person in enumerate(r.COMMUNE_STAFF):
            for entry_no, (hours, task, duty, products, text) in enumerate(
                self.diary_entries(n, person, day), start=1
            ):
                self.ledger.log_work(
                    as_official(person.code), cycle_id=self.cycle_id, on=day, hours=hours,
                    task_id=task, duty=duty, products=products, description=text,
                    command_id=f"{PREFIX}:diary:{person.code}:{day.isoformat()}:{entry_no}",
                )

    def diary_entries(
        self, n: int, person: r.Person, day: date
    ) -> Iterator[tuple[Decimal, UUID | None, str, int, str]]:
        if person.code == r.PADDED_DIARY:
            duty, text = r.PADDED_ENTRY
            yield Decimal(8), None, duty, 0, text
            return
        open_tasks = [
            plan for plan in r.TASKS
            if plan.assignee == person.code and plan.submitted_on is not None
            and r.CYCLE_STARTS <= day <= _last_worked(plan)
        ]
        duties = r.ROUTINE_DUTIES[person.unit.code]
        pattern = r.HOUR_PATTERNS[(n + day.day) % len(r.HOUR_PATTERNS)]
        for i, hours in enumerate(pattern):
            if i < len(open_tasks) and i < len(pattern) - 1:
                plan = open_tasks[(i + day.day) % len(open_tasks)]
                finished = day == _last_worked(plan)
                products = (plan.delivered or plan.quantity) if finished else 0
                text = "Hoàn thiện, nộp sản phẩm" if finished else "Triển khai thực hiện"
                yield hours, self.task_ids[plan], "", products, f"{text}: {plan.title}"
            else:
                duty = duties[(n + day.day + i) % len(duties)]
                yield hours, None, duty, 0, f"{duty} ({person.unit.name})"

    # --------------------------------------------------- discipline, conduct, targets

    def impose_training_absence(self) -> None:
        absentee = self.people[r.TRAINING_ABSENTEE]
        self.ledger.impose_sanction(
            as_official(r.HEADS[absentee.unit.code]), official_id=official_id_for(absentee.code),
            kind=SanctionKind.DEDUCTION, criterion="unexcused_training_absence",
            reason="Vắng họp tập huấn không lý do: Hội nghị tập huấn chuyển đổi số cấp xã "
            f"ngày {TRAINING_DAY:%d/%m/%Y}",
            evidence="Danh sách điểm danh Hội nghị tập huấn", on=TRAINING_DAY,
            command_id=f"{PREFIX}:sanction:{absentee.code}:{TRAINING_DAY.isoformat()}",
        )

    def assess_conduct(self) -> None:
        for person in r.COMMUNE_STAFF:
            assessor, _ = self.approver_of(person.code)
            self.ledger.assess_conduct(
                as_official(assessor), official_id=official_id_for(person.code),
                cycle_id=self.cycle_id, points=person.conduct, on=r.CYCLE_ENDS,
                note="Chấp hành tốt kỷ luật, kỷ cương; thái độ phục vụ Nhân dân tốt"
                if person.conduct >= 14 else "Cần nâng cao tinh thần trách nhiệm",
                command_id=f"{PREFIX}:conduct:{person.code}",
            )

    def report_targets(self) -> None:
        for target in r.TARGETS:
            self.ledger.report_target_result(
                self.monitor, target_id=self.target_ids[target.indicator],
                value=target.result, evidence=target.evidence, on=r.CYCLE_ENDS,
                command_id=f"{PREFIX}:target:{target.indicator}:result",
            )


def _last_worked(plan: r.TaskPlan) -> date:
    """The day the assignee last worked on the task: its (re)submission."""
    last = plan.submitted_on or r.CYCLE_ENDS
    return plan.returned.resubmitted_on if plan.returned else last


def _numbered(tasks: tuple[r.TaskPlan, ...]) -> Iterator[tuple[r.TaskPlan, str]]:
    """Each task with a stable reference: its assignee and its place among their tasks."""
    seen: dict[str, int] = {}
    for plan in tasks:
        seen[plan.assignee] = seen.get(plan.assignee, 0) + 1
        yield plan, f"{plan.assignee}:{seen[plan.assignee]}"


def _working_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if POLICY.calendar.is_working_day(day):
            yield day
        day += timedelta(days=1)
