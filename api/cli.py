"""`kpi-ledger`: the command-line entry point.

Only argument handling lives here: commands go through the `Ledger`, tables through
`api/render.py`. A refusal (`LedgerError`, a bad option) prints `error: <field>: <reason>` on
stderr and exits 2; nothing is recorded by a refused command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from api import render
from api.demo_commune import PHASES, record_demo_commune
from domain.cycles import CycleKind, cycle_id_for
from domain.errors import InvalidInput, LedgerError, NotFound
from domain.ledger import Ledger
from domain.org import official_id_for, unit_id_for
from domain.persistence import DEFAULT_SQLITE_PATH, ledger_env
from domain.scoring import OfficialScore, ScoreTable
from domain.tasks import MissedApproval

KIND_LABELS = {CycleKind.FIFTEEN_DAYS: "15 ngày", CycleKind.MONTH: "tháng",
               CycleKind.QUARTER: "quý", CycleKind.YEAR: "năm"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's own usage error (already printed)
        return exit_.code if isinstance(exit_.code, int) else 2
    console = _console()
    try:
        run: Callable[[argparse.Namespace, Console], int] = args.run
        return run(args, console)
    except LedgerError as e:
        print(f"error: {e.field}: {e.reason}", file=sys.stderr)
        return 2
    except PersistenceError as e:
        print(f"error: database: {describe_database(_env())}: {e}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi-ledger",
        description="Event-sourced KPI ledger for public officials. The database comes from "
        f"DATABASE_URL (postgresql://... or sqlite:///path); default: {DEFAULT_SQLITE_PATH}.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="record the demo commune; print its scores and one "
                          "explanation")
    demo.add_argument("--fresh", action="store_true",
                      help="delete the default SQLite file first (refused on PostgreSQL)")
    demo.set_defaults(run=cmd_demo)

    deadlines = sub.add_parser("deadlines", help="record approvals left past their deadline")
    deadlines.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
    deadlines.set_defaults(run=cmd_deadlines)

    scores = sub.add_parser("scores", help="a cycle's score table")
    scores.add_argument("cycle", nargs="?", metavar="CYCLE", help="cycle id")
    _cycle_options(scores)
    scores.add_argument("--json", action="store_true", help="machine-readable output")
    scores.set_defaults(run=cmd_scores)

    explain = sub.add_parser("explain", help="every line behind one official's score")
    explain.add_argument("ids", nargs="+", metavar="CYCLE OFFICIAL",
                         help="cycle id and official id or code (only the official with "
                         "--commune/--starts)")
    _cycle_options(explain)
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.set_defaults(run=cmd_explain)
    return parser


def _cycle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commune", metavar="CODE", help="find the cycle by commune code ...")
    parser.add_argument("--starts", metavar="YYYY-MM-DD", help="... and first day")
    parser.add_argument("--kind", default=CycleKind.FIFTEEN_DAYS.value,
                        choices=[k.value for k in CycleKind], help="default: %(default)s")
    parser.add_argument("--policy", metavar="VERSION",
                        help="score under this published policy version (default: the cycle's)")


# ------------------------------------------------------------------------------ commands


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    env = _env()
    if args.fresh:
        _delete_default_sqlite(os.environ, env)
    console.print(f"Cơ sở dữ liệu / database: {describe_database(env)}")
    ledger = Ledger(env=env)
    try:
        before = ledger.recorder.max_notification_id() or 0
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=console, transient=True,
        ) as progress:
            bar = progress.add_task("Xã Cam Lộ", total=len(PHASES))
            done = -1

            def step(label: str) -> None:
                nonlocal done
                done += 1
                progress.update(bar, description=label, completed=done)

            demo = record_demo_commune(ledger, step)
            progress.update(bar, completed=len(PHASES))
        added = (ledger.recorder.max_notification_id() or 0) - before
        console.print(
            f"Đã ghi {added} sự kiện mới / {added} new events recorded" if added else
            "Không có sự kiện mới: dữ liệu mẫu đã được ghi từ trước / nothing new: already recorded"
        )
        table = ledger.score_cycle(demo.cycle_id)
        _print_table(console, ledger, table)
        console.print()
        _print_explanation(console, ledger, table.row(demo.explained_official_id))
        console.print(
            f"\nKỳ đánh giá / cycle: {demo.cycle_id}\n"
            f"  kpi-ledger scores {demo.cycle_id} --json\n"
            f"  kpi-ledger explain {demo.cycle_id} CL-035\n"
            f"  kpi-ledger deadlines --as-of 2026-03-24",
            highlight=False, soft_wrap=True,
        )
    finally:
        ledger.close()
    return 0


def cmd_deadlines(args: argparse.Namespace, console: Console) -> int:
    as_of = parse_date("--as-of", args.as_of)
    ledger = Ledger(env=_env())
    try:
        recorded = ledger.record_missed_deadlines(as_of)
        rows = [_miss_row(ledger, miss_id) for miss_id in recorded]
        if rows:
            console.print(render.missed_deadlines(rows, as_of))
        console.print(f"Ghi nhận {len(rows)} lượt quá hạn phê duyệt mới đến {as_of.isoformat()} / "
                      f"{len(rows)} missed approval deadline(s) recorded", highlight=False)
    finally:
        ledger.close()
    return 0


def cmd_scores(args: argparse.Namespace, console: Console) -> int:
    ledger = Ledger(env=_env())
    try:
        cycle_id = find_cycle(ledger, args, args.cycle)
        table = ledger.score_cycle(cycle_id, policy_version=args.policy)
        if args.json:
            _print_json(render.table_json(table))
        else:
            _print_table(console, ledger, table)
    finally:
        ledger.close()
    return 0


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    by_commune = args.commune is not None
    expected = 1 if by_commune else 2
    if len(args.ids) != expected:
        wanted = "OFFICIAL" if by_commune else "CYCLE OFFICIAL"
        raise InvalidInput("arguments", f"expected {wanted}, got {' '.join(args.ids)!r}")
    ledger = Ledger(env=_env())
    try:
        cycle_id = find_cycle(ledger, args, None if by_commune else args.ids[0])
        official_id = find_official(ledger, args.ids[-1])
        table = ledger.score_cycle(cycle_id, policy_version=args.policy)
        row = next((r for r in table.rows if r.official_id == official_id), None)
        if row is None:
            raise NotFound("official", f"{args.ids[-1]} is not scored in cycle {cycle_id}")
        if args.json:
            _print_json(render.row_json(row))
        else:
            _print_explanation(console, ledger, row)
    finally:
        ledger.close()
    return 0


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


def _miss_row(ledger: Ledger, miss_id: UUID) -> render.MissRow:
    event = next(iter(ledger.events.get(miss_id)))
    assert isinstance(event, MissedApproval.ApprovalDeadlineMissed)
    return render.MissRow(
        task_title=ledger.get_task(event.task_id).title,
        approver_name=ledger.get_official(event.approver_id).full_name,
        submitted_on=event.submitted_on,
        deadline=event.deadline,
    )


def _actor_namer(ledger: Ledger) -> render.ActorName:
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


def _print_table(console: Console, ledger: Ledger, table: ScoreTable) -> None:
    cycle = ledger.get_cycle(table.cycle_id)
    commune = ledger.get_unit(cycle.unit_id)
    title = (f"{commune.name}: kỳ {KIND_LABELS[cycle.kind]} {table.starts_on:%d/%m/%Y}–"
             f"{table.ends_on:%d/%m/%Y}, chính sách {table.policy_version}")
    console.print(render.score_table(table, title, first_unit=commune.id))
    console.print(f"Mã kiểm (digest): {table.digest()}", style="dim", highlight=False)


def _print_explanation(console: Console, ledger: Ledger, row: OfficialScore) -> None:
    console.print(render.Explanation(row, _actor_namer(ledger)).render())


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _console() -> Console:
    """Rich guesses 80 columns when not writing to a terminal; tables need more."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=120)
    return console


def _env() -> dict[str, str]:
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


def _delete_default_sqlite(environ: Mapping[str, str], env: Mapping[str, str]) -> None:
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


if __name__ == "__main__":
    sys.exit(main())
