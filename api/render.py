"""How the command line shows a score table, an explanation and missed deadlines.

Rich tables for people (Vietnamese first, the English rating beside it) and plain JSON for
machines. Amounts go out as decimal strings in JSON, so a consumer adds them up exactly as the
ledger did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from domain.score_lines import Contribution, Rating
from domain.scoring import OfficialScore, ScoreTable

COMPONENT_LABELS = {
    "task": "Nhiệm vụ",
    "unit": "Đơn vị/lãnh đạo",
    "discipline": "Kỷ luật",
    "conduct": "Phẩm chất",
    "approval": "Phê duyệt",
    "clamp": "Giới hạn 0-100",
    "rating": "Xếp loại",
}
FLAG_LABELS = {
    "no_assigned_task": "Không được giao nhiệm vụ KPI trong kỳ (hưởng đủ điểm nhiệm vụ)",
    "capped_excellent": "Vượt tỷ lệ Hoàn thành xuất sắc cho phép (NĐ 90/2020, điều 20): xếp "
    "Hoàn thành tốt",
    "conduct_not_assessed": "Chưa được đánh giá phẩm chất: tính điểm mặc định",
    "failing_measure": "Bị kỷ luật từ khiển trách trở lên: Không hoàn thành nhiệm vụ",
    "unit_part_reduced": "Phần điểm đơn vị bị giảm một nửa (có người Không hoàn thành)",
    "no_members": "Đơn vị không có thành viên được đánh giá",
    "no_targets": "Xã chưa được giao chỉ tiêu phát triển",
    "target_without_result": "Có chỉ tiêu chưa báo cáo kết quả",
}
ROLE_LABELS = {
    "admin": "tổ chức cán bộ",
    "monitoring": "tổ theo dõi KPI",
    "inspector": "thanh tra",
    "appeals": "giải quyết khiếu nại",
    "system": "hệ thống",
}
RATING_STYLES = {
    Rating.EXCELLENT: "bold green",
    Rating.GOOD: "green",
    Rating.COMPLETED: "yellow",
    Rating.NOT_COMPLETED: "bold red",
}
SYSTEM_ACTOR = UUID(int=0)


def points(amount: Decimal) -> str:
    return f"{amount:.2f}"


def signed(amount: Decimal) -> str:
    return f"{amount:+.2f}"


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else "—"


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag)


# ---------------------------------------------------------------------------- score table


def score_table(table: ScoreTable, title: str, first_unit: UUID | None = None) -> Table:
    """One row per official, grouped by unit (the commune's own leaders first).

    Fits a 120-column terminal: the unit is named once per group, as on the paper reports, and
    long positions and ratings wrap within their cells.
    """
    out = Table(
        title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0),
        caption=rating_summary(table), caption_justify="left",
    )
    out.add_column("Cán bộ", no_wrap=True)
    out.add_column("Chức vụ", ratio=3, min_width=14)
    out.add_column("Đơn vị", ratio=2, min_width=10)
    with_clamp = any(r.clamp for r in table.rows)
    for header in ("Nhiệm\nvụ", "Đơn vị/\nlãnh đạo", "Kỷ\nluật", "Phẩm\nchất", "Phê\nduyệt",
                   *(("Giới\nhạn",) if with_clamp else ()), "Tổng"):
        out.add_column(header, justify="right", no_wrap=True,
                       style="bold" if header == "Tổng" else None)
    out.add_column("Xếp loại", ratio=2, min_width=12)
    out.add_column("Rating", ratio=2, min_width=11)
    rows = ordered_rows(table, first_unit)
    for i, row in enumerate(rows):
        first_of_unit = i == 0 or row.unit_id != rows[i - 1].unit_id
        if first_of_unit and i:
            out.add_section()
        style = RATING_STYLES[row.rating]
        out.add_row(
            row.full_name + (" *" if row.flags else ""),
            str(row.position),
            row.unit_name if first_of_unit else "",
            points(row.task),
            points(row.unit) if row.post else "",
            points(row.discipline),
            points(row.conduct),
            points(row.approval) if row.approval else "",
            *((points(row.clamp) if row.clamp else "",) if with_clamp else ()),
            points(row.total),
            Text(row.rating.label_vi, style=style),
            Text(row.rating.label_en, style=style),
        )
    return out


def ordered_rows(table: ScoreTable, first_unit: UUID | None) -> list[OfficialScore]:
    """The table's own order, with the commune's leaders (chairman, secretary) on top."""
    return sorted(table.rows, key=lambda r: r.unit_id != first_unit)


def rating_summary(table: ScoreTable) -> str:
    counts = Counter(r.rating for r in table.rows)
    parts = [f"{r.label_vi}: {counts[r]}" for r in Rating if counts[r]]
    flagged = sum(1 for r in table.rows if r.flags)
    note = f"; * có lưu ý ({flagged})" if flagged else ""
    return f"{len(table.rows)} người. " + ", ".join(parts) + note


# ---------------------------------------------------------------------------- explanation

ActorName = Callable[[UUID | None, str | None], str]


@dataclass(frozen=True)
class Explanation:
    row: OfficialScore
    actor_name: ActorName

    def lines(self) -> Table:
        out = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_lines=False, expand=True)
        out.add_column("#", justify="right", style="dim")
        out.add_column("Thành phần")
        out.add_column("Điểm", justify="right")
        out.add_column("Sự kiện · người thực hiện · ghi nhận lúc (UTC)", max_width=42)
        out.add_column("Ghi chú", ratio=1)
        running = Decimal(0)
        for n, c in enumerate(self.row.contributions, start=1):
            running += c.delta
            out.add_row(
                str(n), COMPONENT_LABELS.get(c.component, c.component),
                Text(signed(c.delta), style="red" if c.delta < 0 else ""),
                self._source(c), c.note,
            )
            if n < len(self.row.contributions):
                out.add_row()
        return out

    def _source(self, c: Contribution) -> Text:
        text = Text(c.event_type, style="bold")
        if c.event_id is None:
            text.append("\n(suy ra từ các dòng khác)", style="dim")
            return text
        text.append(f"\n{c.event_id}", style="dim")
        text.append(f"\n{self.actor_name(c.actor_id, c.actor_role)}")
        text.append(f"\n{utc(c.recorded_at)}", style="dim")
        return text

    def summary(self) -> Table:
        row = self.row
        out = Table.grid(padding=(0, 2))
        out.add_column(style="bold")
        out.add_column()
        parts = [
            f"{COMPONENT_LABELS[name]} {points(getattr(row, name))}"
            for name in ("task", "unit", "discipline", "conduct", "approval", "clamp")
            if getattr(row, name) or name in ("task", "discipline", "conduct")
        ]
        added = sum((c.delta for c in row.contributions), Decimal(0))
        n = len(row.contributions)
        out.add_row("Tổng điểm", f"{points(row.total)} = {' + '.join(parts)}")
        out.add_row("Đối chiếu", f"bằng tổng {n} dòng ở trên / equals the sum of the {n} lines"
                    if added == row.total else
                    Text(f"KHÁC tổng {n} dòng ở trên ({points(added)}) / differs from the sum "
                         "of the lines", style="bold red"))
        style = RATING_STYLES[row.rating]
        out.add_row("Xếp loại", Text(f"{row.rating.label_vi} ({row.rating.label_en})", style=style))
        flags = [f"{flag_label(f)} [{f}]" for f in row.flags] or ["không có"]
        out.add_row("Lưu ý", "\n".join(flags))
        return out

    def render(self) -> RenderableType:
        row = self.row
        head = Text()
        head.append(f"Giải trình điểm: {row.full_name}", style="bold")
        head.append(f" ({row.code}), {row.position}, {row.unit_name}")
        return Group(head, self.lines(), self.summary())


# ---------------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class MissRow:
    task_title: str
    approver_name: str
    submitted_on: date
    deadline: date


def missed_deadlines(rows: list[MissRow], as_of: date) -> Table:
    out = Table(
        title=f"Quá hạn phê duyệt ghi nhận đến {as_of:%d/%m/%Y} (missed approval deadlines)",
        box=box.SIMPLE_HEAD, pad_edge=False,
    )
    out.add_column("Nhiệm vụ", ratio=3)
    out.add_column("Người phê duyệt")
    out.add_column("Nộp ngày")
    out.add_column("Hạn phê duyệt")
    for row in rows:
        out.add_row(row.task_title, row.approver_name, row.submitted_on.isoformat(),
                    row.deadline.isoformat())
    return out


# ---------------------------------------------------------------------------- JSON


def table_json(table: ScoreTable) -> dict[str, Any]:
    return {
        "cycle_id": str(table.cycle_id),
        "policy_version": table.policy_version,
        "starts_on": table.starts_on.isoformat(),
        "ends_on": table.ends_on.isoformat(),
        "digest": table.digest(),
        "rows": [row_json(r) for r in table.rows],
    }


def row_json(row: OfficialScore) -> dict[str, Any]:
    return {
        "official_id": str(row.official_id),
        "code": row.code,
        "full_name": row.full_name,
        "position": row.position,
        "unit_id": str(row.unit_id),
        "unit_name": row.unit_name,
        "post_group": row.post_group,
        "post": row.post,
        **{name: str(getattr(row, name))
           for name in ("task", "unit", "discipline", "conduct", "approval", "clamp", "total")},
        "rating": row.rating.value,
        "rating_vi": row.rating.label_vi,
        "rating_en": row.rating.label_en,
        "flags": list(row.flags),
        "contributions": [contribution_json(c) for c in row.contributions],
    }


def contribution_json(c: Contribution) -> dict[str, Any]:
    return {
        "component": c.component,
        "delta": str(c.delta),
        "event_id": c.event_id,
        "event_type": c.event_type,
        "actor_id": str(c.actor_id) if c.actor_id else None,
        "actor_role": c.actor_role,
        "recorded_at": utc(c.recorded_at) if c.recorded_at else None,
        "note": c.note,
        "basis_official_id": str(c.basis_official_id) if c.basis_official_id else None,
    }
