"""API access as ledger events: who granted whom which role, and when, is accountable like
everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.access import Access, AccessRole
from domain.actors import Actor
from domain.errors import InvalidInput
from domain.ledger_core import LedgerCore
from domain.roles import Role


class AccessCommands(LedgerCore):
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
