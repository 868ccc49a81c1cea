"""Access: who may use the API, in which roles, over which unit, and who said so.

A bearer token is bound to one official, a set of roles and a unit scope. Granting and revoking
are ledger events like any other, stamped with the administrator who did it, so "who gave whom
which role, and when" is as accountable as a score. Only the SHA-256 of a token is recorded: the
log can be handed to an inspector without handing over working credentials.

The aggregate's id derives from the token's hash, so checking a presented token is one read of
a two-event stream (never a scan of the log).
"""

from __future__ import annotations

import re
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, InvalidInput
from domain.roles import Role


class AccessRole(str, Enum):
    """Roles a token may carry (DESIGN "Interfaces"). A unit head is not a ledger role: the
    authority to assign and approve follows from appointments, so a unit head acts as an
    ordinary official whose appointments the Ledger checks."""

    OFFICIAL = "official"
    UNIT_HEAD = "unit_head"  # trưởng đơn vị: reads the unit, approves for it
    MONITORING = "monitoring"  # tổ công tác theo dõi KPI
    INSPECTOR = "inspector"  # thanh tra, Ban Tổ chức, Sở Nội vụ
    APPEALS = "appeals"  # hội đồng giải quyết khiếu nại
    ADMIN = "admin"  # tổ chức cán bộ / Phòng Nội vụ


LEDGER_ROLE: dict[AccessRole, Role] = {
    AccessRole.OFFICIAL: Role.OFFICIAL,
    AccessRole.UNIT_HEAD: Role.OFFICIAL,
    AccessRole.MONITORING: Role.MONITORING,
    AccessRole.INSPECTOR: Role.INSPECTOR,
    AccessRole.APPEALS: Role.APPEALS,
    AccessRole.ADMIN: Role.ADMIN,
}

# Roles whose reach is a unit (and the units below it); they cannot be granted without one.
NEEDS_UNIT = frozenset({AccessRole.UNIT_HEAD, AccessRole.MONITORING})

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def access_id_for(token_hash: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"kpi-ledger:access:{token_hash}")


class Access(Aggregate):
    class AccessGranted(Aggregate.Created):
        token_hash: str
        official_id: UUID
        roles: tuple[AccessRole, ...]
        unit_id: UUID | None
        granted_by: UUID

    class AccessRevoked(Aggregate.Event):
        reason: str
        revoked_by: UUID

    @staticmethod
    def create_id(token_hash: str, **_: object) -> UUID:
        return access_id_for(token_hash)

    @staticmethod
    def check_terms(token_hash: str, roles: tuple[AccessRole, ...], unit_id: UUID | None) -> None:
        if not _SHA256_HEX.fullmatch(token_hash):
            raise InvalidInput("token_hash", "must be the token's SHA-256 as 64 lowercase hex digits")
        if not roles:
            raise InvalidInput("roles", "a grant names at least one role")
        if len(set(roles)) != len(roles):
            raise InvalidInput("roles", "each role is named once")
        for role in roles:
            if not isinstance(role, AccessRole):
                raise InvalidInput("roles", f"unknown role {role!r}")
        unscoped = sorted(r.value for r in NEEDS_UNIT.intersection(roles))
        if unscoped and unit_id is None:
            raise InvalidInput("unit_id", f"the role {unscoped[0]} reaches a unit: name it")
        if unit_id is not None and set(roles) == {AccessRole.OFFICIAL}:
            raise InvalidInput("unit_id", "an official reads only their own records: a unit scope needs another role")

    @event(AccessGranted)
    def __init__(
        self, token_hash: str, official_id: UUID, roles: tuple[AccessRole, ...], unit_id: UUID | None,
        granted_by: UUID,
    ) -> None:
        self.official_id = official_id
        self.roles = roles
        self.unit_id = unit_id
        self.granted_by = granted_by
        self.is_revoked = False

    def revoke(self, reason: str, by: UUID) -> None:
        if self.is_revoked:
            raise Conflict("access_id", "the access is already revoked")
        if not reason.strip():
            raise InvalidInput("reason", "a revocation must say why")
        self._revoked(reason=reason, revoked_by=by)

    @event(AccessRevoked)
    def _revoked(self, reason: str, revoked_by: UUID) -> None:
        self.is_revoked = True
