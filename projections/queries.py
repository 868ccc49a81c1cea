"""The questions users ask of the read models, answered from tables alone.

Nothing here replays the log: each function is a query (plus a little arithmetic on dates)
over the tables the projections keep.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.calendar import WorkingCalendar
from domain.errors import NotFound
from domain.score_lines import Contribution, Rating
from domain.scoring import OfficialScore, ScoreTable
from projections.diary import entries_of
from projections.scores import utc_text
from projections.store import ViewStore

ScoreRow = dict[str, Any]
OPEN_END = "9999-12-31"  # a tenure still running


def scoreboard(store: ViewStore, cycle_id: UUID, unit_id: UUID | None = None) -> list[ScoreRow]:
    """The cycle's rows in the fold's own order (unit name, leaders first, full name, id),
    sorted here rather than by SQL so no database collation can reorder Vietnamese names."""
    sql = "SELECT * FROM kpi_scoreboard WHERE cycle_id = ?"
    params: list[Any] = [str(cycle_id)]
    if unit_id is not None:
        sql += " AND unit_id = ?"
        params.append(str(unit_id))
    rows = store.query(sql, params)
    for row in rows:
        row["flags"] = json.loads(row["flags"])
        row["event_ids"] = json.loads(row["event_ids"])
    return sorted(rows, key=lambda r: (r["unit_name"], r["post"] is None, r["full_name"], r["official_id"]))


def score_table(store: ViewStore, cycle_id: UUID) -> ScoreTable:
    """The cycle's table as the scoring fold produced it, read back from the scoreboard and
    lineage rows: the same renderers and the same digest serve the projection and the fold."""
    cycles = store.query("SELECT * FROM kpi_cycle_scores WHERE cycle_id = ?", (str(cycle_id),))
    if not cycles:
        raise NotFound("cycle_id", f"cycle {cycle_id} has no scores in the projections")
    cycle = cycles[0]
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in store.query("SELECT * FROM kpi_lineage WHERE cycle_id = ?", (str(cycle_id),)):
        lines[line["official_id"]].append(line)
    return ScoreTable(
        cycle_id=cycle_id,
        policy_version=cycle["policy_version"],
        starts_on=date.fromisoformat(cycle["starts_on"]),
        ends_on=date.fromisoformat(cycle["ends_on"]),
        rows=tuple(_official_score(r, lines[r["official_id"]]) for r in scoreboard(store, cycle_id)),
    )


def _official_score(row: ScoreRow, lines: list[dict[str, Any]]) -> OfficialScore:
    return OfficialScore(
        official_id=UUID(row["official_id"]), code=row["code"], full_name=row["full_name"],
        position=row["job_title"], unit_id=UUID(row["unit_id"]), unit_name=row["unit_name"],
        post_group=row["post_group"], post=row["post"],
        **{name: Decimal(row[name]) for name in
           ("task", "discipline", "conduct", "approval", "clamp", "total")},
        unit=Decimal(row["unit_part"]),
        rating=Rating(row["rating"]),
        flags=tuple(row["flags"]),
        contributions=tuple(_contribution(line) for line in sorted(lines, key=lambda x: int(x["seq"]))),
    )


def _contribution(line: dict[str, Any]) -> Contribution:
    return Contribution(
        official_id=UUID(line["official_id"]), component=line["component"],
        delta=Decimal(line["delta"]), event_id=line["event_id"], event_type=line["event_type"],
        actor_id=_uuid(line["actor_id"]), actor_role=line["actor_role"],
        recorded_at=None if line["recorded_at"] is None else datetime.fromisoformat(line["recorded_at"]),
        note=line["note"], basis_official_id=_uuid(line["basis_official_id"]),
        position=None if line["position"] is None else int(line["position"]),
    )


def _uuid(text: str | None) -> UUID | None:
    return None if text is None else UUID(text)


def official_score(store: ViewStore, cycle_id: UUID, official_id: UUID) -> ScoreRow:
    rows = [r for r in scoreboard(store, cycle_id) if r["official_id"] == str(official_id)]
    if not rows:
        raise NotFound("official_id", f"official {official_id} has no score in cycle {cycle_id}")
    return rows[0]


def unit_scoreboard(store: ViewStore, cycle_id: UUID) -> list[dict[str, Any]]:
    """Per unit: head count, mean total and how many fall in each rating."""
    units: dict[str, dict[str, Any]] = {}
    for row in scoreboard(store, cycle_id):
        unit = units.setdefault(row["unit_id"], {
            "unit_id": row["unit_id"], "unit_name": row["unit_name"], "officials": 0,
            "total": Decimal(0), "ratings": defaultdict(int),
        })
        unit["officials"] += 1
        unit["total"] += Decimal(row["total"])
        unit["ratings"][row["rating"]] += 1
    return [
        {**u, "mean_total": (u["total"] / u["officials"]).quantize(Decimal("0.01")),
         "ratings": dict(u["ratings"])}
        for u in units.values()
    ]


def lineage(
    store: ViewStore, cycle_id: UUID, official_id: UUID,
    since: datetime | None = None, until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every contribution behind a score; with since/until, those recorded in that window
    ("what changed between T1 and T2")."""
    sql = "SELECT * FROM kpi_lineage WHERE cycle_id = ? AND official_id = ?"
    params: list[Any] = [str(cycle_id), str(official_id)]
    if since is not None:
        sql += " AND recorded_at > ?"
        params.append(utc_text(since))
    if until is not None:
        sql += " AND recorded_at <= ?"
        params.append(utc_text(until))
    return store.query(sql + " ORDER BY seq", params)


