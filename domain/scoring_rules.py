"""The scoring rules other than tasks: general criteria, approval duty, leaders' unit part,
the clamp, the rating and the cap on "excellent" (DESIGN "Scoring policy v1").

Each rule returns the lines it adds; `domain.scoring` decides whom it applies to and in which
order (members before their leaders).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from uuid import UUID

from domain.cycles import Cycle
from domain.discipline import CRITERION_LABELS, ConductAssessment, Sanction, SanctionKind
from domain.policy import PolicyParams
from domain.score_lines import (
    APPROVAL,
    CLAMP,
    CONDUCT,
    DISCIPLINE,
    RATING,
    UNIT,
    Contribution,
    Rating,
    derived_line,
    fmt_day,
    fmt_points,
    line,
    total_of,
)
from domain.scoring_roster import History, Member
from domain.targets import Target
from domain.tasks import MissedApproval

HUNDRED = Decimal(100)

_MEASURES_VI = {
    SanctionKind.REPRIMAND: "Khiển trách",
    SanctionKind.WARNING: "Cảnh cáo",
    SanctionKind.DEMOTION: "Giáng chức / hạ bậc",
    SanctionKind.DISMISSAL: "Buộc thôi việc / cách chức",
}


def discipline_lines(
    official_id: UUID, sanctions: Sequence[History], opened: Cycle.CycleOpened, policy: PolicyParams
) -> tuple[list[Contribution], list[str], bool]:
    """Discipline, 15 points: starts full, each deduction in the period costs its points.

    The points come from the policy's criterion list when it names the criterion (so a what-if
    under another policy re-prices them), else from the sanction itself. A revocation gives
    them back. The component never falls below 0 (a floor line). A formal measure of reprimand
    or heavier, not revoked, costs no points here but rates the period "not completed"; it is
    returned as `failing` and explained by a 0.00 rating line on the sanction.
    """
    lines = [
        line(official_id, DISCIPLINE, policy.discipline_points, opened,
             "Điểm kỷ luật, kỷ cương ban đầu / discipline points at the start of the cycle")
    ]
    flags: list[str] = []
    failing = False
    for history in sanctions:
        imposed = history[0] if history else None
        if not isinstance(imposed, Sanction.SanctionImposed):
            continue
        if not opened.starts_on <= imposed.occurred_on <= opened.ends_on:
            continue
        revoked = next((e for e in history if isinstance(e, Sanction.SanctionRevoked)), None)
        if imposed.kind is SanctionKind.DEDUCTION:
            known = policy.criterion_deduction(imposed.criterion)
            points = known if known is not None else (imposed.points or Decimal(0))
            lines.append(line(
                official_id, DISCIPLINE, -points, imposed,
                f"Vi phạm «{CRITERION_LABELS.get(imposed.criterion, imposed.criterion)}»: "
                f"trừ {fmt_points(points)} điểm / "
                f"breach of {imposed.criterion}: −{fmt_points(points)} points",
            ))
            if revoked is not None:
                lines.append(line(
                    official_id, DISCIPLINE, points, revoked,
                    f"Hủy xử lý vi phạm: hoàn {fmt_points(points)} điểm / "
                    f"sanction revoked: {fmt_points(points)} points restored",
                ))
        elif imposed.kind.value in policy.failing_measures:
            measure = _MEASURES_VI.get(imposed.kind, imposed.kind.value)
            if revoked is None:
                failing = True
                flags.append("failing_measure")
                lines.append(line(
                    official_id, RATING, Decimal(0), imposed,
                    f"{measure}: xếp loại Không hoàn thành nhiệm vụ dù điểm số thế nào / "
                    f"{imposed.kind.value}: rated not completed whatever the points",
                ))
            else:
                lines.append(line(
                    official_id, RATING, Decimal(0), revoked,
                    f"Hủy hình thức {measure.lower()}: không còn ảnh hưởng xếp loại / "
                    f"{imposed.kind.value} revoked: no longer affects the rating",
                ))
    below = total_of(lines, DISCIPLINE)
    if below < 0:
        lines.append(derived_line(
            official_id, DISCIPLINE, -below, "DisciplineFloor",
            "Điểm kỷ luật không thấp hơn 0 / discipline points never fall below 0",
        ))
    return lines, flags, failing


def conduct_lines(
    official_id: UUID,
    assessments: Sequence[History],
    opened: Cycle.CycleOpened,
    policy: PolicyParams,
) -> tuple[list[Contribution], list[str]]:
    """Conduct, 15 points: the unit head's latest assessment; each reassessment moves it.

    Not yet assessed counts as the policy's default, flagged for the monitoring team. An
    assessment above a what-if policy's maximum is capped to it.
    """
    lines: list[Contribution] = []
    previous = Decimal(0)
    for history in assessments:
        for ev in history:
            if isinstance(ev, ConductAssessment.ConductAssessed):
                lines.append(line(
                    official_id, CONDUCT, ev.points - previous, ev,
                    f"Đánh giá phẩm chất, tác phong: {fmt_points(ev.points)} điểm / "
                    f"conduct assessed at {fmt_points(ev.points)} points",
                ))
                previous = ev.points
    if not lines:
        note = (
            "Chưa đánh giá phẩm chất, tác phong: tính mặc định / "
            "conduct not assessed: policy default"
        )
        return [line(official_id, CONDUCT, policy.conduct_default, opened, note)], [
            "conduct_not_assessed"
        ]
    if previous > policy.conduct_points:
        lines.append(derived_line(
            official_id, CONDUCT, policy.conduct_points - previous, "ConductCap",
            f"Tối đa {fmt_points(policy.conduct_points)} điểm theo chính sách / "
            f"at most {fmt_points(policy.conduct_points)} points under this policy",
        ))
    return lines, []


def approval_lines(
    official_id: UUID,
    misses: Sequence[MissedApproval.ApprovalDeadlineMissed],
    policy: PolicyParams,
) -> list[Contribution]:
    """Approval duty: each lapsed approval deadline costs the approver (seed 004: −5 each)."""
    return [
        line(
            official_id, APPROVAL, -policy.approval_miss_points, miss,
            f"Quá hạn phê duyệt (nộp {fmt_day(miss.submitted_on)}, hạn {fmt_day(miss.deadline)}) / "
            f"approval deadline {miss.deadline.isoformat()} missed",
        )
        for miss in misses
    ]


def member_unit_lines(
    head_id: UUID, members: Sequence[tuple[Member, Decimal]], opened: Cycle.CycleOpened,
    policy: PolicyParams,
) -> tuple[list[Contribution], list[str]]:
    """A unit head's unit part: 35 × the mean member score / 100, one line per member."""
    points = policy.leader_unit_points
    if not members:
        note = "Đơn vị không có thành viên khác: đủ điểm / no other members in the unit: full"
        return [line(head_id, UNIT, points, opened, note)], ["no_members"]
    count = Decimal(len(members))
    return [
        derived_line(
            head_id, UNIT, points * total / HUNDRED / count, "MemberScore",
            f"Điểm của {member.full_name}: {fmt_points(total)}/100 / "
            f"member {member.full_name} scored {fmt_points(total)}",
            basis_official_id=member.official_id,
        )
        for member, total in members
    ], []


