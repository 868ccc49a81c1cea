"""Task results: 70 of the 100 points (35 for a leader's own tasks), Decree 335 as summarised.

Each hard or spearhead task of the cycle takes a share of the points in proportion to its weight
(spearhead ×1.5) and earns `(q + u + p) / 3` of it: quantity, quality (−25 % per major error the
approver records), progress (−25 % per started block of 5 working days late). The lines make that
sum visible event by event: the submission brings `share·(q + 1 + 1)/3`, each approval or return
that records errors takes back its part of quality, the lateness of the submission takes back its
part of progress, and an `ObjectiveCauseConfirmed` gives a voided deduction back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from domain.cycles import Cycle
from domain.policy import PolicyParams
from domain.score_lines import TASK, Contribution, fmt_day, fmt_points, line, total_of
from domain.scoring_roster import History
from domain.tasks import Deduction, KpiKind, Task

ONE = Decimal(1)
THREE = Decimal(3)


def current_assignee(history: History) -> UUID | None:
    """The assignee after the last reassignment: a reassigned task is scored for its new owner."""
    assignee: UUID | None = None
    for ev in history:
        if isinstance(ev, Task.TaskAssigned | Task.TaskReassigned):
            assignee = ev.assignee_id
    return assignee


def scored_assignment(history: History) -> Task.TaskAssigned | None:
    """The task's assignment if it earns task points: hard and spearhead KPIs do, soft ones not."""
    assigned = history[0] if history else None
    if isinstance(assigned, Task.TaskAssigned) and assigned.kind is not KpiKind.SOFT:
        return assigned
    return None


def task_lines(
    official_id: UUID,
    points: Decimal,
    tasks: Sequence[History],
    opened: Cycle.CycleOpened,
    policy: PolicyParams,
) -> tuple[list[Contribution], list[str]]:
    """Lines of the task component over the official's scored tasks (see the module docstring).

    With no task due the official gets the full points, flagged for the monitoring team
    (DESIGN: "an official with no task due gets the full 70, flagged").
    """
    scored = [(a, h) for h in tasks if (a := scored_assignment(h)) is not None]
    if not scored:
        note = "Không có nhiệm vụ KPI cứng/mũi nhọn trong kỳ / no hard or spearhead task due"
        return [line(official_id, TASK, points, opened, note)], ["no_assigned_task"]
    weights = [_effective_weight(assigned, policy) for assigned, _ in scored]
    all_weight = sum(weights, Decimal(0))
    lines: list[Contribution] = []
    for (assigned, history), weight in zip(scored, weights, strict=True):
        share = points * weight / all_weight
        lines += _one_task(official_id, share, assigned, history, opened.ends_on, policy)
    return lines, []


def _effective_weight(assigned: Task.TaskAssigned, policy: PolicyParams) -> Decimal:
    if assigned.kind is KpiKind.SPEARHEAD:
        return assigned.weight * policy.spearhead_multiplier
    return assigned.weight


def standing_submission(
    history: History, ends_on: date
) -> tuple[Task.TaskSubmitted | None, Task.TaskReturned | None]:
    """The submission that stands at the end of the cycle, or the return that undid it.

    Business dates decide (DESIGN "Time"): a submission dated after the cycle's last day does not
    count for it, nor does a return dated after it; a submission awaiting the approver counts as
    submitted (the official is not penalised for the approver's silence).
    """
    submitted: Task.TaskSubmitted | None = None
    returned: Task.TaskReturned | None = None
    for ev in history:
        if isinstance(ev, Task.TaskSubmitted) and ev.occurred_on <= ends_on:
            submitted, returned = ev, None
        elif isinstance(ev, Task.TaskReturned) and ev.occurred_on <= ends_on and submitted is not None:
            submitted, returned = None, ev
    return submitted, returned