def change_between(
    store: ViewStore, cycle_id: UUID, official_id: UUID, since: datetime, until: datetime
) -> Decimal:
    return sum((Decimal(r["delta"]) for r in lineage(store, cycle_id, official_id, since, until)),
               Decimal(0))


@dataclass(frozen=True)
class Awaiting:
    task_id: str
    title: str
    assignee_id: str
    approver_id: str
    submitted_on: date
    deadline: date
    overdue: bool


def approval_queue(store: ViewStore, as_of: date, approver_id: UUID | None = None) -> list[Awaiting]:
    """Submissions awaiting approval, overdue first, then by deadline."""
    sql = (
        "SELECT t.task_id, t.title, t.assignee_id, t.approver_id, t.submitted_on, "
        "p.deadline_days, p.holidays FROM kpi_tasks t "
        "JOIN kpi_task_cycles c ON c.cycle_id = t.cycle_id "
        "JOIN kpi_task_policies p ON p.version = c.policy_version "
        "WHERE t.status = 'submitted'"
    )
    params: list[Any] = []
    if approver_id is not None:
        sql += " AND t.approver_id = ?"
        params.append(str(approver_id))
    queue = []
    for row in store.query(sql, params):
        calendar = WorkingCalendar(date.fromisoformat(d) for d in json.loads(row["holidays"]))
        submitted = date.fromisoformat(row["submitted_on"])
        deadline = calendar.add_working_days(submitted, int(row["deadline_days"]))
        queue.append(Awaiting(
            row["task_id"], row["title"], row["assignee_id"], row["approver_id"], submitted,
            deadline, as_of > deadline,
        ))
    return sorted(queue, key=lambda a: (not a.overdue, a.deadline, a.task_id))


