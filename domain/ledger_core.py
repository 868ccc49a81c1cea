"""The Ledger's plumbing: "get, check, record, save", idempotency receipts, batches and the
authority checks every command shares (reading the log back is `domain.ledger_log`).

Every command follows "get, check, record, save": it loads the aggregates it needs, checks the
input and the actor's authority (raising a `LedgerError` that names the field), lets the
aggregate record its event, stamps the actor and command id on every new event, and saves
everything, with the command's receipt, in one transaction. A refused command records nothing.
The commands themselves live in `domain/commands/`, one module per area.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, Self, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.actors import Actor
from domain.cycles import Cycle, CycleKind
from domain.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from domain.ledger_log import LedgerLog
from domain.org import Official, Unit, UnitKind
from domain.persistence import protect_event_tables, stored_streams
from domain.policy import POLICY_REGISTRY_ID, PublishedPolicy, ScoringPolicies
from domain.receipts import CommandReceipt, receipt_id
from domain.roles import Role
from domain.scoring import FOLDED_EVENTS, ScoreTable, score
from domain.tasks import Task

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

PARENT_KIND: dict[UnitKind, UnitKind | None] = {
    UnitKind.PROVINCE: None,
    UnitKind.PROVINCE_BODY: UnitKind.PROVINCE,
    UnitKind.COMMUNE: UnitKind.PROVINCE,
    UnitKind.DEPARTMENT: UnitKind.COMMUNE,
}
MAX_CYCLE_DAYS = {CycleKind.FIFTEEN_DAYS: 16, CycleKind.MONTH: 31, CycleKind.QUARTER: 92, CycleKind.YEAR: 366}


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` (its `projector_func`) less its per-event
    `isinstance` against a runtime-checkable protocol, which costs ~33 µs on Python 3.11, more
    than decoding the event: every command loads a few aggregates, and every event here is one
    of the ledger's own, which all mutate."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


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

class LedgerCore(LedgerLog):
    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        protect_event_tables(self.recorder)
        # A batch belongs to the thread that opened it: the API shares one Ledger across threads.
        self._local = threading.local()
        # Facts that no event can change once recorded, so a process may keep them: a unit's
        # commune (parent and kind are fixed at registration) and a published policy version.
        self._commune_ids: dict[UUID, UUID] = {}
        self._published: dict[str, PublishedPolicy] = {}

    @property
    def _batch(self) -> dict[UUID, Aggregate] | None:
        batch: dict[UUID, Aggregate] | None = getattr(self._local, "batch", None)
        return batch

    @_batch.setter
    def _batch(self, value: dict[UUID, Aggregate] | None) -> None:
        self._local.batch = value

    @property
    def _loaded(self) -> dict[UUID, int]:
        """In a batch: how many pending events each aggregate had when a command loaded it."""
        loaded: dict[UUID, int] = self._local.__dict__.setdefault("loaded", {})
        return loaded

    @_loaded.setter
    def _loaded(self, value: dict[UUID, int]) -> None:
        self._local.loaded = value

    @contextmanager
    def batch(self) -> Iterator[Self]:
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

    @property
    def _prefetched(self) -> dict[UUID, Aggregate | None]:
        prefetched: dict[UUID, Aggregate | None] = self._local.__dict__.setdefault("prefetched", {})
        return prefetched

    def prefetch(self, *aggregate_ids: UUID) -> None:
        """Read the aggregates a command is about to load in one query, not one each: logging
        a diary entry, the commonest command by far, checks the official, the cycle and the day,
        and the library reads each in a query and a transaction of its own. The command's next
        loads take them from here; nothing outlives the command."""
        wanted = [i for i in dict.fromkeys(aggregate_ids) if self._batch is None or i not in self._batch]
        if len(wanted) < 2:
            return
        for aggregate_id, stored in stored_streams(self.recorder, wanted).items():
            events = map(self.mapper.to_domain_event, stored)
            self._prefetched[aggregate_id] = project(None, events) if stored else None

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """`repository.get`, through the batch's identity map when a batch is open."""
        if aggregate_id in self._prefetched:
            found = self._prefetched.pop(aggregate_id)
            if found is None:
                raise AggregateNotFoundError(aggregate_id)
            if self._batch is None:
                return found
            self._batch[aggregate_id] = found
        if self._batch is None:
            loaded: Aggregate = self.repository.get(aggregate_id, projector_func=project)
            return loaded
        found = self._batch.get(aggregate_id)
        if found is None:
            found = self._batch[aggregate_id] = self.repository.get(aggregate_id, projector_func=project)
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
        try:
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
        finally:
            self._prefetched.clear()  # what a refused command prefetched but never loaded
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

    def score_cycle(
        self, cycle_id: UUID, policy_version: str | None = None, up_to: int | None = None
    ) -> ScoreTable:
        """A cycle's table folded straight from the log (projections come later, same fold)."""
        cycle = self.get_cycle(cycle_id)
        version = policy_version or cycle.policy_version
        params = self.policies().get(version).params
        topics = [get_topic(cls) for cls in FOLDED_EVENTS]
        return score(params, cycle_id, self.read_events(topics=topics, up_to=up_to), policy_version=version)