def target_unit_lines(
    leader_id: UUID, targets: Sequence[History], opened: Cycle.CycleOpened, policy: PolicyParams
) -> tuple[list[Contribution], list[str]]:
    """The commune's unit part: 35 × mean attainment `min(result / target, 1)` of its targets.

    The chairman and the secretary both receive it (joint accountability), line for line.
    """
    points = policy.leader_unit_points
    if not targets:
        note = "Xã chưa được giao chỉ tiêu trong kỳ: đủ điểm / no commune targets set: full points"
        return [line(leader_id, UNIT, points, opened, note)], ["no_targets"]
    count = Decimal(len(targets))
    lines: list[Contribution] = []
    flags: list[str] = []
    for history in targets:
        target_set = history[0]
        if not isinstance(target_set, Target.TargetSet):
            continue
        reported = [e for e in history if isinstance(e, Target.TargetResultReported)]
        if not reported:
            flags.append("target_without_result")
            lines.append(line(
                leader_id, UNIT, Decimal(0), target_set,
                f"Chỉ tiêu «{target_set.indicator}» chưa báo cáo kết quả / "
                f"target {target_set.indicator}: no result reported",
            ))
            continue
        latest = reported[-1]
        attained = (
            min(latest.value / target_set.target_value, Decimal(1))
            if target_set.target_value > 0
            else Decimal(1)  # TargetSet refuses this; a fold must still never divide by zero
        )
        lines.append(line(
            leader_id, UNIT, points * attained / count, latest,
            f"Chỉ tiêu «{target_set.indicator}»: đạt {fmt_points(latest.value)}/"
            f"{fmt_points(target_set.target_value)} {target_set.measure} / "
            f"target {target_set.indicator}: {fmt_points(latest.value)} of "
            f"{fmt_points(target_set.target_value)} {target_set.measure}",
        ))
    return lines, flags


