"""The Ledger application: the only way to change what is recorded.

Every command follows "get, check, record, save": it loads the aggregates it needs, checks the
input and the actor's authority (raising a `LedgerError` that names the field), lets the
aggregate record its event, stamps the actor and command id on every new event, and saves
everything, with the command's receipt, in one transaction. A refused command records nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic

from domain.access import Access, AccessRole
from domain.actors import SYSTEM, Actor
from domain.cycles import Cycle, CycleKind
from domain.diary import DiaryDay, diary_day_id
from domain.discipline import ConductAssessment, Sanction, SanctionKind, conduct_id
from domain.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from domain.org import Official, Post, Unit, UnitKind, unit_id_for
from domain.persistence import protect_event_tables
from domain.policy import POLICY_REGISTRY_ID, PolicyParams, PublishedPolicy, ScoringPolicies
from domain.receipts import CommandReceipt, receipt_id
from domain.roles import Role
from domain.scoring import FOLDED_EVENTS, ScoreTable, score
from domain.targets import Target
from domain.tasks import Deduction, KpiKind, MissedApproval, Responsibility, Task, missed_approval_id

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

PAGE = 5_000

PARENT_KIND: dict[UnitKind, UnitKind | None] = {
    UnitKind.PROVINCE: None,
    UnitKind.PROVINCE_BODY: UnitKind.PROVINCE,
    UnitKind.COMMUNE: UnitKind.PROVINCE,
    UnitKind.DEPARTMENT: UnitKind.COMMUNE,
}
MAX_CYCLE_DAYS = {CycleKind.FIFTEEN_DAYS: 16, CycleKind.MONTH: 31, CycleKind.QUARTER: 92, CycleKind.YEAR: 366}


def _fingerprint(command: str, args: dict[str, Any]) -> str:
    """Same command id with different arguments is a client error, not a retry."""
    def canonical(value: Any) -> Any:
        return value.normalize() if isinstance(value, Decimal) else value

    text = command + "|" + "|".join(f"{k}={canonical(args[k])!r}" for k in sorted(args))
    return hashlib.sha256(text.encode()).hexdigest()


def amount(field: str, value: object) -> Decimal:
    """Hours, weights and points arrive as Decimal, int or text; a float is taken at its
    printed value, anything else is refused naming the field."""
    if isinstance(value, Decimal | int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            number = Decimal("NaN")
        if number.is_finite():
            return number
    raise InvalidInput(field, f"must be a number, not {value!r}")


class Ledger(Application[UUID]):
    name = "Ledger"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        protect_event_tables(self.recorder)
        self._batch: dict[UUID, Aggregate] | None = None
        self._loaded: dict[UUID, int] = {}  # in a batch: pending events of each aggregate loaded
        # Facts that no event can change once recorded, so a process may keep them: a unit's
        # commune (parent and kind are fixed at registration) and a published policy version.
        self._commune_ids: dict[UUID, UUID] = {}
        self._published: dict[str, PublishedPolicy] = {}

    @contextmanager
    def batch(self) -> Iterator[Ledger]:
        """Record many commands in one transaction (imports, bulk loads).

        Inside `with ledger.batch():` every command is checked exactly as alone, but its
        aggregates (and receipt) are kept in an identity map instead of being saved: a later
        command in the batch sees them, and the first read of a unit, official, cycle or the
        policy registry serves the rest of the batch. On leaving the block everything is saved
        with one `save()`, one transaction. A refused command inside records nothing and the
        batch goes on; an exception leaving the block, or a conflict at save, records nothing
        at all. Commands that read the log (`close_cycle`, the deadline watcher) run outside.
        """
        if self._batch is not None:
            raise RuntimeError("batches do not nest")
        self._batch = {}
        try:
            yield self
            collected = list(self._batch.values())
        finally:
            self._batch = None
        changed = [a for a in collected if a.pending_events]
        if changed:
            try:
                self.save(*changed)
            except IntegrityError:
                raise Conflict("command", "the records changed concurrently; retry the batch") from None

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """`repository.get`, through the batch's identity map when a batch is open."""
        if self._batch is None:
            return self.repository.get(aggregate_id)
        found = self._batch.get(aggregate_id)
        if found is None:
            found = self._batch[aggregate_id] = self.repository.get(aggregate_id)
        self._loaded.setdefault(aggregate_id, len(found.pending_events))
        return found

    # ----------------------------------------------------------------- plumbing

    def _handle(
        self,
        command: str,
        actor: Actor,
        command_id: str | None,
        args: dict[str, Any],
        decide: Callable[[], tuple[R, Sequence[Aggregate]]],
        encode: Callable[[R], str] = str,
        decode: Callable[[str], R] | None = None,
    ) -> R:
        fingerprint = _fingerprint(command, {**args, "actor": actor})
        if command_id is not None:
            earlier = self._receipt(command_id)
            if earlier is not None:
                return self._replayed(earlier, command, fingerprint, decode)
        if self._batch is not None:
            self._loaded = {}
            try:
                result, aggregates = decide()
            except Exception:
                batch = self._batch
                if any(len(batch[k].pending_events) != n for k, n in self._loaded.items()):
                    raise RuntimeError(f"{command} failed after recording; the batch is void") from None
                raise
        else:
            result, aggregates = decide()
        stamp = command_id or uuid4().hex
        to_save = list(aggregates)
        if command_id is not None:
            to_save.append(
                CommandReceipt(
                    command_id=command_id, command=command, fingerprint=fingerprint,
                    result=encode(result),
                )
            )
        for aggregate in to_save:
            for pending in aggregate.pending_events:
                # Metadata, not domain state: who did it and under which command. In a batch an
                # aggregate may already hold an earlier command's events, stamped by that one.
                if getattr(pending, "actor", None) is None:
                    object.__setattr__(pending, "actor", actor)
                    object.__setattr__(pending, "command_id", stamp)
        if self._batch is not None:
            for aggregate in to_save:
                self._batch[aggregate.id] = aggregate
            return result
        try:
            self.save(*to_save)
        except IntegrityError:
            if command_id is not None:
                earlier = self._receipt(command_id)
                if earlier is not None:
                    return self._replayed(earlier, command, fingerprint, decode)
            raise Conflict("command", "the records changed concurrently; retry the command") from None
        return result

    def _receipt(self, command_id: str) -> CommandReceipt | None:
        try:
            found: Aggregate = self._load(receipt_id(command_id))
        except AggregateNotFoundError:
            return None
        assert isinstance(found, CommandReceipt)
        return found

    @staticmethod
    def _replayed(
        receipt: CommandReceipt, command: str, fingerprint: str, decode: Callable[[str], R] | None
    ) -> R:
        if receipt.command != command or receipt.fingerprint != fingerprint:
            raise Conflict(
                "command_id", f"already used for a different command ({receipt.command})"
            )
        return decode(receipt.result) if decode else None  # type: ignore[return-value]

    def _get(self, cls: type[A], aggregate_id: UUID, field: str) -> A:
        try:
            found: Aggregate = self._load(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(field, f"no {cls.__name__.lower()} {aggregate_id}") from None
        if not isinstance(found, cls):
            raise NotFound(field, f"{aggregate_id} is not a {cls.__name__.lower()}")
        return found

    def _new(self, cls: type[A], field: str, **kwargs: Any) -> A:
        """Create an aggregate whose id derives from its natural key; refuse a second one."""
        aggregate = cls(**kwargs)
        if (self._batch is not None and aggregate.id in self._batch) or aggregate.id in self.repository:
            raise Conflict(field, f"{cls.__name__} {aggregate.id} is already recorded")
        return aggregate

    def get_official(self, official_id: UUID, field: str = "official_id") -> Official:
        return self._get(Official, official_id, field)

    def get_unit(self, unit_id: UUID, field: str = "unit_id") -> Unit:
        return self._get(Unit, unit_id, field)

    def get_cycle(self, cycle_id: UUID) -> Cycle:
        return self._get(Cycle, cycle_id, "cycle_id")

    def get_task(self, task_id: UUID) -> Task:
        return self._get(Task, task_id, "task_id")

    def policies(self) -> ScoringPolicies:
        try:
            found: Aggregate = self._load(POLICY_REGISTRY_ID)
        except AggregateNotFoundError:
            raise NotFound("policy_version", "no scoring policy has been published") from None
        assert isinstance(found, ScoringPolicies)
        return found

    def policy_of(self, cycle: Cycle) -> PublishedPolicy:
        found = self._published.get(cycle.policy_version)
        if found is None:
            found = self._published[cycle.policy_version] = self.policies().get(cycle.policy_version)
        return found

    # ---------------------------------------------------------- authority checks

    @staticmethod
    def check_role(actor: Actor, *roles: Role) -> None:
        if actor.role not in {r.value for r in roles}:
            wanted = " or ".join(r.value for r in roles)
            raise NotAuthorised("actor", f"role {actor.role!r} may not do this; needs {wanted}")

    def unit_chain(self, unit_id: UUID) -> list[Unit]:
        """The unit and every unit above it, nearest first."""
        chain = [self.get_unit(unit_id)]
        while chain[-1].parent_id is not None and len(chain) < 16:
            chain.append(self.get_unit(chain[-1].parent_id, "parent_id"))
        return chain

    def commune_of(self, unit_id: UUID) -> Unit:
        for unit in self.unit_chain(unit_id):
            if unit.kind is UnitKind.COMMUNE:
                return unit
        raise InvalidInput("unit_id", "the unit belongs to no commune")

    def check_leads(self, leader_id: UUID, official: Official, on: date, field: str = "actor") -> None:
        """6 rõ authority: a leader of the official's unit, or of a unit above it."""
        if leader_id == official.id:
            raise NotAuthorised(field, "an official cannot hold authority over their own work")
        for unit in self.unit_chain(official.unit_id):
            if leader_id in unit.leaders_on(on).values():
                return
        raise NotAuthorised(
            field, f"{leader_id} leads neither {official.full_name}'s unit nor a unit above it on {on}"
        )

    def check_in_cycle(self, official: Official, cycle: Cycle, field: str) -> None:
        commune_id = self._commune_ids.get(official.unit_id)
        if commune_id is None:
            try:
                commune_id = self._commune_ids[official.unit_id] = self.commune_of(official.unit_id).id
            except InvalidInput:
                raise InvalidInput(field, f"{official.full_name} belongs to no commune") from None
        if commune_id != cycle.unit_id:
            raise InvalidInput(field, f"{official.full_name} does not belong to the cycle's commune")

    # --------------------------------------------------------------- organisation

    def register_unit(
        self, actor: Actor, *, code: str, name: str, kind: UnitKind,
        parent_id: UUID | None = None, command_id: str | None = None,
    ) -> UUID:
        args = dict(code=code, name=name, kind=kind, parent_id=parent_id)

        def decide() -> tuple[UUID, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            if not code.strip():
                raise InvalidInput("code", "must not be empty")
            if not name.strip():
                raise InvalidInput("name", "must not be empty")
            parent_kind = self.get_unit(parent_id, "parent_id").kind if parent_id else None
            if PARENT_KIND[kind] is not parent_kind:
                wanted = PARENT_KIND[kind]
                raise InvalidInput(
                    "parent_id",
                    f"a {kind.value} belongs to a {wanted.value}" if wanted else "a province has no parent",
                )
            unit = self._new(Unit, "code", code=code, name=name, kind=kind, parent_id=parent_id)
            return unit.id, [unit]

        return self._handle("register_unit", actor, command_id, args, decide, decode=UUID)

    def enroll_official(
        self, actor: Actor, *, code: str, full_name: str, position: str, unit_id: UUID,
        staff_category: str, post_group: str, on: date, command_id: str | None = None,
    ) -> UUID:
        args = dict(code=code, full_name=full_name, position=position, unit_id=unit_id,
                    staff_category=staff_category, post_group=post_group, on=on)

        def decide() -> tuple[UUID, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            for field, value in (("code", code), ("full_name", full_name), ("position", position),
                                 ("staff_category", staff_category), ("post_group", post_group)):
                if not value.strip():
                    raise InvalidInput(field, "must not be empty")
            self.get_unit(unit_id)
            official = self._new(
                Official, "code", code=code, full_name=full_name, position=position,
                unit_id=unit_id, staff_category=staff_category, post_group=post_group, occurred_on=on,
            )
            return official.id, [official]

        return self._handle("enroll_official", actor, command_id, args, decide, decode=UUID)

    def transfer_official(
        self, actor: Actor, *, official_id: UUID, unit_id: UUID, position: str, post_group: str,
        on: date, command_id: str | None = None,
    ) -> None:
        args = dict(official_id=official_id, unit_id=unit_id, position=position,
                    post_group=post_group, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            official = self.get_official(official_id)
            self.get_unit(unit_id)
            for unit in self.unit_chain(official.unit_id):
                held = [p.value for p, holder in unit.leaders_on(on).items() if holder == official_id]
                if held:
                    raise Conflict("official_id", f"holds {held[0]} of {unit.name}; relieve before transferring")
            official.transfer(unit_id, position, post_group, on)
            return None, [official]

        return self._handle("transfer_official", actor, command_id, args, decide)

    def appoint_leader(
        self, actor: Actor, *, unit_id: UUID, post: Post, official_id: UUID, on: date,
        command_id: str | None = None,
    ) -> None:
        args = dict(unit_id=unit_id, post=post, official_id=official_id, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            unit = self.get_unit(unit_id)
            official = self.get_official(official_id)
            if unit.id not in {u.id for u in self.unit_chain(official.unit_id)}:
                raise InvalidInput("official_id", f"{official.full_name} is not enrolled in {unit.name}")
            unit.appoint(post, official_id, on)
            return None, [unit]

        return self._handle("appoint_leader", actor, command_id, args, decide)

    def relieve_leader(
        self, actor: Actor, *, unit_id: UUID, post: Post, official_id: UUID, on: date, reason: str,
        command_id: str | None = None,
    ) -> None:
        args = dict(unit_id=unit_id, post=post, official_id=official_id, on=on, reason=reason)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            unit = self.get_unit(unit_id)
            unit.relieve(post, official_id, on, reason)
            return None, [unit]

        return self._handle("relieve_leader", actor, command_id, args, decide)

    # --------------------------------------------------------------- policy, cycles

    def publish_policy(
        self, actor: Actor, *, version: str, effective_from: date,
        params: PolicyParams | None = None, command_id: str | None = None,
    ) -> None:
        args = dict(version=version, effective_from=effective_from, params=params)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            try:
                registry = self.policies()
            except NotFound:
                registry = ScoringPolicies()
            registry.publish(version, effective_from, params or PolicyParams())
            return None, [registry]

        return self._handle("publish_policy", actor, command_id, args, decide)

    def open_cycle(
        self, actor: Actor, *, unit_id: UUID, kind: CycleKind, starts_on: date, ends_on: date,
        policy_version: str | None = None, command_id: str | None = None,
    ) -> UUID:
        args = dict(unit_id=unit_id, kind=kind, starts_on=starts_on, ends_on=ends_on,
                    policy_version=policy_version)

        def decide() -> tuple[UUID, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN, Role.MONITORING)
            unit = self.get_unit(unit_id)
            if unit.kind is not UnitKind.COMMUNE:
                raise InvalidInput("unit_id", f"cycles are opened for communes; {unit.name} is a {unit.kind.value}")
            if ends_on < starts_on:
                raise InvalidInput("ends_on", "must not precede starts_on")
            if (ends_on - starts_on).days + 1 > MAX_CYCLE_DAYS[kind]:
                raise InvalidInput("ends_on", f"a {kind.value} cycle lasts at most {MAX_CYCLE_DAYS[kind]} days")
            registry = self.policies()
            pinned = registry.get(policy_version) if policy_version else registry.in_force_on(starts_on)
            cycle = self._new(
                Cycle, "starts_on", unit_id=unit_id, kind=kind, starts_on=starts_on,
                ends_on=ends_on, policy_version=pinned.version,
            )
            return cycle.id, [cycle]

        return self._handle("open_cycle", actor, command_id, args, decide, decode=UUID)

    def close_cycle(
        self, actor: Actor, *, cycle_id: UUID, on: date, command_id: str | None = None,
        checkpoint: str = "",
    ) -> str:
        """Certify the cycle: its score table's digest and the log position it was computed at.

        `checkpoint` is the signed Merkle checkpoint the caller made just before (replay.checkpoints,
        `kpi-ledger close-cycle --sign`); kept out of the fingerprint, so a retry that signed anew
        still finds the first close."""
        args = dict(cycle_id=cycle_id, on=on)

        def decide() -> tuple[str, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN, Role.MONITORING)
            if self._batch is not None:
                raise InvalidInput("command", "closing a cycle reads the log; run it outside a batch")
            cycle = self.get_cycle(cycle_id)
            position = self.recorder.max_notification_id() or 0
            table = self.score_cycle(cycle_id, up_to=position)
            cycle.close(table.digest(), position, on, checkpoint)
            return table.digest(), [cycle]

        return self._handle("close_cycle", actor, command_id, args, decide, decode=str)

    def reopen_cycle(
        self, actor: Actor, *, cycle_id: UUID, reason: str, on: date, command_id: str | None = None
    ) -> None:
        """Only an appeal decision reopens a certified cycle; the reason cites it."""
        args = dict(cycle_id=cycle_id, reason=reason, on=on)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN, Role.APPEALS)
            cycle = self.get_cycle(cycle_id)
            cycle.reopen(reason, on)
            return None, [cycle]

        return self._handle("reopen_cycle", actor, command_id, args, decide)

    # ------------------------------------------------------------------------ tasks

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

    # ------------------------------------------------------------------------ diary

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

    # ---------------------------------------------------------------------- reading

    def read_events(
        self, topics: Sequence[str] = (), up_to: int | None = None, page: int = PAGE
    ) -> Iterator[Any]:
        """The log in recording order, decoded, streamed a page at a time."""
        start = 1
        while True:
            notifications = self.recorder.select_notifications(
                start=start, limit=page, stop=up_to, topics=topics
            )
            for notification in notifications:
                yield self.decode(notification)
            if len(notifications) < page:
                return
            start = notifications[-1].id + 1

    def decode(self, notification: Notification) -> Any:
        """A stored event, typed again, carrying its log position (for lineage and proofs)."""
        event = self.mapper.to_domain_event(notification)
        object.__setattr__(event, "notification_id", notification.id)
        return event

    def score_cycle(
        self, cycle_id: UUID, policy_version: str | None = None, up_to: int | None = None
    ) -> ScoreTable:
        """A cycle's table folded straight from the log (projections come later, same fold)."""
        cycle = self.get_cycle(cycle_id)
        version = policy_version or cycle.policy_version
        params = self.policies().get(version).params
        topics = [get_topic(cls) for cls in FOLDED_EVENTS]
        return score(params, cycle_id, self.read_events(topics=topics, up_to=up_to), policy_version=version)

    def unit_id(self, code: str) -> UUID:
        """Units are addressed by code in the CLI; their ids derive from it."""
        return unit_id_for(code)

    # ----------------------------------------------------------------------- access

    def grant_access(
        self, actor: Actor, *, token_hash: str, official_id: UUID, roles: Sequence[AccessRole | str],
        unit_id: UUID | None = None, command_id: str | None = None,
    ) -> UUID:
        """Bind a token (by its SHA-256 only) to an official, roles and a unit scope. An
        administrator's act, recorded like any other so access is accountable."""
        plain = tuple(r.value if isinstance(r, AccessRole) else r for r in roles)
        args = dict(token_hash=token_hash, official_id=official_id, roles=plain, unit_id=unit_id)

        def decide() -> tuple[UUID, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            try:
                typed = tuple(AccessRole(r) for r in roles)
            except ValueError:
                known = ", ".join(r.value for r in AccessRole)
                raise InvalidInput("roles", f"unknown role in {list(roles)!r}; choose from {known}") from None
            Access.check_terms(token_hash, typed, unit_id)
            self.get_official(official_id)
            if unit_id is not None:
                self.get_unit(unit_id)
            access = self._new(
                Access, "token_hash", token_hash=token_hash, official_id=official_id, roles=typed,
                unit_id=unit_id, granted_by=actor.official_id,
            )
            return access.id, [access]

        return self._handle("grant_access", actor, command_id, args, decide, decode=UUID)

    def revoke_access(
        self, actor: Actor, *, access_id: UUID, reason: str, command_id: str | None = None
    ) -> None:
        args = dict(access_id=access_id, reason=reason)

        def decide() -> tuple[None, list[Aggregate]]:
            self.check_role(actor, Role.ADMIN)
            access = self.get_access(access_id)
            access.revoke(reason, actor.official_id)
            return None, [access]

        return self._handle("revoke_access", actor, command_id, args, decide)

    def get_access(self, access_id: UUID) -> Access:
        return self._get(Access, access_id, "access_id")
