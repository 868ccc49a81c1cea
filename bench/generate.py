"""A synthetic province, recorded through the Ledger's own commands (no back door).

Why through the commands: a benchmark of a log nobody could have produced measures nothing, and
the commands' checks (authority, 6 rõ, the 24-hour diary limit) are part of what ingest costs.

Shape: communes of ~400 officials (a post-2025 commune with its departments), or one small
commune of ~40 when fewer officials are asked for; per commune a chairman and a Party secretary,
departments with a head and members; policy v1; one month cycle (March 2026) per commune with
three development targets. Every official logs about three diary entries per working day, has
two to four tasks (assigned, submitted, approved or returned and resubmitted, some left
unacted), is assessed for conduct at the month's end; about 1 % receive a point deduction. The
deadline watcher runs mid-month and after the month, recording the lapsed approvals. About 100
events per official per month: a 40,000-official province is ~4 million events.

Deterministic from `--seed`: the same seed gives the same commands in the same order (task and
sanction ids are random, as in production, but nothing depends on their values).

    python -m bench.generate --scale commune --db sqlite:///tmp/c.sqlite3
    python -m bench.generate --scale province --db postgresql://postgres@127.0.0.1/prov1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.calendar import WorkingCalendar
from domain.cycles import CycleKind
from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.org import Post, UnitKind, official_id_for, unit_id_for
from domain.persistence import ledger_env
from domain.roles import Role
from domain.tasks import KpiKind

PRESETS = {"commune": 40, "province": 40_000}
COMMUNE_SIZE = 400  # officials per commune once there is more than one
ENROLLED_ON = date(2026, 1, 5)
POLICY_FROM = date(2026, 1, 1)
MONTH_STARTS = date(2026, 3, 1)
MONTH_ENDS = date(2026, 3, 31)
WATCH_MID = date(2026, 3, 16)
WATCH_END = date(2026, 4, 10)
CALENDAR = WorkingCalendar()
DUTIES = ("tiếp công dân", "một cửa: hồ sơ hành chính", "họp giao ban", "kiểm tra địa bàn", "báo cáo tổng hợp")
INDICATORS = (("thu ngân sách", "tỷ đồng", 12), ("hộ nghèo giảm", "hộ", 40), ("hồ sơ trực tuyến", "%", 80))

Progress = Callable[[str, int, int], None]  # (phase, commands so far, events so far)


@dataclass(frozen=True)
class Shape:
    officials: int
    communes: int
    per_commune: int
    departments: int

    @staticmethod
    def of(officials: int) -> Shape:
        officials = max(officials, 8)
        communes = max(1, round(officials / COMMUNE_SIZE))
        per_commune = max(8, officials // communes)
        departments = max(2, min(12, per_commune // 10))
        return Shape(communes * per_commune, communes, per_commune, departments)


def scale_officials(scale: str) -> int:
    return PRESETS[scale] if scale in PRESETS else int(scale)


@dataclass
class Person:
    actor: Actor
    unit_id: UUID
    leader: Actor | None = None  # assigns and approves this person's work
    tasks: list[UUID] = field(default_factory=list)


@dataclass(frozen=True)
class Commune:
    commune_id: UUID
    cycle_id: UUID
    people: list[Person]  # chairman, secretary, then each department's head and members


@dataclass
class Stats:
    commands: int = 0
    batches: int = 0
    by_command: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    communes: list[Commune] = field(default_factory=list)


class Feeder:
    """Runs commands, `batch` per transaction (`Ledger.batch()`); 1 means one command each."""

    def __init__(self, ledger: Ledger, batch: int, progress: Progress | None) -> None:
        self.ledger = ledger
        self.size = batch
        self.progress = progress
        self.stats = Stats()
        self.open: AbstractContextManager[Any] | None = None
        self.in_batch = 0
        self.phase = ""
        self.last_report = 0.0

    def __call__(self, command: str, actor: Actor | None, **kwargs: Any) -> Any:
        if self.size > 1 and self.open is None:
            self.open = self.ledger.batch()
            self.open.__enter__()
        method = getattr(self.ledger, command)
        result = method(actor, **kwargs) if actor is not None else method(**kwargs)
        self.stats.commands += 1
        self.stats.by_command[command] += 1
        self.in_batch += 1
        if self.in_batch >= self.size:
            self.flush()
        return result

    def flush(self) -> None:
        if self.open is not None:
            self.open.__exit__(None, None, None)
            self.open = None
            self.stats.batches += 1
        self.in_batch = 0
        now = time.monotonic()
        if self.progress and now - self.last_report > 1.0:
            self.last_report = now
            self.progress(self.phase, self.stats.commands, self.ledger.recorder.max_notification_id() or 0)

    def watch(self, as_of: date) -> None:
        """The deadline watcher reads the log, so it runs between batches."""
        self.flush()
        self.stats.by_command["record_missed_deadlines"] += len(self.ledger.record_missed_deadlines(as_of))


def working_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)
            if CALENDAR.is_working_day(start + timedelta(days=i))]


def generate(ledger: Ledger, officials: int, seed: int = 1, batch: int = 1_000,
             progress: Progress | None = None, tag: str = "") -> Stats:
    """Record a province of about `officials` officials and one month of its work."""
    rng = random.Random(seed)
    shape = Shape.of(officials)
    do = Feeder(ledger, batch, progress)
    t = tag

    def person(code: str, role: Role = Role.OFFICIAL) -> Actor:
        return Actor(official_id=official_id_for(t + code), role=role.value)

    # ------------------------------------------------------------- organisation
    do.phase = "organisation"
    admin, monitor = person("SNV-ADMIN", Role.ADMIN), person("SNV-KPI", Role.MONITORING)
    province, body = unit_id_for(t + "P"), unit_id_for(t + "P-SNV")
    do("register_unit", admin, code=t + "P", name=f"Tỉnh {t or 'Mẫu'}", kind=UnitKind.PROVINCE)
    do("register_unit", admin, code=t + "P-SNV", name="Sở Nội vụ", kind=UnitKind.PROVINCE_BODY, parent_id=province)
    for code, name in (("SNV-ADMIN", "Quản trị Sở Nội vụ"), ("SNV-KPI", "Tổ theo dõi KPI")):
        do("enroll_official", admin, code=t + code, full_name=name, position="chuyên viên", unit_id=body,
           staff_category="công chức", post_group="chuyên viên", on=ENROLLED_ON)
    if not any(True for _ in _policies(ledger)):
        do.flush()
        ledger.publish_policy(admin, version="v1", effective_from=POLICY_FROM)

    communes: list[tuple[UUID, list[Person], Person, Person]] = []
    for c in range(shape.communes):
        cc = f"X{c:03d}"
        commune = unit_id_for(t + cc)
        do("register_unit", admin, code=t + cc, name=f"Xã {cc}", kind=UnitKind.COMMUNE, parent_id=province)
        people: list[Person] = []
        n = 0

        def enroll(unit: UUID, position: str, group: str, cc: str = cc, people: list[Person] = people) -> Person:
            nonlocal n
            code = f"{cc}-O{n:04d}"
            n += 1
            do("enroll_official", admin, code=t + code, full_name=f"Cán bộ {code}", position=position,
               unit_id=unit, staff_category="công chức", post_group=group, on=ENROLLED_ON)
            p = Person(person(code), unit)
            people.append(p)
            return p

        chairman = enroll(commune, "Chủ tịch UBND", "lãnh đạo xã")
        secretary = enroll(commune, "Bí thư Đảng ủy", "lãnh đạo xã")
        chairman.leader, secretary.leader = secretary.actor, chairman.actor
        do("appoint_leader", admin, unit_id=commune, post=Post.CHAIRMAN, official_id=chairman.actor.official_id,
           on=ENROLLED_ON)
        do("appoint_leader", admin, unit_id=commune, post=Post.SECRETARY, official_id=secretary.actor.official_id,
           on=ENROLLED_ON)
        members_per_dept = max(1, (shape.per_commune - 2) // shape.departments - 1)
        for d in range(shape.departments):
            dc = f"{cc}-D{d:02d}"
            dept = unit_id_for(t + dc)
            do("register_unit", admin, code=t + dc, name=f"Phòng {d + 1} {cc}", kind=UnitKind.DEPARTMENT,
               parent_id=commune)
            head = enroll(dept, "Trưởng phòng", "lãnh đạo phòng")
            head.leader = chairman.actor
            do("appoint_leader", admin, unit_id=dept, post=Post.HEAD, official_id=head.actor.official_id,
               on=ENROLLED_ON)
            for _ in range(members_per_dept):
                enroll(dept, "chuyên viên", "chuyên viên").leader = head.actor
        communes.append((commune, people, chairman, secretary))

    # ------------------------------------------------------------ cycle, targets
    do.phase = "cycles"
    cycles: dict[UUID, UUID] = {}
    targets: dict[UUID, list[UUID]] = {}
    for commune, _, _, _ in communes:
        cycles[commune] = do("open_cycle", admin, unit_id=commune, kind=CycleKind.MONTH,
                             starts_on=MONTH_STARTS, ends_on=MONTH_ENDS)
        targets[commune] = [
            do("set_target", admin, cycle_id=cycles[commune], indicator=name, target_value=Decimal(goal),
               measure=measure, on=date(2026, 3, 2))
            for name, measure, goal in INDICATORS
        ]

    # ------------------------------------------------- the month, day by day
    days = working_days(MONTH_STARTS, MONTH_ENDS)
    schedule: dict[date, list[tuple[str, Any]]] = defaultdict(list)
    for commune, people, _, _ in communes:
        for p in people:
            for _ in range(rng.randint(2, 4)):
                assigned = rng.choice(days[:12])
                due = rng.choice([d for d in days if d >= assigned + timedelta(days=5)] or days[-1:])
                schedule[assigned].append(("assign", (commune, p, due)))
    sanctioned = {id(p) for _, people, _, _ in communes for p in people if rng.random() < 0.01}

    def later(day: date, working: int) -> date:
        return CALENDAR.add_working_days(day, working) if working else day

    every_day = [MONTH_STARTS + timedelta(days=i) for i in range((WATCH_END - MONTH_STARTS).days + 1)]
    for day in every_day:
        do.phase = f"day {day.isoformat()}"
        if day == WATCH_MID:
            do.watch(day)
        for kind, item in _drain(schedule, day):
            if kind == "assign":
                commune, p, due = item
                assert p.leader is not None
                task_id = do("assign_task", p.leader, cycle_id=cycles[commune], assignee_id=p.actor.official_id,
                             title=f"Nhiệm vụ {len(p.tasks) + 1}", kind=_kind(rng), product="báo cáo",
                             target_quantity=rng.randint(1, 10), due_on=due, on=day,
                             authority="Quyết định giao việc của thủ trưởng", weight=Decimal(rng.choice((1, 1, 2))))
                p.tasks.append(task_id)
                if rng.random() > 0.05:  # 5 % never submitted
                    lateness = rng.choice((0, 0, 0, 0, 1, 2, 6)) if rng.random() < 0.3 else 0
                    when = max(day, later(due, lateness) if lateness else due - timedelta(days=rng.randint(0, 3)))
                    schedule[max(when, day)].append(("submit", (p, task_id, rng.randint(1, 10))))
            elif kind == "submit":
                p, task_id, quantity = item
                do("submit_task", p.actor, task_id=task_id, quantity=quantity, on=day)
                roll = rng.random()
                if roll < 0.03:
                    continue  # left unacted: the watcher records the miss
                wait = rng.randint(0, 4) if roll < 0.92 else rng.randint(6, 9)
                action = "return" if rng.random() < 0.12 else "approve"
                schedule[later(day, wait)].append((action, (p, task_id, quantity)))
            elif kind == "approve":
                p, task_id, _ = item
                assert p.leader is not None
                do("approve_task", p.leader, task_id=task_id, on=day, major_errors=rng.choice((0, 0, 0, 0, 1)))
            elif kind == "return":
                p, task_id, quantity = item
                assert p.leader is not None
                do("return_task", p.leader, task_id=task_id, on=day, comment="bổ sung số liệu", major_errors=1)
                schedule[later(day, rng.randint(1, 3))].append(("submit", (p, task_id, quantity)))
        if MONTH_STARTS <= day <= MONTH_ENDS and CALENDAR.is_working_day(day):
            for commune, people, _, _ in communes:
                for p in people:
                    _diary(do, rng, cycles[commune], p, day)
        if day == date(2026, 3, 20):
            for _, people, _, _ in communes:
                for p in people:
                    if id(p) in sanctioned and p.leader is not None:
                        do("impose_sanction", p.leader, official_id=p.actor.official_id,
                           kind=SanctionKind.DEDUCTION, criterion="unexcused_training_absence",
                           reason="vắng tập huấn không lý do", on=day)
        if day == MONTH_ENDS:
            for commune, people, _, _ in communes:
                for p in people:
                    assert p.leader is not None
                    do("assess_conduct", p.leader, official_id=p.actor.official_id, cycle_id=cycles[commune],
                       points=Decimal(rng.choice((12, 13, 14, 14, 15, 15))), on=day)
                for target_id, (_, _, goal) in zip(targets[commune], INDICATORS, strict=True):
                    do("report_target_result", monitor, target_id=target_id,
                       value=Decimal(goal) * Decimal(rng.randint(70, 110)) / 100, evidence="báo cáo tháng", on=day)
    do.watch(WATCH_END)
    do.flush()
    do.stats.communes = [Commune(commune, cycles[commune], people) for commune, people, _, _ in communes]
    return do.stats


def _drain(schedule: dict[date, list[tuple[str, Any]]], day: date) -> Iterator[tuple[str, Any]]:
    """The day's actions, including any scheduled for the same day while doing them."""
    while schedule.get(day):
        yield from schedule.pop(day)


