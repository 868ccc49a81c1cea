"""`kpi-ledger serve` (the HTTP API under uvicorn) and `kpi-ledger token create|revoke|list`.

Tokens are granted through the Ledger like any other record: `token create` prints the token
once and records only its SHA-256, with who granted it. The command line has direct access to
the database, so whoever runs it is the installation's administrator; `--by CODE` names the
official recorded as granting (default: the operator, id 0, as for the deadline watcher).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from uuid import UUID

from rich.console import Console
from rich.table import Column, Table

from api.auth import hash_token, new_token
from api.cli_common import env_from_os, find_official, open_ledger, print_json
from api.demo_commune import record_demo_commune
from api.demo_roster import ADMIN, COMMUNE, ECONOMY, HEADS, MONITOR, PROVINCE, TRAINING_ABSENTEE
from domain.access import AccessRole
from domain.actors import Actor
from domain.errors import InvalidInput, LedgerError
from domain.ledger import Ledger
from domain.org import official_id_for, unit_id_for
from domain.roles import Role
from projections.access import AccessGrants, access_grants
from projections.runner import Runner
from projections.store import ViewStore
from replay.checkpoints import load_signer

OPERATOR = Actor(official_id=UUID(int=0), role=Role.ADMIN.value)
ROLES = [r.value for r in AccessRole]
OPTIONS = {"unit_id": "--unit", "roles": "--role", "official_id": "--official"}

# Who holds each demo token in Xã Cam Lộ (api/demo_roster.py), and the unit it reaches.
DEMO_HOLDERS: dict[AccessRole, tuple[str, str | None]] = {
    AccessRole.OFFICIAL: (TRAINING_ABSENTEE, None),
    AccessRole.UNIT_HEAD: (HEADS[ECONOMY.code], ECONOMY.code),
    AccessRole.MONITORING: (MONITOR, COMMUNE.code),
    AccessRole.INSPECTOR: (ADMIN.code, PROVINCE.code),
    AccessRole.APPEALS: (ADMIN.code, PROVINCE.code),
    AccessRole.ADMIN: (ADMIN.code, None),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the HTTP API (uvicorn); --demo records the demo commune first")
    p.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    p.add_argument("--port", type=int, default=8000, help="default: %(default)s")
    p.add_argument("--sign", metavar="KEYFILE", default=os.environ.get("KPI_LEDGER_SIGNING_KEY"),
                   help="Ed25519 key (kpi-ledger keygen): closing a cycle then stores a signed checkpoint "
                   "(default: $KPI_LEDGER_SIGNING_KEY)")
    p.add_argument("--demo", action="store_true",
                   help="record the demo commune (Xã Cam Lộ) and print a token for each role")
    p.set_defaults(run=cmd_serve)

    token = sub.add_parser("token", help="API tokens: create, revoke, list")
    tsub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    p = tsub.add_parser("create", help="grant a token; it is printed once, only its hash is kept")
    p.add_argument("--official", required=True, metavar="CODE", help="the official's code or id")
    p.add_argument("--role", required=True, action="append", choices=ROLES, help="repeat for several roles")
    p.add_argument("--unit", metavar="CODE", help="the unit the token reaches, with those below it "
                   "(needed for unit_head and monitoring; none: the whole ledger)")
    p.add_argument("--by", metavar="CODE", help="the administrator recorded as granting (default: operator)")
    p.set_defaults(run=cmd_token_create)
    p = tsub.add_parser("revoke", help="revoke a token by its id (from `token list`)")
    p.add_argument("token_id", metavar="TOKEN_ID")
    p.add_argument("--reason", default="thu hồi bằng dòng lệnh / revoked from the command line")
    p.add_argument("--by", metavar="CODE", help="the administrator recorded as revoking (default: operator)")
    p.set_defaults(run=cmd_token_revoke)
    p = tsub.add_parser("list", help="every grant, oldest first")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_token_list)


# ------------------------------------------------------------------------------ serve


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    import uvicorn

    from api.app import create_app

    if not 0 < args.port < 65536:
        raise InvalidInput("--port", f"{args.port} is not a TCP port")
    ledger = Ledger(env=env_from_os())
    try:
        url = f"http://{args.host}:{args.port}"
        if args.demo:
            console.print("Ghi dữ liệu mẫu Xã Cam Lộ / recording the demo commune ...")
            demo = record_demo_commune(ledger)
            console.print(f"Kỳ đánh giá / cycle: {demo.cycle_id}", highlight=False, soft_wrap=True)
            console.print("Mã truy cập mẫu / demo tokens (shown once):")
            for role, (code, unit, token) in demo_tokens(ledger).items():
                reach = f"unit {unit}" if unit else "own records" if role is AccessRole.OFFICIAL else "whole ledger"
                console.print(f"  {role.value:<11} {code:<11} {reach}\n    {token}", highlight=False, soft_wrap=True)
            console.print(f"  curl -H 'Authorization: Bearer <token>' {url}/api/v1/access/me",
                          highlight=False, soft_wrap=True)
        console.print(f"API: {url}/api/v1  docs: {url}/docs", highlight=False, soft_wrap=True)
        signer = load_signer(Path(args.sign)) if args.sign else None
        uvicorn.run(create_app(ledger, signer=signer), host=args.host, port=args.port, log_level="info")
    finally:
        ledger.close()
    return 0


def demo_tokens(ledger: Ledger) -> dict[AccessRole, tuple[str, str | None, str]]:
    """A fresh token per role for the demo commune: (holder's code, unit code, token)."""
    admin = Actor(official_id_for(ADMIN.code), Role.ADMIN.value)
    out = {}
    for role, (code, unit) in DEMO_HOLDERS.items():
        token = new_token()
        ledger.grant_access(admin, token_hash=hash_token(token), official_id=official_id_for(code),
                            roles=[role], unit_id=unit_id_for(unit) if unit else None)
        out[role] = (code, unit, token)
    return out


# ------------------------------------------------------------------------------ tokens


def cmd_token_create(args: argparse.Namespace, console: Console) -> int:
    ledger = open_ledger()
    try:
        official_id = find_official(ledger, args.official)
        unit_id = None if args.unit is None else _unit(ledger, args.unit)
        token = new_token()
        try:
            access_id = ledger.grant_access(
                _actor(ledger, args.by), token_hash=hash_token(token), official_id=official_id,
                roles=list(dict.fromkeys(args.role)), unit_id=unit_id,
            )
        except LedgerError as e:  # name the option the user typed, not the Ledger's argument
            raise type(e)(OPTIONS.get(e.field, e.field), e.reason) from None
    finally:
        ledger.close()
    console.print(f"token id: {access_id}", highlight=False)
    console.print(f"token:    {token}", highlight=False, soft_wrap=True)
    console.print("Lưu mã này ngay: sẽ không hiển thị lại / keep it now: it is not shown again", style="dim")
    return 0


def cmd_token_revoke(args: argparse.Namespace, console: Console) -> int:
    try:
        access_id = UUID(args.token_id)
    except ValueError:
        raise InvalidInput("TOKEN_ID", f"{args.token_id!r} is not a token id (see `kpi-ledger token list`)") from None
    ledger = open_ledger()
    try:
        ledger.revoke_access(_actor(ledger, args.by), access_id=access_id, reason=args.reason)
    finally:
        ledger.close()
    console.print(f"revoked: {access_id}", highlight=False)
    return 0


def cmd_token_list(args: argparse.Namespace, console: Console) -> int:
    ledger = open_ledger()
    try:
        store = ViewStore(ledger.recorder)
        Runner(ledger, [AccessGrants(store)]).catch_up()
        grants = access_grants(store)
        names = {g["official_id"]: _name(ledger, g["official_id"]) for g in grants}
        units = {g["unit_id"]: ledger.get_unit(UUID(g["unit_id"])).code for g in grants if g["unit_id"]}
    finally:
        ledger.close()
    if args.json:
        print_json(grants)
        return 0
    table = Table("official", "roles", "unit", "granted at", "revoked at")
    table.columns.insert(0, Column("token id", no_wrap=True, min_width=36))
    for g in grants:
        table.add_row(g["access_id"], names[g["official_id"]], ", ".join(g["roles"]), units.get(g["unit_id"], "—"),
                      g["granted_at"][:19], (g["revoked_at"] or "")[:19])
    console.print(table)
    return 0


def _actor(ledger: Ledger, by: str | None) -> Actor:
    return OPERATOR if by is None else Actor(find_official(ledger, by), Role.ADMIN.value)


def _unit(ledger: Ledger, text: str) -> UUID:
    """A unit id, or the unit's code (ids derive from codes)."""
    try:
        unit_id = UUID(text)
    except ValueError:
        unit_id = unit_id_for(text)
    ledger.get_unit(unit_id, "--unit")
    return unit_id


def _name(ledger: Ledger, official_id: str) -> str:
    official = ledger.get_official(UUID(official_id))
    return f"{official.full_name} ({official.code})"
