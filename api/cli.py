"""`kpi-ledger`: the command-line entry point.

Only argument handling lives here: commands go through the `Ledger`, tables through
`api/render.py`. A refusal (`LedgerError`, a bad option) prints `error: <field>: <reason>` on
stderr and exits 2; nothing is recorded by a refused command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from eventsourcing.persistence import PersistenceError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from api import cli_integrity, cli_projections, cli_replay, cli_serve, render
from api.cli_common import (
    delete_default_sqlite,
    describe_database,
    env_from_os,
    find_cycle,
    find_official,
    make_console,
    miss_row,
    parse_date,
    print_explanation,
    print_json,
    print_table,
)
from api.demo_commune import PHASES, record_demo_commune
from domain.cycles import CycleKind
from domain.errors import InvalidInput, LedgerError, NotFound
from domain.ledger import Ledger
from domain.persistence import DEFAULT_SQLITE_PATH

# Each area's subcommands live in its own module with a `register(subparsers)`.
PLUGINS = (cli_projections, cli_replay, cli_integrity, cli_serve)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's own usage error (already printed)
        return exit_.code if isinstance(exit_.code, int) else 2
    console = make_console()
    try:
        run: Callable[[argparse.Namespace, Console], int] = args.run
        return run(args, console)
    except LedgerError as e:
        print(f"error: {e.field}: {e.reason}", file=sys.stderr)
        return 2
    except PersistenceError as e:
        print(f"error: database: {describe_database(env_from_os())}: {e}", file=sys.stderr)
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
    for plugin in PLUGINS:
        plugin.register(sub)
    return parser


def _cycle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commune", metavar="CODE", help="find the cycle by commune code ...")
    parser.add_argument("--starts", metavar="YYYY-MM-DD", help="... and first day")
    parser.add_argument("--kind", default=CycleKind.FIFTEEN_DAYS.value,
                        choices=[k.value for k in CycleKind], help="default: %(default)s")
    parser.add_argument("--policy", metavar="VERSION",
                        help="score under this published policy version (default: the cycle's, read "
                        "from the projections; another version is a what-if folded from the log)")


# ------------------------------------------------------------------------------ commands


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    env = env_from_os()
    if args.fresh:
        delete_default_sqlite(os.environ, env)
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
        # A fresh user's database gets its read models (queue, diary, reports) straight away.
        cli_projections.catch_up(ledger, console)
        added = (ledger.recorder.max_notification_id() or 0) - before
        console.print(
            f"Đã ghi {added} sự kiện mới / {added} new events recorded" if added else
            "Không có sự kiện mới: dữ liệu mẫu đã được ghi từ trước / nothing new: already recorded"
        )
        table = ledger.score_cycle(demo.cycle_id)
        print_table(console, ledger, table)
        console.print()
        print_explanation(console, ledger, table.row(demo.explained_official_id))
        console.print(
            f"\nKỳ đánh giá / cycle: {demo.cycle_id}\n"
            f"  kpi-ledger scores {demo.cycle_id} --json\n"
            f"  kpi-ledger explain {demo.cycle_id} CL-035\n"
            f"  kpi-ledger deadlines --as-of 2026-03-24\n"
            f"  kpi-ledger report {demo.commune_code} --month 2026-03",
            highlight=False, soft_wrap=True,
        )
    finally:
        ledger.close()
    return 0


def cmd_deadlines(args: argparse.Namespace, console: Console) -> int:
    as_of = parse_date("--as-of", args.as_of)
    ledger = Ledger(env=env_from_os())
    try:
        recorded = ledger.record_missed_deadlines(as_of)
        rows = [miss_row(ledger, miss_id) for miss_id in recorded]
        if rows:
            console.print(render.missed_deadlines(rows, as_of))
        console.print(f"Ghi nhận {len(rows)} lượt quá hạn phê duyệt mới đến {as_of.isoformat()} / "
                      f"{len(rows)} missed approval deadline(s) recorded", highlight=False)
    finally:
        ledger.close()
    return 0


def cmd_scores(args: argparse.Namespace, console: Console) -> int:
    ledger = Ledger(env=env_from_os())
    try:
        cycle_id = find_cycle(ledger, args, args.cycle)
        table = cli_projections.projected_table(ledger, cycle_id, args.policy)
        if args.json:
            print_json(render.table_json(table))
        else:
            print_table(console, ledger, table)
    finally:
        ledger.close()
    return 0


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    by_commune = args.commune is not None
    expected = 1 if by_commune else 2
    if len(args.ids) != expected:
        wanted = "OFFICIAL" if by_commune else "CYCLE OFFICIAL"
        raise InvalidInput("arguments", f"expected {wanted}, got {' '.join(args.ids)!r}")
    ledger = Ledger(env=env_from_os())
    try:
        cycle_id = find_cycle(ledger, args, None if by_commune else args.ids[0])
        official_id = find_official(ledger, args.ids[-1])
        table = cli_projections.projected_table(ledger, cycle_id, args.policy)
        row = next((r for r in table.rows if r.official_id == official_id), None)
        if row is None:
            raise NotFound("official", f"{args.ids[-1]} is not scored in cycle {cycle_id}")
        if args.json:
            print_json(render.row_json(row))
        else:
            print_explanation(console, ledger, row)
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
