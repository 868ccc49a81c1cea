"""The daily diary, discipline and conduct, and commune development targets: the records an
official's general criteria and a leader's unit part are scored from.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.diary import DiaryDay, diary_day_id
from domain.discipline import ConductAssessment, Sanction, SanctionKind, conduct_id
from domain.errors import InvalidInput, NotAuthorised, NotFound
from domain.ledger_core import LedgerCore, amount
from domain.roles import Role
from domain.targets import Target


class RecordCommands(LedgerCore):
    def log_work(
        self, actor: Actor, *, cycle_id: UUID, on: date, hours: Decimal, task_id: UUID | None = None,
        duty: str = "", products: int = 0, description: str = "", official_id: UUID | None = None,
        command_id: str | None = None,
    ) -> int:
        """An official logs only their own diary; more than 24 hours a day is refused."""
        hours = amount("hours", hours)
        args = dict(cycle_id=cycle_id, on=on, hours=hours, task_id=task_id, duty=duty,
                    products=products, description=description, official_id=official_id)

        def decide() -> tuple[int, list[Aggregate]]:
            owner = official_id or actor.official_id
            if owner != actor.official_id:
                raise NotAuthorised("official_id", "an official logs only their own diary")
            self.prefetch(owner, cycle_id, diary_day_id(owner, on))
            official = self.get_official(owner, "actor")
            cycle = self.get_cycle(cycle_id)
            cycle.check_open()
            cycle.check_covers("on", on)
            self.check_in_cycle(official, cycle, "actor")
            if task_id is not None and self.get_task(task_id).assignee_id != owner:
                raise InvalidInput("task_id", "the task is not assigned to this official")
            try:
                day = self._get(DiaryDay, diary_day_id(owner, on), "on")
            except NotFound:
                day = DiaryDay(official_id=owner, occurred_on=on)
            policy = self.policy_of(cycle).params
            entry = day.log(cycle_id, hours, task_id, duty, products, description, policy.max_hours_per_day)
            return entry, [day]

        return self._handle("log_work", actor, command_id, args, decide, decode=int)

    def void_work_log(
        self, actor: Actor, *, on: date, entry_no: int, reason: str, official_id: UUID | None = None,
        command_id: str | None = None,
    ) -> None:
        args = dict(on=on, entry_no=entry_no, reason=reason, official_id=official_id)

        def decide() -> tuple[None, list[Aggregate]]:
            owner = official_id or actor.official_id
            if owner != actor.official_id:
                self.check_leads(actor.official_id, self.get_official(owner), on)
            day = self._get(DiaryDay, diary_day_id(owner, on), "on")
            if entry_no in day.entry_cycles:
                self.get_cycle(day.entry_cycles[entry_no]).check_open()
            day.void(entry_no, reason)
            return None, [day]

        return self._handle("void_work_log", actor, command_id, args, decide)

    # ------------------------------------------------------------------- discipline

    def impose_sanction(
        self, actor: Actor, *, official_id: UUID, kind: SanctionKind, reason: str, on: date,
        criterion: str = "", points: Decimal | None = None, evidence: str = "",
        command_id: str | None = None,
    ) -> UUID:
        points = None if points is None else amount("points", points)
        args = dict(official_id=official_id, kind=kind, reason=reason, on=on, criterion=criterion,
                    points=points, evidence=evidence)

        def decide() -> tuple[UUID, list[Aggregate]]:
            official = self.get_official(official_id)
            if actor.role != Role.ADMIN.value:
                self.check_leads(actor.official_id, official, on)
            policy = self.policies().in_force_on(on).params
            Sanction.check_terms(kind, criterion, points, reason, policy.criterion_deduction(criterion),
                                 policy.discipline_points)
            sanction = Sanction(
                official_id=official_id, kind=kind, criterion=criterion, points=points,
                reason=reason, evidence=evidence, occurred_on=on,
            )
            return sanction.id, [sanction]

        return self._handle("impose_sanction", actor, command_id, args, decide, decode=UUID)

    def revoke_sanction(
        self, actor: Actor, *, sanction_id: UUID, reason: str, on: date, command_id: str | None = None
    ) -> None:
        args = dict(sanction_id=sanction_id, reason=reason, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            sanction = self._get(Sanction, sanction_id, "sanction_id")
            if actor.role != Role.ADMIN.value:
                self.check_leads(actor.official_id, self.get_official(sanction.official_id), on)
            sanction.revoke(reason, on)
            return None, [sanction]

        return self._handle("revoke_sanction", actor, command_id, args, decide)

    def assess_conduct(
        self, actor: Actor, *, official_id: UUID, cycle_id: UUID, points: Decimal, on: date,
        note: str = "", command_id: str | None = None,
    ) -> None:
        """The soft criterion: the unit head's assessment of ethics, work style, service."""
        points = amount("points", points)
        args = dict(official_id=official_id, cycle_id=cycle_id, points=points, on=on, note=note)

        def decide() -> tuple[None, list[Aggregate]]:
            official = self.get_official(official_id)
            cycle = self.get_cycle(cycle_id)
            cycle.check_open()
            self.check_in_cycle(official, cycle, "official_id")
            self.check_leads(actor.official_id, official, on)
            try:
                assessment = self._get(ConductAssessment, conduct_id(official_id, cycle_id), "official_id")
            except NotFound:
                assessment = ConductAssessment(official_id=official_id, cycle_id=cycle_id)
            assessment.assess(points, note, self.policy_of(cycle).params.conduct_points, on)
            return None, [assessment]

        return self._handle("assess_conduct", actor, command_id, args, decide)

    # ---------------------------------------------------------------------- targets

    def set_target(
        self, actor: Actor, *, cycle_id: UUID, indicator: str, target_value: Decimal, measure: str,
        on: date, command_id: str | None = None,
    ) -> UUID:
        """Commune development targets are set by the province (admin role)."""
        target_value = amount("target_value", target_value)
        args = dict(cycle_id=cycle_id, indicator=indicator, target_value=target_value,
                    measure=measure, on=on)

        def decide() -> tuple[UUID, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            Target.check_terms(indicator, target_value, measure)
            cycle = self.get_cycle(cycle_id)
            cycle.check_open()
            target = self._new(
                Target, "indicator", unit_id=cycle.unit_id, cycle_id=cycle_id, indicator=indicator,
                target_value=target_value, measure=measure, occurred_on=on,
            )
            return target.id, [target]

        return self._handle("set_target", actor, command_id, args, decide, decode=UUID)

    def report_target_result(
        self, actor: Actor, *, target_id: UUID, value: Decimal, evidence: str, on: date,
        command_id: str | None = None,
    ) -> None:
        """Reported by the KPI monitoring team, or by the commune's chairman or secretary."""
        value = amount("value", value)
        args = dict(target_id=target_id, value=value, evidence=evidence, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            target = self._get(Target, target_id, "target_id")
            self.get_cycle(target.cycle_id).check_open()
            if actor.role != Role.MONITORING.value:
                commune = self.get_unit(target.unit_id)
                if actor.official_id not in commune.leaders_on(on).values():
                    raise NotAuthorised("actor", "only the monitoring team or the commune's leaders report results")
            target.report(value, evidence, on)
            return None, [target]

        return self._handle("report_target_result", actor, command_id, args, decide)
