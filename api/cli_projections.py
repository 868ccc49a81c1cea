"""`kpi-ledger` subcommands for read models: rebuild, catch-up, project, and the queries.

The query commands (`queue`, `diary`, `accountability`, `report`, `lineage`, and `scores` /
`explain` in `api/cli.py`) first catch the projections up with the log, then answer from their
tables alone: nothing is replayed to answer a question.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from api import render
from api.cli_common import actor_namer, find_official, open_ledger, parse_date, print_json
from domain.errors import Conflict, InvalidInput, NotFound
from domain.ledger import Ledger
from domain.org import POST_LABELS_VI, Post, unit_id_for
from domain.score_lines import Rating
from domain.scoring import ScoreTable
from projections import queries
from projections.rebuild import MODELS, PARALLEL_FROM, RebuildMismatch, auto_workers, live_runner, rebuild
from projections.runner import DEFAULT_PAGE, ProjectionMoved, Runner
from replay.log_tree import log_tree

CATCH_UP_ATTEMPTS = 5
STATUS_LABELS = {"assigned": "Chưa nộp", "submitted": "Chờ duyệt", "approved": "Đã duyệt",
                 "returned": "Trả lại"}
FLAG_TEXT = {
    "padding": "Khai đều 8 giờ, nội dung giống hệt nhau, {days} ngày liên tiếp ({from} → {to})",
    "no_product": "Có {hours} giờ làm việc nhưng không có sản phẩm ({day})",
    "backfill": "Ghi muộn: nhật ký ngày {day} ghi vào ngày {recorded_on}",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands."""
    p = sub.add_parser("rebuild", help="rebuild read models from the log into shadow tables, "
                       "check them against a fold of the log, then swap them in")
    p.add_argument("--projection", action="extend", nargs="+", choices=list(MODELS), metavar="NAME",
                   help=f"only these ({', '.join(MODELS)}); default: all")
    p.add_argument("--restart", action="store_true",
                   help="discard a killed rebuild's shadow tables instead of resuming from them")
    p.add_argument("--workers", type=_positive, default=None,
                   help="processes filling read models side by side, this one included (default: one per "
                        f"core, up to 4, for logs of {PARALLEL_FROM:,} events or more; else 1)")
    _page_option(p, 10_000)
    p.set_defaults(run=cmd_rebuild)

    p = sub.add_parser("catch-up", help="apply the events recorded since the read models' positions")
    _page_option(p, DEFAULT_PAGE)
    p.set_defaults(run=cmd_catch_up)

    p = sub.add_parser("project", help="keep the read models following the log (Ctrl-C stops)")
    p.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                   help="wait between polls when nothing is new (default: %(default)s)")
    p.add_argument("--once", action="store_true", help="catch up once and exit")
    _page_option(p, DEFAULT_PAGE)
    p.set_defaults(run=cmd_project)

    p = sub.add_parser("queue", help="submissions awaiting approval, overdue first")
    p.add_argument("--approver", metavar="OFFICIAL", help="approver id or code (default: everyone)")
    p.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_queue)

    p = sub.add_parser("diary", help="an official's diary: hours per day or week, and flags")
    p.add_argument("official", metavar="OFFICIAL", help="official id or code")
    p.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--weeks", action="store_true", help="hours per ISO week instead of per day")
    p.add_argument("--run-days", type=int, default=3, metavar="N",
                   help="flag runs of N or more identical exact-8-hour days (default: %(default)s)")
    p.add_argument("--backfill-days", type=int, default=3, metavar="N",
                   help="flag entries recorded more than N days after their day (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_diary)

    p = sub.add_parser("accountability", help="a unit's leaders by tenure: targets, results, "
                       "unit part, missed approvals, sanctions")
    p.add_argument("unit_code", metavar="UNIT_CODE")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_accountability)

    p = sub.add_parser("report", help="the monthly report a commune sends to the province")
    p.add_argument("commune_code", metavar="COMMUNE_CODE")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("lineage", help="every contribution behind a score; with --since/--until, "
                       "what changed in that window")
    p.add_argument("cycle", metavar="CYCLE", help="cycle id")
    p.add_argument("official", metavar="OFFICIAL", help="official id or code")
    p.add_argument("--since", metavar="TIMESTAMP", help="recorded after (ISO 8601; UTC if no offset)")
    p.add_argument("--until", metavar="TIMESTAMP", help="recorded at or before")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_lineage)


def _page_option(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--page", type=_positive, default=default, metavar="N",
                        help="events per transaction (default: %(default)s)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of events, 1 or more")
    return value


# ------------------------------------------------------------------------ catching up


