"""`kpi-ledger replay` and `kpi-ledger diff`: a cycle as known at any moment, what-ifs, diffs.

Both only read: a replay folds the log in memory (`replay.timetravel`), so an appeals reviewer
can try corrections and policies freely; nothing they try is recorded.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api import render
from api.cli_common import find_cycle, find_official, open_ledger, print_explanation, print_json, print_table
from domain.cycles import CycleKind
from domain.errors import InvalidInput, NotFound
from domain.ledger import Ledger
from replay.diff import COMPONENTS, Change, Diff, Figures, diff
from replay.timetravel import KnownAt, Replay, replay
from replay.whatif import describe, load_entries

KNOWN_AT_HELP = (
    "a log position (e.g. 120), a recording time in ISO 8601 (2026-03-20T10:00, UTC unless it "
    "names an offset), a date (2026-03-20: as known at the end of that day, UTC), or 'now' "
    "(default)"
)
SPEC_HELP = """\
A replay spec is a comma-separated list of KEY=VALUE (or repeat --a / --b):
  known-at=POSITION|TIMESTAMP|DATE|now   as known at that log position or recording time
  policy=VERSION                         read out under another published policy version
  with=FILE                              add the proposed events in FILE (as replay --with)
  without=EVENT_ID                       leave out a recorded event (repeatable)
Each side defaults to the cycle as known now under its own policy. Examples:
  kpi-ledger diff CYCLE --a known-at=120                 what changed since position 120
  kpi-ledger diff CYCLE --a known-at=2026-03-20          ... since the end of 20 March (UTC)
  kpi-ledger diff CYCLE --a policy=v1 --b policy=v2      what policy v2 would change
  kpi-ledger diff CYCLE --b with=corr.json               what the proposed corrections change
Nothing is recorded: both replays are computed in memory from the log.
"""
WITH_HELP = """\
--with FILE holds a JSON list of proposed events, each naming its type, the aggregate it
belongs to and the event's fields, e.g.
  [{"type": "SanctionRevoked", "aggregate": "<sanction id>", "reason": "appeal upheld",
    "occurred_on": "2026-03-11"},
   {"type": "TaskApproved", "aggregate": "<task id>", "major_errors": 0, "occurred_on": "2026-03-12"}]
