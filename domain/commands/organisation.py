"""Registering units and officials, leadership posts, scoring policies and cycles: the
frame every score is computed in. Only the organisation staff (admin role) and, for cycles,
the KPI monitoring team may change it.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Actor
from domain.cycles import Cycle, CycleKind
from domain.errors import Conflict, InvalidInput, NotFound
from domain.ledger_core import MAX_CYCLE_DAYS, PARENT_KIND, LedgerCore
from domain.org import Official, Post, Unit, UnitKind
from domain.policy import PolicyParams, ScoringPolicies
from domain.roles import Role


class OrganisationCommands(LedgerCore):
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