@contextmanager
def position_bar(console: Console, label: str, start: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over log positions, fed by the runner's (position, head) callback; none
    when the output is not a terminal (a pipe, a log file, `--json`)."""
    if not console.is_terminal:
        yield lambda position, head: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task(label, total=None, completed=start)

        def advance(position: int, head: int) -> None:
            progress.update(bar, total=head, completed=position)

        yield advance


def ledger_runner(ledger: Ledger, page: int = DEFAULT_PAGE) -> Runner:
    """Every live read model, the index replays read the log by, and the Merkle tree over the
    log, which follows it like one."""
    runner = live_runner(ledger, page=page)
    runner.models.append(log_tree(ledger))
    return runner


def catch_up(ledger: Ledger, console: Console | None = None, page: int = DEFAULT_PAGE) -> Runner:
    """Bring every live read model up to the log's head (progress on stderr by default, so
    `--json` output stays clean)."""
    return catch_up_runner(ledger_runner(ledger, page), console or Console(stderr=True))


def catch_up_runner(runner: Runner, console: Console) -> Runner:
    """Another process applying pages at the same time (`project`, another command) moves the
    positions under us: start again from where it left them."""
    for _ in range(CATCH_UP_ATTEMPTS):
        try:
            if not runner.positions:
                runner.prepare()
            with position_bar(console, "Cập nhật read model", min(runner.positions.values())) as bar:
                runner.catch_up(progress=bar)
            return runner
        except ProjectionMoved:
            continue
    raise Conflict("projections", f"other processes kept moving the read models; {CATCH_UP_ATTEMPTS} "
                   "attempts to catch up failed, try again")


def projected_table(ledger: Ledger, cycle_id: UUID, policy: str | None) -> ScoreTable:
    """A cycle's scores from the scoreboard, or, under a policy other than the cycle's own,
    a what-if folded from the log (the projections hold only the pinned policy's scores)."""
    pinned = ledger.get_cycle(cycle_id).policy_version
    if policy is not None and policy != pinned:
        table = ledger.score_cycle(cycle_id, policy_version=policy)
        print(f"Chính sách {policy} khác chính sách của kỳ ({pinned}): tính lại từ nhật ký sự kiện, "
              f"không đọc từ read model / what-if under policy {policy}: folded from the log, "
              "not read from the projections", file=sys.stderr)
        return table
    return queries.score_table(catch_up(ledger).store, cycle_id)


def counts_table(rows: Iterable[tuple[str, int, int]]) -> Table:
    """(read model, position, rows): what a rebuild or a catch-up leaves behind."""
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    out.add_column("Read model")
    out.add_column("Vị trí / position", justify="right")
    out.add_column("Số dòng / rows", justify="right")
    for name, position, count in rows:
        out.add_row(name, str(position), str(count))
    return out


def positions_table(runner: Runner) -> Table:
    return counts_table((m.name, runner.positions.get(m.tracking_name, m.position()), m.count())
                        for m in runner.models)


# ------------------------------------------------------------------------ maintenance


def cmd_rebuild(args: argparse.Namespace, console: Console) -> int:
    ledger = open_ledger()
    try:
        head = ledger.recorder.max_notification_id() or 0
        try:
            with position_bar(console, "Dựng lại read model (bảng phụ)", 0) as bar:
                done = rebuild(ledger, args.projection, page=args.page, progress=bar,
                               restart=args.restart, workers=args.workers or auto_workers(ledger))
        except RebuildMismatch as e:
            print(f"error: rebuild: {e}", file=sys.stderr)
            return 1
        console.print(f"Đã dựng lại từ nhật ký ({head} sự kiện) / rebuilt from the log ({head} events)")
        console.print(counts_table((r.name, r.position, r.rows) for r in done))
        if any(r.name == "scores" for r in done):
            console.print("Điểm số khớp với phép tính lại từ nhật ký / scores match a fold of the log")
    finally:
        ledger.close()
    return 0


def cmd_catch_up(args: argparse.Namespace, console: Console) -> int:
    ledger = open_ledger()
    try:
        runner = ledger_runner(ledger, args.page)
        runner.prepare()
        before = dict(runner.positions)
        runner = catch_up_runner(runner, console)
        applied = max((runner.positions[n] - before[n] for n in before), default=0)
        console.print(f"Đã áp dụng {applied} sự kiện / {applied} events applied")
        console.print(positions_table(runner))
    finally:
        ledger.close()
    return 0


def cmd_project(args: argparse.Namespace, console: Console) -> int:
    if args.poll <= 0:
        raise InvalidInput("--poll", "must be more than 0 seconds")
    ledger = open_ledger()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner = ledger_runner(ledger, args.page)
    try:
        if args.once:
            catch_up_runner(runner, console)
        else:
            console.print(f"Theo dõi nhật ký, {args.poll:g} giây một lần; Ctrl-C để dừng / "
                          "following the log; Ctrl-C stops")

            def applied(count: int) -> None:
                head = max(runner.positions.values())
                console.print(f"+{count} sự kiện / events → vị trí / position {head}")

            runner.follow(poll=args.poll, until=stop.is_set, applied=applied, sleep=stop.wait)
    except KeyboardInterrupt:
        pass  # the page in flight rolled back with its transaction; nothing half-applied
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            console.print("Đã dừng / stopped" if not args.once else "Đã cập nhật / caught up")
            console.print(positions_table(runner))
        finally:
            ledger.close()
    return 0


# ------------------------------------------------------------------------ queries


def cmd_queue(args: argparse.Namespace, console: Console) -> int:
    as_of = parse_date("--as-of", args.as_of)
    ledger = open_ledger()
    try:
        approver = find_official(ledger, args.approver) if args.approver else None
        store = catch_up(ledger).store
        queue = queries.approval_queue(store, as_of, approver)
        names = queries.official_names(store, [a.assignee_id for a in queue] + [a.approver_id for a in queue])
    finally:
        ledger.close()
    if args.json:
        print_json([{**vars(a), "submitted_on": a.submitted_on.isoformat(),
                     "deadline": a.deadline.isoformat()} for a in queue])
        return 0
    whose = f" của {names.get(str(approver), str(approver))}" if approver else ""
    out = Table(title=f"Hồ sơ chờ phê duyệt{whose} đến {as_of:%d/%m/%Y} (quá hạn trước)",
                box=box.SIMPLE_HEAD, pad_edge=False)
    out.add_column("Nhiệm vụ", ratio=3)
    out.add_column("Người thực hiện")
    if approver is None:
        out.add_column("Người phê duyệt")
    out.add_column("Nộp ngày")
    out.add_column("Hạn phê duyệt")
    out.add_column("Tình trạng")
    for a in queue:
        state = Text("QUÁ HẠN", style="bold red") if a.overdue else Text("trong hạn")
        out.add_row(a.title, names.get(a.assignee_id, a.assignee_id),
                    *(() if approver else (names.get(a.approver_id, a.approver_id),)),
                    a.submitted_on.isoformat(), a.deadline.isoformat(), state)
    console.print(out)
    overdue = sum(a.overdue for a in queue)
    console.print(f"{len(queue)} hồ sơ chờ, {overdue} quá hạn / {len(queue)} awaiting, {overdue} overdue")
    return 0


def cmd_diary(args: argparse.Namespace, console: Console) -> int:
    start, end = parse_date("--from", args.start), parse_date("--to", args.end)
    if end < start:
        raise InvalidInput("--to", "must not be before --from")
    ledger = open_ledger()
    try:
        official_id = find_official(ledger, args.official)
        official = ledger.get_official(official_id)
        store = catch_up(ledger).store
        days = queries.diary_days(store, official_id, start, end)
        weeks = queries.diary_weeks(store, official_id, start, end)
        flags = queries.diary_flags(store, official_id, start, end, run_days=args.run_days,
                                    backfill_days=args.backfill_days)
    finally:
        ledger.close()
    if args.json:
        print_json({"official_id": str(official_id), "from": start.isoformat(), "to": end.isoformat(),
                    "days": [{**d, "hours": str(d["hours"]), "entries": [list(e) for e in d["entries"]]}
                             for d in days],
                    "weeks": {w: str(h) for w, h in weeks.items()}, "flags": flags})
        return 0
    console.print(Text(f"Nhật ký công việc: {official.full_name} ({official.code}), "
                       f"{start:%d/%m/%Y}–{end:%d/%m/%Y}", style="bold"))
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    if args.weeks:
        out.add_column("Tuần")
        out.add_column("Giờ", justify="right")
        for week, hours in weeks.items():
            out.add_row(week, render.points(hours))
    else:
        for header in ("Ngày", "Giờ", "Sản phẩm", "Số mục", "Ghi nhận lúc (UTC)"):
            out.add_column(header, justify="right" if header in ("Giờ", "Sản phẩm", "Số mục") else "left")
        for d in days:
            out.add_row(d["day"], render.points(d["hours"]), str(d["products"]), str(len(d["entries"])),
                        d["first_recorded_at"][:19])
    total = sum((d["hours"] for d in days), Decimal(0))
    console.print(out)
    console.print(f"Tổng {render.points(total)} giờ trong {len(days)} ngày / "
                  f"{render.points(total)} hours over {len(days)} days", highlight=False)
    console.print("Dấu hiệu cần xem xét (để kiểm tra, không phải hình thức xử lý) / flags, not penalties:")
    for f in flags:
        text = FLAG_TEXT[f["flag"]].format(**{**f, **({"hours": render.points(Decimal(f["hours"]))}
                                                       if "hours" in f else {})})
        console.print(f"  [{f['flag']}] {text}", highlight=False, markup=False)
    if not flags:
        console.print("  không có / none")
    return 0


def cmd_accountability(args: argparse.Namespace, console: Console) -> int:
    unit_id = unit_id_for(args.unit_code)
    ledger = open_ledger()
    try:
        store = catch_up(ledger).store
        try:
            unit = queries.unit(store, unit_id)
        except NotFound:
            raise NotFound("unit_code", f"no unit with code {args.unit_code!r}") from None
        tenures = queries.accountability(store, unit_id)
        names = queries.official_names(
            store, [m["approver_id"] for t in tenures for m in t["missed_approvals"]])
    finally:
        ledger.close()
    if args.json:
        print_json({"unit": unit, "tenures": tenures})
        return 0
    console.print(Text(f"Trách nhiệm người đứng đầu: {unit['name']} ({unit['code']})", style="bold"))
    for t in tenures:
        console.print(tenure_table(t))
        for m in t["missed_approvals"]:
            console.print(f"  Quá hạn phê duyệt: nộp {m['submitted_on']}, hạn {m['deadline']} "
                          f"({names.get(m['approver_id'], '')})", highlight=False)
        for s in t["sanctions"]:
            revoked = f", đã hủy {s['revoked_on']}" if s["revoked_on"] else ""
            points = f" −{s['points']} điểm" if s["points"] else ""
            console.print(f"  Kỷ luật {s['occurred_on']}: {s['kind']}{points}: {s['reason']}{revoked}",
                          highlight=False)
        if not t["missed_approvals"] and not t["sanctions"]:
            console.print("  Không có lượt quá hạn phê duyệt hay kỷ luật trong nhiệm kỳ", style="dim")
    joint = joint_table(tenures)
    if joint is not None:
        console.print(joint)
    if not tenures:
        console.print("Đơn vị chưa có người đứng đầu được bổ nhiệm / no leader appointed")
    return 0


def _post_label(post: str) -> str:
    try:
        return POST_LABELS_VI[Post(post)]
    except ValueError:
        return post


def tenure_table(t: dict[str, Any]) -> Table:
    until = t["ends_on"] or "nay"
    out = Table(title=f"{_post_label(t['post'])}: {t['full_name']}, {t['starts_on']} → {until}",
                title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("Kỳ", "Chỉ tiêu", "Kế hoạch", "Kết quả", "Điểm đơn vị", "Tổng", "Xếp loại"):
        out.add_column(header, justify="right" if header in ("Kế hoạch", "Kết quả", "Điểm đơn vị", "Tổng")
                       else "left")
    for c in t["cycles"]:
        score = c["score"] or {}
        rating = Rating(score["rating"]).label_vi if score else "—"
        targets = c["targets"] or [{"indicator": "—", "target_value": "", "result": None, "measure": ""}]
        for i, target in enumerate(targets):
            first = i == 0
            out.add_row(
                f"{c['starts_on']}–{c['ends_on']}" if first else "", target["indicator"],
                f"{target['target_value']} {target['measure']}".strip(),
                target["result"] if target["result"] is not None else "chưa báo cáo",
                score.get("unit_part", "—") if first else "", score.get("total", "—") if first else "",
                rating if first else "",
            )
    return out


def joint_table(tenures: list[dict[str, Any]]) -> Table | None:
    """Chairman and secretary answer jointly for the commune's targets: per cycle, side by side."""
    by_post: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {"chairman": {}, "secretary": {}}
    for t in tenures:
        if t["post"] in by_post:
            for c in t["cycles"]:
                if c["score"]:
                    by_post[t["post"]][c["cycle_id"]] = (t["full_name"], c)
    both = [cid for cid in by_post["chairman"] if cid in by_post["secretary"]]
    if not both:
        return None
    out = Table(title="Trách nhiệm chung Chủ tịch UBND và Bí thư Đảng ủy (cùng phần điểm chỉ tiêu)",
                title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    out.add_column("Kỳ")
    for post in ("Chủ tịch", "Bí thư"):
        out.add_column(post)
        out.add_column("Điểm đơn vị", justify="right")
        out.add_column("Tổng", justify="right")
    for cid in both:
        (chair, c), (secretary, s) = by_post["chairman"][cid], by_post["secretary"][cid]
        out.add_row(f"{c['starts_on']}–{c['ends_on']}", chair, c["score"]["unit_part"], c["score"]["total"],
                    secretary, s["score"]["unit_part"], s["score"]["total"])
    return out


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    if not re.fullmatch(r"\d{4}-\d{2}", args.month):
        raise InvalidInput("--month", f"{args.month!r} is not a month: expected YYYY-MM")
    parse_date("--month", args.month + "-01")
    commune_id = unit_id_for(args.commune_code)
    ledger = open_ledger()
    try:
        store = catch_up(ledger).store
        try:
            commune = queries.unit(store, commune_id)
        except NotFound:
            raise NotFound("commune_code", f"no unit with code {args.commune_code!r}") from None
        report = queries.unit_report(store, commune_id, args.month)
    finally:
        ledger.close()
    if args.json:
        print_json(report)
        return 0
    year, month = args.month.split("-")
    out = Table(title=f"Báo cáo KPI tháng {month}/{year}: {commune['name']} (gửi tỉnh trước ngày 25)",
                box=box.SIMPLE_HEAD, pad_edge=False)
    out.add_column("Đơn vị", min_width=18)
    for header in ("Số\nngười", "Nhiệm vụ\nđến hạn", *(v.replace(" ", "\n") for v in STATUS_LABELS.values()),
                   "Quá hạn\nduyệt", "Kỷ\nluật", "Giờ\nnhật ký", "Điểm\nTB"):
        out.add_column(header, justify="right", no_wrap=True)
    for u in report["units"]:
        out.add_row(u["unit_name"], str(u["officials"]), str(u["tasks_due"]),
                    *(str(u["by_status"].get(s, 0)) for s in STATUS_LABELS),
                    str(u["missed_approvals"]), str(u["sanctions"]), u["diary_hours"], u["mean_score"] or "—")
    console.print(out)
    return 0


def parse_moment(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(option, f"{text!r} is not a timestamp: expected ISO 8601, "
                           "e.g. 2026-03-05T10:00:00+07:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_lineage(args: argparse.Namespace, console: Console) -> int:
    since, until = parse_moment("--since", args.since), parse_moment("--until", args.until)
    try:
        cycle_id = UUID(args.cycle)
    except ValueError:
        raise InvalidInput("cycle", f"{args.cycle!r} is not a cycle id (a UUID)") from None
    ledger = open_ledger()
    try:
        ledger.get_cycle(cycle_id)
        official_id = find_official(ledger, args.official)
        store = catch_up(ledger).store
        score = queries.official_score(store, cycle_id, official_id)
        lines = queries.lineage(store, cycle_id, official_id, since, until)
        name = actor_namer(ledger)
        actors = [name(None if r["actor_id"] is None else UUID(r["actor_id"]), r["actor_role"]) for r in lines]
    finally:
        ledger.close()
    change = sum((Decimal(r["delta"]) for r in lines), Decimal(0))
    if args.json:
        print_json({"cycle_id": str(cycle_id), "official_id": str(official_id), "total": score["total"],
                    "since": since and since.isoformat(), "until": until and until.isoformat(),
                    "change": str(change), "lines": lines})
        return 0
    window = ""
    if since or until:
        window = f", ghi nhận trong ({render.utc(since) if since else '…'}, {render.utc(until) if until else '…'}]"
    out = Table(title=f"Dòng điểm của {score['full_name']} ({score['code']}){window}",
                box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("#", "Thành phần", "Điểm", "Lũy kế", "Sự kiện", "Người thực hiện", "Ghi nhận lúc (UTC)",
                   "Ghi chú"):
        out.add_column(header, justify="right" if header in ("#", "Điểm", "Lũy kế") else "left",
                       ratio=2 if header == "Ghi chú" else None)
    for r, actor in zip(lines, actors, strict=True):
        delta = Decimal(r["delta"])
        out.add_row(str(r["seq"]), render.COMPONENT_LABELS.get(r["component"], r["component"]),
                    Text(render.signed(delta), style="red" if delta < 0 else ""),
                    render.points(Decimal(r["running_total"])), r["event_type"], actor,
                    (r["recorded_at"] or "—")[:19], r["note"])
    console.print(out)
    console.print(f"Tổng điểm hiện tại {score['total']}; thay đổi trong các dòng trên {render.signed(change)} "
                  f"/ current total {score['total']}; change in these lines {render.signed(change)}",
                  highlight=False)
    return 0