def reduction_lines(
    leader_id: UUID, unit_lines: Sequence[Contribution], failing: Sequence[Member],
    policy: PolicyParams,
) -> tuple[list[Contribution], list[str]]:
    """The unit part is halved (a policy factor) if any member is rated "not completed"."""
    if not failing:
        return [], []
    factor = policy.unit_part_factor_if_member_failed
    names = ", ".join(m.full_name for m in failing)
    cut = -(total_of(list(unit_lines), UNIT) * (Decimal(1) - factor))
    return [derived_line(
        leader_id, UNIT, cut, "MemberNotCompleted",
        f"{len(failing)} thành viên Không hoàn thành nhiệm vụ ({names}): phần kết quả đơn vị × "
        f"{fmt_points(factor)} / {len(failing)} member(s) rated not completed: unit part × "
        f"{fmt_points(factor)}",
        basis_official_id=failing[0].official_id,
    )], ["unit_part_reduced"]


def clamp_lines(official_id: UUID, lines: Sequence[Contribution]) -> list[Contribution]:
    """The total stays within [0, 100]; the clamp is itself a line, so lines always sum to it."""
    total = total_of(list(lines))
    bound = HUNDRED if total > HUNDRED else Decimal(0) if total < 0 else None
    if bound is None:
        return []
    return [derived_line(
        official_id, CLAMP, bound - total, "Clamp",
        f"Tổng điểm giới hạn trong khoảng 0-100 / total clamped to [0, 100] at {bound}",
    )]


def rating_for(total: Decimal, failing_measure: bool, policy: PolicyParams) -> Rating:
    """Thresholds of the policy; a formal measure of reprimand or heavier overrides them."""
    if failing_measure:
        return Rating.NOT_COMPLETED
    if total >= policy.excellent_from:
        return Rating.EXCELLENT
    if total >= policy.good_from:
        return Rating.GOOD
    if total >= policy.completed_from:
        return Rating.COMPLETED
    return Rating.NOT_COMPLETED


def excellent_cap(
    rated: Sequence[tuple[Member, Decimal, Rating]], policy: PolicyParams
) -> dict[UUID, Contribution]:
    """Decree 90/2020 art. 20: per agency and group of similar posts, "excellent" may not exceed
    20 % of the number rated "good" (rounded down by default); the excess, lowest total first
    (ties: smaller official id), is rated "good". Returns a 0.00 rating line per demoted official.

    The cap holds for the ratings as finally given: those demoted count among the "good", so
    the number kept is the largest k with k <= ratio x (good + excellent - k), rounded.

    The caller passes one agency (the commune with its departments) at a time.
    """
    groups: dict[str, list[tuple[Member, Decimal, Rating]]] = defaultdict(list)
    for row in rated:
        groups[row[0].post_group].append(row)
    rounding = ROUND_FLOOR if policy.excellent_cap_rounding == "down" else ROUND_HALF_UP
    percent = fmt_points(policy.excellent_cap_ratio * HUNDRED)
    demoted: dict[UUID, Contribution] = {}
    for group, rows in groups.items():
        good_before = sum(1 for _, _, rating in rows if rating is Rating.GOOD)
        candidates = sum(1 for _, _, rating in rows if rating is Rating.EXCELLENT)

        allowed = max(
            k for k in range(candidates + 1)
            if k <= int((policy.excellent_cap_ratio * (good_before + candidates - k))
                        .quantize(Decimal(1), rounding=rounding))
        )
        good = good_before + candidates - allowed
        excellent = sorted(
            ((m, total) for m, total, rating in rows if rating is Rating.EXCELLENT),
            key=lambda mt: (mt[1], str(mt[0].official_id)),
        )
        for member, _ in excellent[: max(0, len(excellent) - allowed)]:
            demoted[member.official_id] = derived_line(
                member.official_id, RATING, Decimal(0), "ExcellentCap",
                f"Vượt tỷ lệ {percent}% số Hoàn thành tốt của nhóm «{group}» ({good} người, tối "
                f"đa {allowed} xuất sắc): xếp loại Hoàn thành tốt nhiệm vụ / beyond the cap of "
                f"{percent}% of those rated good in post group {group} ({good}; at most {allowed} "
                "excellent): rated good",
            )
    return demoted