def _kind(rng: random.Random) -> KpiKind:
    roll = rng.random()
    return KpiKind.SPEARHEAD if roll < 0.2 else KpiKind.SOFT if roll < 0.3 else KpiKind.HARD


def _diary(do: Feeder, rng: random.Random, cycle_id: UUID, p: Person, day: date) -> None:
    """About three entries a working day, about eight hours in all, some against a task."""
    entries = rng.choice((2, 3, 3, 3, 4))
    hours = [Decimal(h) for h in _split(rng, 8 if rng.random() < 0.9 else rng.randint(4, 10), entries)]
    for h in hours:
        task = rng.choice(p.tasks) if p.tasks and rng.random() < 0.4 else None
        do("log_work", p.actor, cycle_id=cycle_id, on=day, hours=h, task_id=task,
           duty="" if task else rng.choice(DUTIES), products=rng.randint(0, 3), description="công việc trong ngày")


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    parts = min(parts, total)
    cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _policies(ledger: Ledger) -> Iterator[Any]:
    from domain.errors import NotFound

    try:
        yield ledger.policies()
    except NotFound:
        return


def print_progress(phase: str, commands: int, events: int, _start: list[float] = []) -> None:  # noqa: B006
    if not _start:
        _start.append(time.monotonic())
    elapsed = time.monotonic() - _start[0]
    rate = events / elapsed if elapsed else 0.0
    print(f"\r  {phase:<18} {commands:>10,} commands {events:>11,} events {rate:>8,.0f} ev/s", end="",
          file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="commune", help="commune, province, or a number of officials")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1_000, help="commands per transaction (1: one each)")
    parser.add_argument("--db", default="sqlite:///bench-province.sqlite3", help="a DATABASE_URL")
    args = parser.parse_args(argv)
    ledger = Ledger(env=ledger_env({"DATABASE_URL": args.db}))
    started = time.monotonic()
    stats = generate(ledger, scale_officials(args.scale), seed=args.seed, batch=args.batch, progress=print_progress)
    events = ledger.recorder.max_notification_id() or 0
    elapsed = time.monotonic() - started
    print(f"\n{stats.commands:,} commands, {events:,} events in {elapsed:.1f} s "
          f"({events / elapsed:,.0f} events/s)", file=sys.stderr)
    for command, n in sorted(stats.by_command.items()):
        print(f"  {command:<24} {n:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
