"""Bearer tokens to a caller (an official, roles, a unit scope), and who may reach what.

A token is random text shown once; the ledger keeps only its SHA-256, in an `AccessGranted`
event whose aggregate id derives from that hash, so checking a token is one read of a short
stream and a revocation takes effect on the next request.

The rules (issue 6; the Ledger still checks every command's own authority, 6 rõ):

- everyone reads their own scores, lineage, diary and approval queue;
- the roles unit_head, monitoring, inspector, appeals and admin read everything about the units
  their scope reaches: the scope unit and the units below it; a grant without a unit reaches
  the whole ledger (admin, inspector and appeals only);
- a unit head acts as approver within the unit (the Ledger checks the appointment); the
  monitoring team opens and closes cycles and reports targets; inspectors and appeals reviewers
  never write, except that reopening a certified cycle is the appeal decision's own act;
- administrators administer: organisation, policy, targets, access; what concerns the whole
  ledger (a policy, a province, the deadline watcher, the event feed) needs a grant without a
  unit;
- nobody reads or writes outside their scope.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from domain.access import LEDGER_ROLE, AccessRole, access_id_for
from domain.actors import Actor
from domain.errors import LedgerError, NotAuthorised, NotFound
from domain.ledger import Ledger
from projections.access import units_within
from projections.store import ViewStore

TOKEN_PREFIX = "kpi_"


class Unauthenticated(LedgerError):
    """No bearer token, or one the ledger has no live grant for. (Here, not beside the HTTP
    mapping in `api.errors`: the command line hashes tokens too, and must not import FastAPI.)"""


READERS = frozenset(AccessRole) - {AccessRole.OFFICIAL}


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    access_id: UUID
    official_id: UUID
    roles: tuple[AccessRole, ...]
    unit_id: UUID | None

    @property
    def reads_units(self) -> bool:
        return any(r in READERS for r in self.roles)

    def acting_as(self, *allowed: AccessRole) -> AccessRole:
        """The first of the command's roles (in the route's order) that the token holds."""
        for role in allowed:
            if role in self.roles:
                return role
        held = ", ".join(r.value for r in self.roles)
        wanted = " or ".join(r.value for r in allowed)
        raise NotAuthorised("roles", f"this needs the role {wanted}; your token holds {held}")

    def actor(self, role: AccessRole) -> Actor:
        return Actor(official_id=self.official_id, role=LEDGER_ROLE[role].value)


def authenticate(ledger: Ledger, token: str | None) -> Caller:
    if not token:
        raise Unauthenticated("Authorization", "send the header 'Authorization: Bearer <token>'")
    try:
        access = ledger.get_access(access_id_for(hash_token(token)))
    except NotFound:
        raise Unauthenticated("Authorization", "unknown token") from None
    if access.is_revoked:
        raise Unauthenticated("Authorization", "the token was revoked")
    return Caller(access.id, access.official_id, tuple(access.roles), access.unit_id)


class Scope:
    """The caller's reach, checked against the ledger itself (not a projection that may lag)."""

    def __init__(self, ledger: Ledger, caller: Caller) -> None:
        self.ledger = ledger
        self.caller = caller

    def reaches(self, unit_id: UUID) -> bool:
        """The unit is the scope unit or below it (raises NotFound for an unknown unit)."""
        chain = self.ledger.unit_chain(unit_id)
        if not self.caller.reads_units:
            return False
        return self.caller.unit_id is None or self.caller.unit_id in {u.id for u in chain}

    def check_unit(self, unit_id: UUID, field: str) -> None:
        if not self.reaches(unit_id):
            raise NotAuthorised(field, f"unit {unit_id} is outside your scope")

    def check_official(self, official_id: UUID, field: str, role: AccessRole | None = None) -> None:
        """Reading (role None) or acting in `role` on what concerns one official: oneself,
        or (any role but official) someone whose unit the scope reaches."""
        official = self.ledger.get_official(official_id, field)
        if official_id == self.caller.official_id:
            return
        if role is AccessRole.OFFICIAL or not self.reaches(official.unit_id):
            raise NotAuthorised(field, f"{official.full_name} is outside your scope")

    def check_whole_ledger(self, field: str) -> None:
        if self.caller.unit_id is not None:
            raise NotAuthorised(field, "this concerns the whole ledger: it needs a grant without a unit scope")

    def visible_units(self, unit_id: UUID, field: str, store: ViewStore) -> set[str] | None:
        """For a read about a unit that the scope may cover in part (a department head reading
        the commune's scoreboard): None when all of it is visible, else the visible unit ids."""
        if not self.caller.reads_units:
            raise NotAuthorised(field, "your token reads only your own records")
        if self.reaches(unit_id):
            return None
        assert self.caller.unit_id is not None
        if unit_id in {u.id for u in self.ledger.unit_chain(self.caller.unit_id)}:
            return units_within(store, str(self.caller.unit_id))
        raise NotAuthorised(field, f"unit {unit_id} is outside your scope")

    def units(self, store: ViewStore) -> set[str] | None:
        """Every unit the caller reads (None: all of them)."""
        if not self.caller.reads_units:
            return set()
        if self.caller.unit_id is None:
            return None
        return units_within(store, str(self.caller.unit_id))
