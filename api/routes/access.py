"""Access: who am I, and (administrators) granting, revoking and listing tokens.

A token is shown once, when granted; the ledger keeps only its SHA-256. A client that wants to
retry a grant safely makes its own token and sends only the hash (`token_sha256`) with an
Idempotency-Key; a server-made token cannot be shown a second time, so such a retry is refused.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.auth import Caller, Scope, hash_token, new_token
from api.routes.common import (
    After,
    CallerDep,
    IdempotencyKey,
    LedgerDep,
    Limit,
    ViewsDep,
    command_id,
    page,
    result,
    scope,
)
from api.schemas import AccessOut, GrantAccess, Granted, Me, Page, Recorded, RevokeAccess
from domain.access import AccessRole
from domain.errors import InvalidInput, NotAuthorised
from domain.ledger import Ledger
from projections.access import access_grants

router = APIRouter(tags=["access"])
ADMIN = AccessRole.ADMIN


@router.get("/access/me", summary="Whom your token speaks for: official, roles, scope")
def me(ledger: LedgerDep, caller: CallerDep) -> Me:
    official = ledger.get_official(caller.official_id)
    unit_name = ledger.get_unit(caller.unit_id).name if caller.unit_id else None
    return Me(access_id=caller.access_id, official_id=caller.official_id, full_name=official.full_name,
              roles=list(caller.roles), unit_id=caller.unit_id, unit_name=unit_name)


@router.post("/access", summary="Grant a token to an official (admin, within scope)")
def grant_access(body: GrantAccess, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None) -> Granted:
    role = caller.acting_as(ADMIN)
    check_grant_reach(scope(ledger, caller), body.official_id, body.unit_id, tuple(body.roles))
    token = None
    if body.token_sha256 is None:
        if key is not None:
            raise InvalidInput("token_sha256", "a retriable grant sends the hash of a token you made: "
                               "a token the server makes is shown only once")
        token = new_token()
    access_id = ledger.grant_access(
        caller.actor(role), token_hash=body.token_sha256 or hash_token(token or ""), official_id=body.official_id,
        roles=body.roles, unit_id=body.unit_id, command_id=command_id(caller, key),
    )
    return Granted(command="grant_access", result=str(access_id), token=token)


@router.post("/access/{access_id}/revoke", summary="Revoke a token (admin, within scope)")
def revoke_access(
    access_id: UUID, body: RevokeAccess, ledger: LedgerDep, caller: CallerDep, key: IdempotencyKey = None
) -> Recorded:
    role = caller.acting_as(ADMIN)
    access = ledger.get_access(access_id)
    check_grant_reach(scope(ledger, caller), access.official_id, access.unit_id, access.roles, "access_id")
    ledger.revoke_access(caller.actor(role), access_id=access_id, reason=body.reason,
                         command_id=command_id(caller, key))
    return Recorded(command="revoke_access", result=result(None))


@router.get("/access", summary="Grants within your scope, oldest first (admin)")
def list_access(
    ledger: LedgerDep, caller: CallerDep, views: ViewsDep, limit: Limit = 100, after: After = None,
) -> Page[AccessOut]:
    caller.acting_as(ADMIN)
    s = scope(ledger, caller)
    grants = [g for g in access_grants(views) if _visible(s, ledger, caller, g)]
    items, next_ = page(grants, lambda g: g["access_id"], limit, after)
    return Page[AccessOut](items=[AccessOut(**g) for g in items], next=next_)


def check_grant_reach(
    s: Scope, official_id: UUID, unit_id: UUID | None, roles: tuple[AccessRole, ...], field: str = "unit_id"
) -> None:
    """An administrator hands out only what they reach: the grantee and the grant's scope."""
    s.check_official(official_id, "official_id" if field == "unit_id" else field, ADMIN)
    if unit_id is not None:
        s.check_unit(unit_id, field)
    elif set(roles) != {AccessRole.OFFICIAL}:
        try:
            s.check_whole_ledger(field)
        except NotAuthorised:
            raise NotAuthorised(field, "a grant without a unit reaches the whole ledger: only an "
                                "administrator whose own grant has no unit may give one") from None


def _visible(s: Scope, ledger: Ledger, caller: Caller, grant: dict[str, object]) -> bool:
    if caller.unit_id is None:
        return True
    try:
        roles = tuple(AccessRole(r) for r in grant["roles"])  # type: ignore[attr-defined]
        unit = UUID(str(grant["unit_id"])) if grant["unit_id"] else None
        check_grant_reach(s, UUID(str(grant["official_id"])), unit, roles)
    except NotAuthorised:
        return False
    return True
