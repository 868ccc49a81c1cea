"""The scoring fold, rule by rule, on a tiny commune (Xã An Phú, cycle 2–16 March 2026)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from uuid import uuid4

import pytest

from domain.discipline import SanctionKind
from domain.errors import NotFound
from domain.org import Official, Post, UnitKind
from domain.policy import PolicyParams
from domain.scoring import CycleFold, Rating, ScoreTable, score
from domain.tasks import Deduction, KpiKind
from tests.builders import ENDS_ON, Town, tiny_commune


def lines_of(table: ScoreTable, official: Official, component: str) -> list[D]:
    return [c.delta for c in table.row(official.id).contributions if c.component == component]


# Tasks -------------------------------------------------------------------------------------


def test_official_with_no_task_gets_full_task_points_flagged() -> None:
    c = tiny_commune()
    row = c.score().row(c.lan.id)
    assert row.task == D("70.00")
    assert "no_assigned_task" in row.flags
    assert [x.event_type for x in row.contributions if x.component == "task"] == ["CycleOpened"]


def test_task_delivered_in_full_on_time_earns_all_seventy_points() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, target=4)
    c.town.submit(task, quantity=4)
    c.town.approve(task)
    row = c.score().row(c.lan.id)
    assert row.task == D("70.00")
    assert row.total == D("100.00")
    assert row.flags.count("no_assigned_task") == 0


def test_half_the_quantity_earns_a_sixth_less() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, target=4)
    c.town.submit(task, quantity=2)
    # (q + u + p) / 3 = (0.5 + 1 + 1) / 3 of 70
    assert c.score().row(c.lan.id).task == D("58.33")


def test_task_not_submitted_by_cycle_end_scores_zero() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    row = c.score().row(c.lan.id)
    assert row.task == D("0.00")
    (only,) = [x for x in row.contributions if x.component == "task"]
    assert only.event_type == "TaskAssigned" and only.event_id == f"{task.id}:1"
    assert "chưa nộp" in only.note and "not submitted" in only.note


def test_submission_dated_after_the_cycle_does_not_count_for_it() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task, on=date(2026, 3, 17))
    assert c.score().row(c.lan.id).task == D("0.00")


def test_submitted_task_awaiting_approval_counts_as_submitted() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    row = c.score().row(c.lan.id)
    assert row.task == D("70.00")
    (submitted,) = [x for x in row.contributions if x.component == "task"]
    assert submitted.event_type == "TaskSubmitted"


def test_returned_task_not_resubmitted_scores_zero_and_resubmission_restores_it() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    c.town.return_(task, errors=1, on=date(2026, 3, 10))
    row = c.score().row(c.lan.id)
    assert row.task == D("0.00")
    assert [x.event_type for x in row.contributions if x.component == "task"] == ["TaskReturned"]

    c.town.submit(task, on=date(2026, 3, 10))
    # the error recorded on the return still costs a quarter of the quality third
    assert c.score().row(c.lan.id).task == D("64.17")


def test_each_major_error_costs_a_quarter_of_the_task_quality() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    c.town.approve(task, errors=2)
    table = c.score()
    assert lines_of(table, c.lan, "task") == [D("70.00"), D("-11.67")]
    assert table.row(c.lan.id).task == D("58.33")


def test_quality_never_falls_below_zero_however_many_errors() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    c.town.return_(task, errors=3, on=date(2026, 3, 10))
    c.town.submit(task, on=date(2026, 3, 10))
    c.town.approve(task, errors=3)
    table = c.score()
    assert lines_of(table, c.lan, "task") == [D("-17.50"), D("70.00"), D("-5.83")]
    assert table.row(c.lan.id).task == D("46.67")  # 70 × (1 + 0 + 1) / 3


@pytest.mark.parametrize(
    ("due_on", "submitted_on", "expected_task"),
    [
        (date(2026, 3, 10), date(2026, 3, 10), D("70.00")),  # on time
        (date(2026, 3, 10), date(2026, 3, 11), D("64.17")),  # 1 working day late: 1 delay
        (date(2026, 3, 3), date(2026, 3, 10), D("64.17")),  # 5 working days late: 1 delay
        (date(2026, 3, 3), date(2026, 3, 11), D("58.33")),  # 6 working days late: 2 delays
        (date(2026, 3, 6), date(2026, 3, 8), D("70.00")),  # a weekend is not late
    ],
)
def test_one_delay_per_started_block_of_five_working_days(
    due_on: date, submitted_on: date, expected_task: D
) -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=due_on)
    c.town.submit(task, on=submitted_on)
    assert c.score().row(c.lan.id).task == expected_task


def test_delay_line_says_how_late_in_both_languages() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=date(2026, 3, 3))
    c.town.submit(task, on=date(2026, 3, 11))
    delay = [x for x in c.score().row(c.lan.id).contributions if x.delta < 0]
    assert [x.note.split(" (")[0] for x in delay] == ["Nộp muộn 6 ngày làm việc"]
    assert "late by 6 working days" in delay[0].note


def test_holidays_of_the_policy_are_not_working_days() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=date(2026, 3, 10))
    c.town.submit(task, on=date(2026, 3, 11))
    policy = PolicyParams(holidays=(date(2026, 3, 11),))
    assert c.score(policy).row(c.lan.id).task == D("70.00")


def test_objective_cause_voids_the_delay_deduction() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=date(2026, 3, 3))
    c.town.submit(task, on=date(2026, 3, 11))
    c.town.confirm_objective_cause(task, Deduction.DELAY, by=c.chairman)
    table = c.score()
    assert lines_of(table, c.lan, "task") == [D("70.00"), D("-11.67"), D("11.67")]
    (voided,) = [x for x in table.row(c.lan.id).contributions if x.delta == D("11.67")]
    assert voided.event_type == "ObjectiveCauseConfirmed"
    assert voided.actor_id == c.chairman.id


def test_objective_cause_voids_the_error_deduction_but_not_the_delay() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=date(2026, 3, 10))
    c.town.submit(task, on=date(2026, 3, 11))
    c.town.approve(task, errors=1, on=date(2026, 3, 12))
    c.town.confirm_objective_cause(task, Deduction.ERRORS, by=c.chairman)
    assert c.score().row(c.lan.id).task == D("64.17")


def test_spearhead_task_weighs_one_and_a_half_times_a_hard_one() -> None:
    c = tiny_commune()
    hard = c.town.task(c.cycle, c.lan, c.culture_head, title="Hồ sơ", kind=KpiKind.HARD)
    c.town.task(c.cycle, c.lan, c.culture_head, title="Chuyển đổi số", kind=KpiKind.SPEARHEAD)
    c.town.submit(hard)
    assert c.score().row(c.lan.id).task == D("28.00")  # 70 × 1 / (1 + 1.5)


def test_soft_tasks_do_not_earn_or_cost_task_points() -> None:
    c = tiny_commune()
    c.town.task(c.cycle, c.lan, c.culture_head, kind=KpiKind.SOFT)
    row = c.score().row(c.lan.id)
    assert row.task == D("70.00") and "no_assigned_task" in row.flags


def test_reassigned_task_counts_for_the_new_assignee_only() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.reassign(task, c.minh)
    table = c.score()
    assert table.row(c.minh.id).task == D("0.00")
    assert "no_assigned_task" in table.row(c.lan.id).flags


def test_tasks_of_another_cycle_are_ignored() -> None:
    c = tiny_commune()
    april = c.town.open_cycle(c.commune, date(2026, 4, 1), date(2026, 4, 15))
    c.town.task(april, c.lan, c.culture_head, due_on=date(2026, 4, 10))
    table = c.score()
    assert table.row(c.lan.id).task == D("70.00")
    assert table.starts_on == date(2026, 3, 2)


# Discipline and conduct ----------------------------------------------------------------------


def test_unexcused_training_absence_costs_two_of_fifteen_discipline_points() -> None:
    c = tiny_commune()
    sanction = c.town.sanction(c.lan)
    table = c.score()
    assert table.row(c.lan.id).discipline == D("13.00")
    assert lines_of(table, c.lan, "discipline") == [D("15.00"), D("-2.00")]
    line = [x for x in table.row(c.lan.id).contributions if x.delta == D("-2.00")][0]
    assert line.event_id == f"{sanction.id}:1" and line.event_type == "SanctionImposed"


def test_sanction_outside_the_period_costs_nothing() -> None:
    c = tiny_commune()
    c.town.sanction(c.lan, on=date(2026, 3, 17))
    assert c.score().row(c.lan.id).discipline == D("15.00")


def test_revoked_sanction_gives_its_points_back() -> None:
    c = tiny_commune()
    c.town.revoke(c.town.sanction(c.lan))
    table = c.score()
    assert table.row(c.lan.id).discipline == D("15.00")
    assert lines_of(table, c.lan, "discipline") == [D("15.00"), D("-2.00"), D("2.00")]


def test_discipline_never_falls_below_zero() -> None:
    c = tiny_commune()
    c.town.sanction(c.lan, criterion="public_complaint", points=D(10))
    c.town.sanction(c.lan, criterion="late_reports", points=D(8))
    row = c.score().row(c.lan.id)
    assert row.discipline == D("0.00")
    floor = [x for x in row.contributions if x.event_type == "DisciplineFloor"]
    assert [x.delta for x in floor] == [D("3.00")]


def test_reprimand_rates_not_completed_whatever_the_points() -> None:
    c = tiny_commune()
    sanction = c.town.sanction(c.lan, kind=SanctionKind.REPRIMAND, criterion="")
    row = c.score().row(c.lan.id)
    assert row.total == D("100.00")
    assert row.discipline == D("15.00")
    assert row.rating is Rating.NOT_COMPLETED
    assert "failing_measure" in row.flags
    (why,) = [x for x in row.contributions if x.component == "rating"]
    assert why.event_id == f"{sanction.id}:1" and why.delta == D("0.00")
    assert "Không hoàn thành nhiệm vụ" in why.note


def test_revoked_reprimand_no_longer_rates_not_completed() -> None:
    c = tiny_commune()
    c.town.revoke(c.town.sanction(c.lan, kind=SanctionKind.REPRIMAND, criterion=""))
    row = c.score().row(c.lan.id)
    assert row.rating is not Rating.NOT_COMPLETED
    assert "failing_measure" not in row.flags


def test_conduct_is_the_latest_assessment_with_one_line_per_change() -> None:
    c = tiny_commune()
    c.town.assess(c.lan, c.cycle, D(12), by=c.culture_head)
    c.town.assess(c.lan, c.cycle, D("13.5"), by=c.culture_head)
    table = c.score()
    assert table.row(c.lan.id).conduct == D("13.50")
    assert lines_of(table, c.lan, "conduct") == [D("12.00"), D("1.50")]
    assert "conduct_not_assessed" not in table.row(c.lan.id).flags


def test_unassessed_conduct_counts_as_the_policy_default_flagged() -> None:
    c = tiny_commune()
    row = c.score(PolicyParams(conduct_default=D(10))).row(c.lan.id)
    assert row.conduct == D("10.00")
    assert "conduct_not_assessed" in row.flags


# Approval duty ----------------------------------------------------------------------------


def test_approver_who_lets_five_working_days_pass_loses_five_points() -> None:
    c = tiny_commune()
    policy = PolicyParams()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task, on=date(2026, 3, 9))
    deadline = policy.calendar.add_working_days(date(2026, 3, 9), policy.approval_deadline_days)
    missed = c.town.miss(task, deadline)
    table = c.score(policy)
    row = table.row(c.culture_head.id)
    assert row.approval == D("-5.00")
    (line,) = [x for x in row.contributions if x.component == "approval"]
    assert line.event_id == f"{missed.id}:1"
    assert line.event_type == "ApprovalDeadlineMissed"
    assert table.row(c.lan.id).task == D("70.00")  # the official is not penalised


# Leaders' unit part --------------------------------------------------------------------------


def test_department_head_unit_part_is_the_mean_member_score() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head, due_on=date(2026, 3, 3))
    c.town.submit(task, on=date(2026, 3, 11))  # Lan: 58.33 + 30 = 88.33; Minh: 100
    row = c.score().row(c.culture_head.id)
    unit = [x for x in row.contributions if x.component == "unit"]
    assert {x.basis_official_id: x.delta for x in unit} == {
        c.lan.id: D("15.46"),  # 35 × 88.33 / 100 / 2
        c.minh.id: D("17.50"),
    }
    assert {x.event_type for x in unit} == {"MemberScore"}
    assert row.unit == D("32.96")
    assert row.task == D("35.00")  # own tasks: 35, here none due


def test_unit_part_halved_when_a_member_is_not_completed() -> None:
    c = tiny_commune()
    c.town.sanction(c.minh, kind=SanctionKind.WARNING, criterion="")
    table = c.score()
    head = table.row(c.culture_head.id)
    assert head.unit == D("17.50")
    assert [x.event_type for x in head.contributions if x.component == "unit"] == [
        "MemberScore", "MemberScore", "MemberNotCompleted",
    ]
    assert table.row(c.office_head.id).unit == D("35.00")  # another department is unaffected
    # the commune's leaders are halved too: Minh is an official of the commune
    assert table.row(c.chairman.id).unit == D("17.50")


def test_chairman_and_secretary_receive_the_same_unit_part() -> None:
    c = tiny_commune()
    budget = c.town.target(c.commune, c.cycle, "Thu ngân sách", D(100))
    c.town.target(c.commune, c.cycle, "Giảm hộ nghèo", D(10))
    poverty = c.town.target(c.commune, c.cycle, "Cấp nước sạch", D(50))
    c.town.report(budget, D(80))
    c.town.report(poverty, D(60))
    table = c.score()
    chairman, secretary = table.row(c.chairman.id), table.row(c.secretary.id)
    # mean(0.8, 0 (not reported), 1) × 35
    assert chairman.unit == secretary.unit == D("21.00")
    as_lines = [
        (x.event_id, x.delta, x.note) for x in chairman.contributions if x.component == "unit"
    ]
    assert as_lines == [
        (x.event_id, x.delta, x.note) for x in secretary.contributions if x.component == "unit"
    ]
    assert "target_without_result" in chairman.flags and "target_without_result" in secretary.flags


def test_commune_without_targets_gives_its_leaders_the_full_unit_part_flagged() -> None:
    c = tiny_commune()
    row = c.score().row(c.secretary.id)
    assert row.unit == D("35.00") and "no_targets" in row.flags


def test_head_relieved_before_the_cycle_ends_is_scored_as_a_member() -> None:
    c = tiny_commune()
    c.town.relieve(c.culture, Post.HEAD, c.culture_head, on=date(2026, 3, 10))
    table = c.score()
    row = table.row(c.culture_head.id)
    assert row.post is None and row.task == D("70.00") and row.unit == D("0.00")
    assert table.row(c.chairman.id).post == "chairman"


def test_head_of_a_department_without_other_members_gets_the_full_unit_part() -> None:
    town = Town()
    commune = town.unit("X", "Xã Bình Minh", UnitKind.COMMUNE)
    legal = town.unit("X-TP", "Phòng Tư pháp", UnitKind.DEPARTMENT, commune)
    head = town.official("TP01", "Ngô Văn Tư", legal, "Trưởng phòng", "leader")
    town.appoint(legal, Post.HEAD, head)
    cycle = town.open_cycle(commune)
    row = town.score(cycle).row(head.id)
    assert row.unit == D("35.00") and "no_members" in row.flags and row.post == "head"


# Total, clamp, ratings, cap -----------------------------------------------------------------


def test_total_is_clamped_at_zero_by_a_clamp_line() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task, on=date(2026, 3, 2))
    c.town.miss(task, date(2026, 3, 9))
    c.town.miss(task, date(2026, 3, 10))
    row = c.score(PolicyParams(approval_miss_points=D(60))).row(c.culture_head.id)
    assert row.approval == D("-120.00")
    # 35 own tasks + 35 unit + 15 + 15 − 120 = −20
    assert row.clamp == D("20.00") and row.total == D("0.00")
    assert row.total == sum(x.delta for x in row.contributions)


def test_total_over_a_hundred_under_an_unbalanced_policy_is_clamped() -> None:
    c = tiny_commune()
    row = c.score(PolicyParams(task_points=D(80))).row(c.lan.id)
    assert (row.task, row.clamp, row.total) == (D("80.00"), D("-10.00"), D("100.00"))


def _group_with(
    conducts: list[D], rounding: str = "down", policy: PolicyParams | None = None
) -> tuple[Town, list[Official], ScoreTable]:
    """Officials of one post group, scored 70 + 15 + conduct each (no leaders)."""
    town = Town()
    commune = town.unit("X", "Xã Bình Minh", UnitKind.COMMUNE)
    officials = [town.official(f"O{i}", f"Cán bộ {i}", commune) for i in range(len(conducts))]
    cycle = town.open_cycle(commune)
    for official, points in zip(officials, conducts, strict=True):
        town.assess(official, cycle, points)
    policy = policy or PolicyParams(excellent_cap_rounding=rounding)
    return town, officials, town.score(cycle, policy)


def test_excellent_ratings_beyond_twenty_percent_of_good_are_rated_good_lowest_first() -> None:
    # five "good" at 85, three "excellent" at 100, 97 and 95: at most floor(0.2 × 5) = 1 stays
    _, officials, table = _group_with([D(0)] * 5 + [D(15), D(12), D(10)])
    top, second, third = (table.row(o.id) for o in officials[5:])
    assert top.rating is Rating.EXCELLENT
    assert second.rating is third.rating is Rating.GOOD
    assert "capped_excellent" in second.flags and "capped_excellent" not in top.flags
    (why,) = [x for x in third.contributions if x.component == "rating"]
    assert why.delta == D("0.00") and "20%" in why.note and "rated good" in why.note
    assert second.total == D("97.00")  # the cap changes the rating, never the points


def test_excellent_cap_ties_demote_the_smaller_official_id_first() -> None:
    _, officials, table = _group_with([D(0)] * 5 + [D(15), D(15)])
    tied = sorted(officials[5:], key=lambda o: str(o.id))
    assert table.row(tied[0].id).rating is Rating.GOOD
    assert table.row(tied[1].id).rating is Rating.EXCELLENT


def test_excellent_cap_rounding_is_a_policy_parameter() -> None:
    _, officials, down = _group_with([D(0)] * 3 + [D(15)], rounding="down")
    _, officials_half_up, half_up = _group_with([D(0)] * 3 + [D(15)], rounding="half_up")
    assert down.row(officials[3].id).rating is Rating.GOOD  # floor(0.6) = 0
    assert half_up.row(officials_half_up[3].id).rating is Rating.EXCELLENT  # round(0.6) = 1


@pytest.mark.parametrize(
    ("conduct", "rating"),
    [(D(12), Rating.EXCELLENT), (D(5), Rating.GOOD), (D(0), Rating.GOOD)],
)
def test_rating_thresholds_come_from_the_policy(conduct: D, rating: Rating) -> None:
    # 85 + conduct; with excellent from 95, 90 is only "good"; five others at 85 leave room
    policy = PolicyParams(excellent_from=D(95))
    _, officials, table = _group_with([D(0)] * 5 + [conduct], policy=policy)
    assert table.row(officials[-1].id).rating is rating


def test_ratings_carry_their_vietnamese_names() -> None:
    assert Rating.EXCELLENT.label_vi == "Hoàn thành xuất sắc nhiệm vụ"
    assert Rating.GOOD.label_vi == "Hoàn thành tốt nhiệm vụ"
    assert Rating.COMPLETED.label_vi == "Hoàn thành nhiệm vụ"
    assert Rating.NOT_COMPLETED.label_vi == "Không hoàn thành nhiệm vụ"


# What-if, lineage, table ---------------------------------------------------------------------


def test_what_if_under_another_policy_reprices_the_deduction() -> None:
    c = tiny_commune()
    c.town.sanction(c.lan)
    stricter = PolicyParams(criterion_points=(("unexcused_training_absence", D(3)),))
    pinned = score(PolicyParams(), c.cycle.id, c.town.events)
    what_if = score(stricter, c.cycle.id, c.town.events, policy_version="v2-draft")
    assert pinned.row(c.lan.id).discipline == D("13.00")
    assert what_if.row(c.lan.id).discipline == D("12.00")
    assert (pinned.policy_version, what_if.policy_version) == ("v1", "v2-draft")


def test_contribution_names_its_event_author_and_recording_time() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    submitted = c.town.events[-1]
    (line,) = [x for x in c.score().row(c.lan.id).contributions if x.component == "task"]
    assert line.event_id == f"{task.id}:2"
    assert line.event_type == "TaskSubmitted"
    assert (line.actor_id, line.actor_role) == (c.lan.id, "official")
    assert line.recorded_at == submitted.timestamp  # type: ignore[attr-defined]


def test_total_equals_the_sum_of_the_contributions_to_the_cent() -> None:
    c = tiny_commune()
    for i, official in enumerate(c.staff):
        task = c.town.task(c.cycle, official, c.culture_head, target=3, weight=D(i + 1))
        c.town.submit(task, quantity=i, on=date(2026, 3, 11 + i))
        c.town.approve(task, errors=i, on=date(2026, 3, 14))
    for row in c.score().rows:
        assert row.total == sum((x.delta for x in row.contributions), D(0))
        assert row.total == row.task + row.unit + row.discipline + row.conduct + row.approval + (
            row.clamp
        )


def test_officials_scored_are_those_of_the_commune_on_its_last_day() -> None:
    c = tiny_commune()
    elsewhere = c.town.unit("XA-KHAC", "Xã Khác", UnitKind.COMMUNE)
    late = c.town.official("VH09", "Mai Văn Muộn", c.culture, on=date(2026, 3, 17))
    leaving = c.town.official("VH08", "Kiều Thị Đi", c.culture)
    staying = c.town.official("VH07", "Lý Văn Ở", c.culture)
    c.town.transfer(leaving, elsewhere, on=date(2026, 3, 10))
    c.town.transfer(staying, elsewhere, on=date(2026, 3, 17))
    ids = {row.official_id for row in c.score().rows}
    assert staying.id in ids
    assert late.id not in ids and leaving.id not in ids


def test_rows_are_ordered_by_unit_then_leaders_then_name() -> None:
    c = tiny_commune()
    assert [row.full_name for row in c.score().rows] == [
        "Lê Văn Hùng", "Hoàng Văn Minh", "Phạm Thị Lan",  # Phòng Văn hóa - Xã hội
        "Đỗ Thị Hoa", "Vũ Văn Nam",  # Văn phòng HĐND-UBND
        "Nguyễn Văn Chung", "Trần Thị Bích",  # Xã An Phú
    ]


def test_table_before_the_cycle_opened_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        CycleFold(uuid4()).table(PolicyParams())
    assert raised.value.field == "cycle_id"


def test_row_of_an_official_not_in_the_cycle_is_not_found() -> None:
    with pytest.raises(NotFound) as raised:
        tiny_commune().score().row(uuid4())
    assert raised.value.field == "official_id"


def test_digest_is_byte_stable_and_follows_the_scores() -> None:
    c = tiny_commune()
    first = c.score().digest()
    assert first == score(PolicyParams(), c.cycle.id, list(c.town.events)).digest()
    assert len(first) == 64
    c.town.sanction(c.lan)
    assert c.score().digest() != first


def test_fold_ignores_irrelevant_and_repeated_events() -> None:
    c = tiny_commune()
    task = c.town.task(c.cycle, c.lan, c.culture_head)
    c.town.submit(task)
    fold = CycleFold(c.cycle.id)
    for event in [*c.town.events, *c.town.events, object(), "noise", None]:
        fold.apply(event)
    assert fold.table(PolicyParams()).digest() == c.score().digest()
    assert ENDS_ON == fold.table(PolicyParams()).ends_on