def _one_task(
    official_id: UUID,
    share: Decimal,
    assigned: Task.TaskAssigned,
    history: History,
    ends_on: date,
    policy: PolicyParams,
) -> list[Contribution]:
    title = assigned.title
    submitted, returned = standing_submission(history, ends_on)
    if submitted is None:
        if returned is not None:
            note = (
                f"«{title}» bị trả lại, chưa nộp lại trước khi kết thúc kỳ: 0 điểm / "
                "returned and not resubmitted by the end of the cycle: 0 points"
            )
            return [line(official_id, TASK, Decimal(0), returned, note)]
        note = (
            f"«{title}» chưa nộp trước khi kết thúc kỳ (hạn {fmt_day(assigned.due_on)}): 0 điểm / "
            "not submitted by the end of the cycle: 0 points"
        )
        return [line(official_id, TASK, Decimal(0), assigned, note)]

    quantity = (
        min(Decimal(submitted.quantity) / Decimal(assigned.target_quantity), ONE)
        if assigned.target_quantity > 0
        else ONE  # `check_terms` refuses this; a fold must still never divide by zero
    )
    lines = [
        line(
            official_id, TASK, share * (quantity + 2) / THREE, submitted,
            f"Nộp «{title}»: {submitted.quantity}/{assigned.target_quantity} sản phẩm, "
            f"phần {fmt_points(share)} điểm / submitted {submitted.quantity} of "
            f"{assigned.target_quantity}, share {fmt_points(share)} points",
        )
    ]
    delay = _delay_line(official_id, share, assigned, submitted, policy)
    lines += [delay] if delay is not None else []
    error_lines = _error_lines(official_id, share, history, policy)
    lines += error_lines
    lines += _void_lines(official_id, history, Deduction.ERRORS, error_lines)
    lines += _void_lines(official_id, history, Deduction.DELAY, [delay] if delay else [])
    return lines


def _delay_line(
    official_id: UUID,
    share: Decimal,
    assigned: Task.TaskAssigned,
    submitted: Task.TaskSubmitted,
    policy: PolicyParams,
) -> Contribution | None:
    """One delay per started block of `delay_block_days` working days after the due date."""
    late = policy.calendar.working_days_between(assigned.due_on, submitted.occurred_on)
    delays = -(-late // policy.delay_block_days)
    if delays == 0:
        return None
    progress = max(Decimal(0), ONE - policy.delay_penalty * delays)
    return line(
        official_id, TASK, -share / THREE * (ONE - progress), submitted,
        f"Nộp muộn {late} ngày làm việc ({delays} lần chậm) / "
        f"late by {late} working day{_s(late)} ({delays} delay{_s(delays)})",
    )


def _error_lines(
    official_id: UUID, share: Decimal, history: History, policy: PolicyParams
) -> list[Contribution]:
    """Each approval or return that records major errors takes back its part of quality.

    Errors add up over the task's life (all approvals and returns); the quality factor never
    falls below 0, so once it is spent further errors take nothing more.
    """
    lines: list[Contribution] = []
    errors = 0
    for ev in history:
        if isinstance(ev, Task.TaskApproved | Task.TaskReturned) and ev.major_errors > 0:
            before = max(Decimal(0), ONE - policy.error_penalty * errors)
            errors += ev.major_errors
            after = max(Decimal(0), ONE - policy.error_penalty * errors)
            approved = isinstance(ev, Task.TaskApproved)
            act_vi, act_en = ("phê duyệt", "approval") if approved else ("trả lại", "return")
            lines.append(
                line(
                    official_id, TASK, -share / THREE * (before - after), ev,
                    f"{ev.major_errors} lỗi lớn khi {act_vi} / "
                    f"{ev.major_errors} major error{_s(ev.major_errors)} found on {act_en}",
                )
            )
    return lines


def _void_lines(
    official_id: UUID, history: History, kind: Deduction, deductions: list[Contribution]
) -> list[Contribution]:
    """An objective cause confirmed by the approver's superior voids that kind of deduction.

    The confirmation names a kind, not an approval, so it voids the task's whole deduction of
    that kind; the first confirmation gives it back, later ones have nothing left to void.
    """
    errors = kind is Deduction.ERRORS
    what_vi, what_en = ("do lỗi", "for errors") if errors else ("do chậm", "for delay")
    lines: list[Contribution] = []
    for ev in history:
        if isinstance(ev, Task.ObjectiveCauseConfirmed) and ev.deduction is kind:
            amount = -total_of(deductions) if not lines else Decimal(0)
            lines.append(
                line(
                    official_id, TASK, amount, ev,
                    f"Nguyên nhân khách quan: miễn trừ khấu trừ {what_vi} / "
                    f"objective cause confirmed: deduction {what_en} void",
                )
            )
    return lines


def _s(count: int) -> str:
    return "" if count == 1 else "s"