Types: SanctionImposed, SanctionRevoked, TaskSubmitted, TaskApproved, TaskReturned,
TaskReassigned, ObjectiveCauseConfirmed, ConductAssessed (may name "official_id" instead of
the aggregate), TargetResultReported. EVENT_ID is ORIGINATOR_ID:VERSION as `explain` prints it.
Nothing is recorded: the replay is computed in memory from the log.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay_ = sub.add_parser(
        "replay", help="a cycle's scores as known at a position or time; what-ifs",
        description="The cycle's score table as the ledger knew it at a log position or recording time,\n"
        "computed from the log (never from stored scores; an index of the log names the events the\n"
        "cycle needs, --full-scan reads them all), optionally under another policy or with proposed\n"
        "corrections. Writes nothing.",
        epilog=WITH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay_.add_argument("cycle", nargs="?", metavar="CYCLE", help="cycle id")
    _cycle_options(replay_)
    replay_.add_argument("--known-at", metavar="POSITION|TIMESTAMP", help=KNOWN_AT_HELP)
    replay_.add_argument("--policy", metavar="VERSION", help="score under this published policy version")
    replay_.add_argument("--with", dest="with_file", metavar="FILE", help="proposed events (JSON); see below")
    replay_.add_argument("--without", action="append", default=[], metavar="EVENT_ID",
                         help="leave this recorded event out (repeatable)")
    replay_.add_argument("--official", metavar="ID|CODE", help="explain this official's lines")
    _full_scan_option(replay_)
    replay_.add_argument("--json", action="store_true", help="machine-readable output")
    replay_.set_defaults(run=cmd_replay)

    diff_ = sub.add_parser(
        "diff", help="compare two replays of a cycle: who changed, and the events why",
        description="Per official whose score differs between replay A and replay B: before and after,\n"
        "and exactly the lines (events) that explain the difference.",
        epilog=SPEC_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff_.add_argument("cycle", nargs="?", metavar="CYCLE", help="cycle id")
    _cycle_options(diff_)
    diff_.add_argument("--a", action="append", default=[], metavar="SPEC", help="the first replay (before)")
    diff_.add_argument("--b", action="append", default=[], metavar="SPEC", help="the second replay (after)")
    diff_.add_argument("--official", metavar="ID|CODE", help="only this official")
    _full_scan_option(diff_)
    diff_.add_argument("--json", action="store_true", help="machine-readable output")
    diff_.set_defaults(run=cmd_diff)


def _cycle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commune", metavar="CODE", help="find the cycle by commune code ...")
    parser.add_argument("--starts", metavar="YYYY-MM-DD", help="... and first day")
    parser.add_argument("--kind", default=CycleKind.FIFTEEN_DAYS.value,
                        choices=[k.value for k in CycleKind], help="default: %(default)s")


def _full_scan_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--full-scan", action="store_true",
                        help="read every scoring event of the log up to the position, not only those the "
                        "log-scope index lists for the cycle (slower; the same result)")


# ------------------------------------------------------------------------------ specs


@dataclass
class Spec:
    known_at: KnownAt = None
    policy: str | None = None
    with_file: str | None = None
    without: list[str] = field(default_factory=list)

    def run(self, ledger: Ledger, cycle_id: UUID, full_scan: bool = False) -> Replay:
        entries = load_entries(self.with_file) if self.with_file else []
        return replay(ledger, cycle_id, self.known_at, self.policy, entries, self.without, full_scan=full_scan)


def parse_known_at(option: str, text: str) -> KnownAt:
    value = text.strip()
    if value.lower() == "now":
        return None
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(option, f"{text!r}: expected a log position, an ISO date or time, or now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_spec(option: str, values: list[str]) -> Spec:
    spec = Spec()
    given: set[str] = set()
    for item in (part.strip() for value in values for part in value.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("_", "-")
        value = value.strip()
        if not sep or not value:
            raise InvalidInput(option, f"{item!r}: expected KEY=VALUE (known-at, policy, with, without)")
        if key in given and key != "without":
            raise InvalidInput(option, f"{key} is given twice")
        given.add(key)
        if key == "known-at":
            spec.known_at = parse_known_at(f"{option} known-at", value)
        elif key == "policy":
            spec.policy = value
        elif key == "with":
            spec.with_file = value
        elif key == "without":
            spec.without.append(value)
        else:
            raise InvalidInput(option, f"unknown key {key!r}: use known-at, policy, with or without")
    return spec


# ------------------------------------------------------------------------------ commands


def cmd_replay(args: argparse.Namespace, console: Console) -> int:
    spec = Spec(
        known_at=parse_known_at("--known-at", args.known_at) if args.known_at else None,
        policy=args.policy, with_file=args.with_file, without=list(args.without),
    )
    ledger = open_ledger()
    try:
        cycle_id = find_cycle(ledger, args, args.cycle)
        result = spec.run(ledger, cycle_id, args.full_scan)
        row = None
        if args.official:
            row = result.row(find_official(ledger, args.official))
            if row is None:
                raise NotFound("--official", f"{args.official} is not scored in this replay of the cycle")
        if args.json:
            data = replay_json(result)
            if row is not None:
                data["row"] = render.row_json(row)
            else:
                data["table"] = render.table_json(result.table)
            print_json(data)
            return 0
        console.print(header(result), highlight=False)
        if row is not None:
            print_explanation(console, ledger, row)
        else:
            print_table(console, ledger, result.table)
    finally:
        ledger.close()
    return 0


def cmd_diff(args: argparse.Namespace, console: Console) -> int:
    a_spec, b_spec = parse_spec("--a", args.a), parse_spec("--b", args.b)
    ledger = open_ledger()
    try:
        cycle_id = find_cycle(ledger, args, args.cycle)
        result = diff(a_spec.run(ledger, cycle_id, args.full_scan), b_spec.run(ledger, cycle_id, args.full_scan))
        changes = result.changes
        if args.official:
            official_id = find_official(ledger, args.official)
            changes = tuple(c for c in changes if c.official_id == official_id)
        if args.json:
            print_json({"a": replay_json(result.a), "b": replay_json(result.b),
                        "changes": [change_json(c) for c in changes]})
            return 0
        print_diff(console, result, changes)
    finally:
        ledger.close()
    return 0


# ------------------------------------------------------------------------------ output


def header(r: Replay) -> str:
    """Which moment, which policy, which proposals: what a reader must know to trust the table."""
    lines = [
        f"Như sổ ghi nhận đến vị trí / as known at log position {r.position} "
        f"(ghi lúc / recorded {render.utc(r.recorded_at)})"
    ]
    if r.known_at is not None:
        lines.append(f"  theo thời điểm / for the recording time {render.utc(r.known_at)}")
    if r.policy_version == r.pinned_version:
        lines.append(f"Chính sách / policy {r.policy_version} (của kỳ / the cycle's own)")
    else:
        lines.append(f"Chính sách / policy {r.policy_version} (giả định, kỳ áp dụng {r.pinned_version} / "
                     f"what-if, the cycle pins {r.pinned_version})")
    lines += [f"Giả định thêm / proposed: {describe(e)}" for e in r.added]
    lines += [f"Giả định bỏ / left out: {event_id}" for event_id in r.removed]
    if r.is_what_if:
        lines.append("Giả định chỉ tính trong bộ nhớ, không ghi vào sổ / what-if: computed in memory, "
                     "nothing recorded")
    return "\n".join(lines)


def replay_json(r: Replay) -> dict[str, Any]:
    return {
        "cycle_id": str(r.cycle_id),
        "position": r.position,
        "recorded_at": render.utc(r.recorded_at) if r.recorded_at else None,
        "known_at": render.utc(r.known_at) if r.known_at else None,
        "policy_version": r.policy_version,
        "pinned_policy_version": r.pinned_version,
        "what_if": r.is_what_if,
        "added": [
            {"event_id": f"{e.originator_id}:{e.originator_version}", "type": type(e).__name__,
             "occurred_on": _day(e)}
            for e in r.added
        ],
        "removed": list(r.removed),
    }


def figures_json(f: Figures | None) -> dict[str, str] | None:
    if f is None:
        return None
    return {**{name: str(getattr(f, name)) for name in (*COMPONENTS, "total")}, "rating": f.rating.value}


def change_json(c: Change) -> dict[str, Any]:
    return {
        "official_id": str(c.official_id),
        "code": c.code,
        "full_name": c.full_name,
        "before": figures_json(c.before),
        "after": figures_json(c.after),
        "delta": str(c.delta),
        "event_ids": list(c.event_ids),
        "removed": [render.contribution_json(x) for x in c.removed],
        "added": [render.contribution_json(x) for x in c.added],
    }


def print_diff(console: Console, result: Diff, changes: tuple[Change, ...]) -> None:
    console.print("A: " + header(result.a).replace("\n", "\n   "), highlight=False)
    console.print("B: " + header(result.b).replace("\n", "\n   "), highlight=False)
    console.print()
    if not changes:
        console.print("Không có khác biệt / no official's score differs", highlight=False)
        return
    for change in changes:
        console.print(change_title(change), highlight=False)
        moved = [
            f"{render.COMPONENT_LABELS[name]} {_amount(change.before, name)} → {_amount(change.after, name)}"
            for name in COMPONENTS
            if _amount(change.before, name) != _amount(change.after, name)
        ]
        if moved:
            console.print("  " + "; ".join(moved), highlight=False)
        console.print(lines_table(change))
    console.print(f"{len(changes)} cán bộ có điểm khác / official(s) whose score differs", highlight=False)


def change_title(c: Change) -> Text:
    before = render.points(c.before.total) if c.before else "—"
    after = render.points(c.after.total) if c.after else "—"
    text = Text()
    text.append(f"{c.full_name} ({c.code})", style="bold")
    text.append(f": {before} → {after} ({render.signed(c.delta)})")
    ratings = [f.rating.label_vi if f else "không được đánh giá" for f in (c.before, c.after)]
    if ratings[0] != ratings[1]:
        text.append(f"; {ratings[0]} → {ratings[1]}")
    return text


def lines_table(c: Change) -> Table:
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True,
                caption="− dòng chỉ có ở A, + dòng chỉ có ở B / − lines only in A, + lines only in B",
                caption_justify="left")
    out.add_column("", no_wrap=True)
    out.add_column("Thành phần")
    out.add_column("Điểm", justify="right")
    out.add_column("Sự kiện", max_width=48)
    out.add_column("Ghi chú", ratio=1)
    for sign, lines in (("−", c.removed), ("+", c.added)):
        for line in lines:
            source = line.event_type + (f"\n{line.event_id}" if line.event_id else "\n(suy ra / derived)")
            out.add_row(sign, render.COMPONENT_LABELS.get(line.component, line.component),
                        render.signed(line.delta), source, line.note)
    return out


def _day(event: object) -> str | None:
    day = getattr(event, "occurred_on", None)
    return day.isoformat() if isinstance(day, date) else None


def _amount(f: Figures | None, name: str) -> str:
    return render.points(getattr(f, name)) if f else "—"
