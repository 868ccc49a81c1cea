"""What every `kpi-ledger` subcommand shares: the database from the environment, lookups
by id or code, date parsing and console output. Subcommand modules (`api/cli_*.py`) import
from here, never from `api.cli`, so the entry point can import them all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from uuid import UUID

from rich.console import Console

from api import render
from domain.cycles import CycleKind, cycle_id_for
from domain.errors import InvalidInput, NotFound
from domain.ledger import Ledger
from domain.org import official_id_for, unit_id_for
from domain.persistence import ledger_env
from domain.scoring import OfficialScore, ScoreTable
from domain.tasks import MissedApproval

KIND_LABELS = {CycleKind.FIFTEEN_DAYS: "15 ngày", CycleKind.MONTH: "tháng",
               CycleKind.QUARTER: "quý", CycleKind.YEAR: "năm"}


def open_ledger() -> Ledger:
    return Ledger(env=env_from_os())


# ------------------------------------------------------------------------------ lookups


def parse_date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(option, f"{text!r} is not a date: expected YYYY-MM-DD") from None


def find_cycle(ledger: Ledger, args: argparse.Namespace, cycle: str | None) -> UUID:
    if args.commune is None:
        if cycle is None:
            raise InvalidInput("cycle", "give a cycle id, or --commune CODE --starts YYYY-MM-DD")
        if args.starts is not None:
            raise InvalidInput("--starts", "goes with --commune, not with a cycle id")
        try:
            cycle_id = UUID(cycle)
        except ValueError:
            raise InvalidInput("cycle", f"{cycle!r} is not a cycle id (a UUID); or use "
                               "--commune CODE --starts YYYY-MM-DD") from None
        ledger.get_cycle(cycle_id)
        return cycle_id
    if cycle is not None:
        raise InvalidInput("cycle", "give either a cycle id or --commune, not both")
    if args.starts is None:
        raise InvalidInput("--starts", "--commune needs the cycle's first day, YYYY-MM-DD")
    starts = parse_date("--starts", args.starts)
    commune = ledger.get_unit(unit_id_for(args.commune), "--commune")
    kind = CycleKind(args.kind)
    cycle_id = cycle_id_for(commune.id, kind, starts)
    try:
        ledger.get_cycle(cycle_id)
    except NotFound:
        raise NotFound("--starts", f"{commune.name} has no {kind.value} cycle starting "
                       f"{starts.isoformat()}") from None
    return cycle_id


def find_official(ledger: Ledger, text: str) -> UUID:
    """An official id, or the official's code (ids derive from codes)."""
    try:
        official_id = UUID(text)
    except ValueError:
        official_id = official_id_for(text)
    try:
        ledger.get_official(official_id, "official")
    except NotFound:
        raise NotFound("official", f"no official with id or code {text!r}") from None
    return official_id


def miss_row(ledger: Ledger, miss_id: UUID) -> render.MissRow:
    event = next(iter(ledger.events.get(miss_id)))
    assert isinstance(event, MissedApproval.ApprovalDeadlineMissed)
    return render.MissRow(
        task_title=ledger.get_task(event.task_id).title,
        approver_name=ledger.get_official(event.approver_id).full_name,
        submitted_on=event.submitted_on,
        deadline=event.deadline,
    )


def actor_namer(ledger: Ledger) -> render.ActorName:
    names: dict[UUID, str] = {}

    def name(actor_id: UUID | None, role: str | None) -> str:
        label = render.ROLE_LABELS.get(role or "", role or "")
        if actor_id is None or actor_id == render.SYSTEM_ACTOR:
            return label or "—"
        if actor_id not in names:
            try:
                names[actor_id] = ledger.get_official(actor_id).full_name
            except NotFound:
                names[actor_id] = ""
        if not names[actor_id]:
            return label or str(actor_id)
        return f"{names[actor_id]} ({label})" if role in render.ROLE_LABELS else names[actor_id]

    return name


# ------------------------------------------------------------------------------ output


def print_table(console: Console, ledger: Ledger, table: ScoreTable) -> None:
    cycle = ledger.get_cycle(table.cycle_id)
    commune = ledger.get_unit(cycle.unit_id)
    title = (f"{commune.name}: kỳ {KIND_LABELS[cycle.kind]} {table.starts_on:%d/%m/%Y}–"
             f"{table.ends_on:%d/%m/%Y}, chính sách {table.policy_version}")
    console.print(render.score_table(table, title, first_unit=commune.id))
    console.print(f"Mã kiểm (digest): {table.digest()}", style="dim", highlight=False)


def print_explanation(console: Console, ledger: Ledger, row: OfficialScore) -> None:
    console.print(render.Explanation(row, actor_namer(ledger)).render())


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def make_console() -> Console:
    """Rich guesses 80 columns when not writing to a terminal; tables need more."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=120)
    return console


def env_from_os() -> dict[str, str]:
    try:
        return ledger_env(os.environ)
    except ValueError as e:
        raise InvalidInput("DATABASE_URL", str(e).removeprefix("DATABASE_URL ")) from None


def describe_database(env: Mapping[str, str]) -> str:
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return (f"PostgreSQL {env['POSTGRES_USER']}@{env['POSTGRES_HOST'] or 'localhost'}:"
                f"{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}")
    name = env.get("SQLITE_DBNAME", "")
    path = Path(name)
    return f"SQLite {path.resolve() if name and ':memory:' not in name else name}"


def delete_default_sqlite(environ: Mapping[str, str], env: Mapping[str, str]) -> None:
    """`demo --fresh` removes only the embedded default file: never a database someone named."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.sqlite":
        raise InvalidInput("--fresh", "refused: the database is not the default SQLite file "
                           f"({describe_database(env)}); records are never deleted there")
    if environ.get("DATABASE_URL", "").strip() or environ.get("SQLITE_DBNAME"):
        raise InvalidInput("--fresh", "refused: the SQLite file was named explicitly "
                           f"({env['SQLITE_DBNAME']}); delete it yourself if you mean to")
    path = Path(env["SQLITE_DBNAME"])
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