def diary_entries(
    store: ViewStore, start: date, end: date, official_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The live (not voided) entries of these officials between two days, in (official, day,
    entry) order: the diary's day rows taken apart again (`projections.diary`)."""
    window, ids = (start.isoformat(), end.isoformat()), list(official_ids)
    voided = {(r["official_id"], r["day"], r["entry_no"]) for r in _in(
        store, "SELECT official_id, day, entry_no FROM kpi_diary_voids WHERE day >= ? AND day <= ? "
        "AND official_id IN ({ids})", window, ids)}
    entries = []
    for r in _in(store, "SELECT official_id, day, entries FROM kpi_diary_days WHERE day >= ? AND day <= ? "
                 "AND official_id IN ({ids})", window, ids):
        for entry in entries_of(r["entries"]):
            if (r["official_id"], r["day"], entry["entry_no"]) not in voided:
                entries.append({"official_id": r["official_id"], "day": r["day"], **entry})
    return sorted(entries, key=lambda e: (e["official_id"], e["day"], e["entry_no"]))


def diary_days(store: ViewStore, official_id: UUID, start: date, end: date) -> list[dict[str, Any]]:
    days: dict[str, dict[str, Any]] = {}
    for r in diary_entries(store, start, end, [str(official_id)]):
        d = days.setdefault(r["day"], {"day": r["day"], "hours": Decimal(0), "products": 0,
                                       "entries": [], "first_recorded_at": r["recorded_at"]})
        d["hours"] += Decimal(r["hours"])
        d["products"] += r["products"]
        d["entries"].append((r["task_id"] or r["duty"], r["description"], r["hours"]))
        d["first_recorded_at"] = min(d["first_recorded_at"], r["recorded_at"])
    for d in days.values():  # as `datetime.isoformat` writes it ("+00:00"), not JSON's "Z"
        d["first_recorded_at"] = datetime.fromisoformat(d["first_recorded_at"]).isoformat()
    return list(days.values())


def diary_weeks(store: ViewStore, official_id: UUID, start: date, end: date) -> dict[str, Decimal]:
    """Hours per ISO week ("2026-W10")."""
    weeks: dict[str, Decimal] = defaultdict(Decimal)
    for d in diary_days(store, official_id, start, end):
        year, week, _ = date.fromisoformat(d["day"]).isocalendar()
        weeks[f"{year}-W{week:02d}"] += d["hours"]
    return dict(weeks)


def diary_flags(
    store: ViewStore, official_id: UUID, start: date, end: date, run_days: int = 3,
    backfill_days: int = 3,
) -> list[dict[str, Any]]:
    """Padding (runs of identical exact-8-hour days), hours with no product, backfills.
    Flags for people to look at, never penalties."""
    flags: list[dict[str, Any]] = []
    days = diary_days(store, official_id, start, end)
    run: list[dict[str, Any]] = []
    for d in [*days, None]:
        same = (d is not None and d["hours"] == 8 and run
                and sorted(d["entries"]) == sorted(run[-1]["entries"]))
        if d is not None and d["hours"] == 8 and (not run or same):
            run.append(d)
            continue
        if len(run) >= run_days:
            flags.append({"flag": "padding", "from": run[0]["day"], "to": run[-1]["day"], "days": len(run)})
        run = [d] if d is not None and d["hours"] == 8 else []
    for d in days:
        if d["hours"] > 0 and d["products"] == 0:
            flags.append({"flag": "no_product", "day": d["day"], "hours": str(d["hours"])})
        recorded = datetime.fromisoformat(d["first_recorded_at"]).date()
        if recorded - date.fromisoformat(d["day"]) > timedelta(days=backfill_days):
            flags.append({"flag": "backfill", "day": d["day"], "recorded_on": recorded.isoformat()})
    return flags


def accountability(store: ViewStore, unit_id: UUID) -> list[dict[str, Any]]:
    """Per leader and tenure of the unit: targets and results of the cycles within the tenure,
    the unit part of the leader's score, missed approvals and sanctions. The commune's chairman
    and secretary come out side by side, with the same targets (joint accountability)."""
    tenures = store.query(
        "SELECT t.*, o.full_name FROM kpi_tenures t LEFT JOIN kpi_officials o "
        "ON o.official_id = t.official_id WHERE t.unit_id = ? ORDER BY t.starts_on, t.post",
        (str(unit_id),),
    )
    cycles = store.query("SELECT * FROM kpi_cycles WHERE unit_id = ? ORDER BY starts_on", (str(unit_id),))
    out = []
    for t in tenures:
        within = [c for c in cycles if _overlaps(c["starts_on"], c["ends_on"], t["starts_on"], t["ends_on"])]
        entry = {**t, "cycles": []}
        for c in within:
            targets = store.query(
                "SELECT indicator, target_value, measure, result, evidence FROM kpi_targets "
                "WHERE cycle_id = ? ORDER BY indicator", (c["cycle_id"],))
            score = store.query(
                "SELECT unit_part, total, rating FROM kpi_scoreboard WHERE cycle_id = ? AND official_id = ?",
                (c["cycle_id"], t["official_id"]))
            entry["cycles"].append({
                "cycle_id": c["cycle_id"], "starts_on": c["starts_on"], "ends_on": c["ends_on"],
                "targets": targets, "score": score[0] if score else None,
            })
        entry["missed_approvals"] = store.query(
            "SELECT * FROM kpi_misses WHERE approver_id = ? AND deadline >= ? AND deadline <= ? "
            "ORDER BY deadline", (t["official_id"], t["starts_on"], t["ends_on"] or OPEN_END))
        entry["sanctions"] = store.query(
            "SELECT * FROM kpi_sanctions WHERE official_id = ? AND occurred_on >= ? AND occurred_on <= ? "
            "ORDER BY occurred_on", (t["official_id"], t["starts_on"], t["ends_on"] or OPEN_END))
        out.append(entry)
    return out


def _overlaps(a_start: str, a_end: str, b_start: str, b_end: str | None) -> bool:
    return a_start <= (b_end or OPEN_END) and b_start <= a_end


def unit_report(store: ViewStore, commune_id: UUID, month: str) -> dict[str, Any]:
    """The monthly report a commune sends the province (due before the 25th): per unit,
    tasks assigned, submitted, approved, returned, overdue approvals, missed deadlines,
    sanctions, diary hours and mean score of the cycles ending that month."""
    first = date.fromisoformat(month + "-01")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    units = sorted(store.query(
        "SELECT unit_id, name FROM kpi_units WHERE unit_id = ? OR parent_id = ?",
        (str(commune_id), str(commune_id))), key=lambda u: (u["unit_id"] != str(commune_id), u["name"]))
    if not units:
        raise NotFound("commune_id", f"no unit {commune_id}")
    report_units = []
    for u in units:
        members = [r["official_id"] for r in store.query(
            "SELECT official_id FROM kpi_officials WHERE unit_id = ?", (u["unit_id"],))]
        tasks = _in(store, "SELECT status, due_on, submitted_on, acted_on FROM kpi_tasks "
                    "WHERE due_on >= ? AND due_on <= ? AND assignee_id IN ({ids})",
                    (first.isoformat(), last.isoformat()), members)
        counts: dict[str, int] = defaultdict(int)
        for t in tasks:
            counts[t["status"]] += 1
        report_units.append({
            "unit_id": u["unit_id"], "unit_name": u["name"], "officials": len(members),
            "tasks_due": len(tasks), "by_status": dict(counts),
            "missed_approvals": len(_in(store, "SELECT miss_id FROM kpi_misses WHERE deadline >= ? "
                                        "AND deadline <= ? AND approver_id IN ({ids})",
                                        (first.isoformat(), last.isoformat()), members)),
            "sanctions": len(_in(store, "SELECT sanction_id FROM kpi_sanctions WHERE occurred_on >= ? "
                                 "AND occurred_on <= ? AND revoked_on IS NULL AND official_id IN ({ids})",
                                 (first.isoformat(), last.isoformat()), members)),
            "diary_hours": str(sum((Decimal(r["hours"]) for r in diary_entries(store, first, last, members)),
                                   Decimal(0))),
            "mean_score": _mean([Decimal(r["total"]) for r in _in(
                store, "SELECT s.total FROM kpi_scoreboard s JOIN kpi_cycles c ON c.cycle_id = s.cycle_id "
                "WHERE c.ends_on >= ? AND c.ends_on <= ? AND s.official_id IN ({ids})",
                (first.isoformat(), last.isoformat()), members)]),
        })
    return {"commune_id": str(commune_id), "month": month, "units": report_units}


def official_names(store: ViewStore, official_ids: Iterable[str]) -> dict[str, str]:
    """Full names by official id, from the accountability model's roster."""
    rows = _in(store, "SELECT official_id, full_name FROM kpi_officials WHERE official_id IN ({ids})",
               (), sorted(set(official_ids)))
    return {r["official_id"]: r["full_name"] for r in rows}


def unit(store: ViewStore, unit_id: UUID) -> dict[str, Any]:
    rows = store.query("SELECT * FROM kpi_units WHERE unit_id = ?", (str(unit_id),))
    if not rows:
        raise NotFound("unit_id", f"no unit {unit_id} in the projections")
    return rows[0]


def _in(store: ViewStore, sql: str, params: tuple[Any, ...], ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return store.query(sql.format(ids=", ".join("?" for _ in ids)), (*params, *ids))


def _mean(values: list[Decimal]) -> str | None:
    return str((sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))) if values else None
