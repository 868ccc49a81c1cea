"""What goes over the wire: request bodies of the commands, answers of the queries, the error.

Bodies carry a command's arguments and nothing else (`extra="forbid"`): the actor is the
token's official, never a field. The types bound what storage can keep faithfully (no NUL in
text, 32-bit counts, decimals of at most 12 digits) and nothing more: the rules themselves
(no more than 24 hours a day, a task needs a product) stay in `domain/`, which names the field
when it refuses. Examples are Vietnamese, as the people who use it write.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.access import AccessRole
from domain.cycles import CycleKind
from domain.discipline import SanctionKind
from domain.org import Post, UnitKind
from domain.tasks import Deduction, KpiKind, Responsibility

T = TypeVar("T")

_NO_NUL = r"^[^\u0000]*$"
Text = Annotated[str, StringConstraints(max_length=2000, pattern=_NO_NUL)]
Name = Annotated[str, StringConstraints(max_length=200, pattern=_NO_NUL)]
Count = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Amount = Annotated[Decimal, Field(max_digits=12, decimal_places=4, allow_inf_nan=False)]
# A business date. Bounded so that deadline arithmetic (a date plus working days) can never
# run off the calendar's end in a projection, which would stop every later read.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2999, 12, 31))]

EXAMPLE_CYCLE = "0b7e1c52-8c3a-5d0e-9a41-2f7f6c1d9e10"
EXAMPLE_OFFICIAL = "3f2a9d7e-1b4c-5e6f-8a9b-0c1d2e3f4a5b"
EXAMPLE_UNIT = "7c9e6679-7425-50de-944b-e07fc1f90ae7"
EXAMPLE_TASK = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(values)})


# ------------------------------------------------------------------------------ errors


class FieldError(BaseModel):
    field: str
    reason: str


class ErrorDetail(BaseModel):
    code: str = Field(description="unauthenticated, not_authorised, not_found, conflict, invalid_input, ...")
    field: str = Field(description="the input at fault (the first, when several are)")
    reason: str
    fields: list[FieldError] = Field(description="every input at fault, with why")


class ErrorBody(BaseModel):
    """The one error shape, for every status the API answers with an error."""

    error: ErrorDetail
    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "code": "invalid_input", "field": "hours",
        "reason": "a day holds at most 24 hours; 26 would be recorded",
        "fields": [{"field": "hours", "reason": "a day holds at most 24 hours; 26 would be recorded"}],
    }}]})


# ---------------------------------------------------------------------------- answers


class Recorded(BaseModel):
    """A command's answer: the same body again when it is retried with the same Idempotency-Key."""

    command: str
    result: str | int | None = Field(description="the new record's id, a diary entry number, a digest, or null")
    model_config = ConfigDict(json_schema_extra={"examples": [{"command": "assign_task", "result": EXAMPLE_TASK}]})


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")


# ------------------------------------------------------------------------ organisation


class RegisterUnit(Body):
    code: Name
    name: Name
    kind: UnitKind
    parent_id: UUID | None = None
    model_config = examples({"code": "BN-TL-KT", "name": "Phòng Kinh tế", "kind": "department",
                             "parent_id": EXAMPLE_UNIT})


class EnrollOfficial(Body):
    code: Name
    full_name: Name
    position: Name
    unit_id: UUID
    staff_category: Name
    post_group: Name
    on: Day
    model_config = examples({"code": "TL-KT-2", "full_name": "Phạm Thị Dung", "position": "Chuyên viên",
                             "unit_id": EXAMPLE_UNIT, "staff_category": "công chức",
                             "post_group": "chuyên viên", "on": "2026-01-05"})


class TransferOfficial(Body):
    unit_id: UUID
    position: Name
    post_group: Name
    on: Day
    model_config = examples({"unit_id": EXAMPLE_UNIT, "position": "Phó Trưởng phòng",
                             "post_group": "lãnh đạo phòng", "on": "2026-04-01"})


class AppointLeader(Body):
    post: Post
    official_id: UUID
    on: Day
    model_config = examples({"post": "head", "official_id": EXAMPLE_OFFICIAL, "on": "2026-01-05"})


class RelieveLeader(Body):
    post: Post
    official_id: UUID
    on: Day
    reason: Text
    model_config = examples({"post": "head", "official_id": EXAMPLE_OFFICIAL, "on": "2026-06-30",
                             "reason": "Quyết định số 125/QĐ-UBND về việc điều động cán bộ"})


# --------------------------------------------------------------------- policy, cycles


class PolicyParamsIn(Body):
    """Any parameter left out keeps the default of policy v1 (DESIGN "Scoring policy v1")."""

    task_points: Amount | None = None
    spearhead_multiplier: Amount | None = None
    error_penalty: Amount | None = None
    delay_penalty: Amount | None = None
    delay_block_days: Count | None = None
    discipline_points: Amount | None = None
    conduct_points: Amount | None = None
    conduct_default: Amount | None = None
    criterion_points: dict[Name, Amount] | None = Field(None, max_length=50)
    leader_own_points: Amount | None = None
    leader_unit_points: Amount | None = None
    unit_part_factor_if_member_failed: Amount | None = None
    approval_deadline_days: Count | None = None
    approval_miss_points: Amount | None = None
    excellent_from: Amount | None = None
    good_from: Amount | None = None
    completed_from: Amount | None = None
    excellent_cap_ratio: Amount | None = None
    excellent_cap_rounding: Name | None = None
    failing_measures: list[Name] | None = Field(None, max_length=10)
    holidays: list[Day] | None = Field(None, max_length=366)
    max_hours_per_day: Amount | None = None
    padding_run_days: Count | None = None
    backfill_after_days: Count | None = None
    result_notice_working_days: Count | None = None
    appeal_window_days: Count | None = None
    appeal_decision_days: Count | None = None
    appeal_decision_days_complex: Count | None = None


class PublishPolicy(Body):
    version: Name
    effective_from: Day
    params: PolicyParamsIn | None = None
    model_config = examples({"version": "v2", "effective_from": "2026-07-01",
                             "params": {"approval_miss_points": "7", "holidays": ["2026-09-02"]}})


class OpenCycle(Body):
    unit_id: UUID
    kind: CycleKind
    starts_on: Day
    ends_on: Day
    policy_version: Name | None = None
    model_config = examples({"unit_id": EXAMPLE_UNIT, "kind": "15-day", "starts_on": "2026-03-02",
                             "ends_on": "2026-03-16"})


class CloseCycle(Body):
    on: Day
    model_config = examples({"on": "2026-03-17"})


class ReopenCycle(Body):
    reason: Text
    on: Day
    model_config = examples({"reason": "Quyết định giải quyết khiếu nại số 12/QĐ-HĐ ngày 02/04/2026",
                             "on": "2026-04-02"})


# ------------------------------------------------------------------------------ tasks


class AssignTask(Body):
    cycle_id: UUID
    assignee_id: UUID
    title: Text
    kind: KpiKind
    product: Text
    target_quantity: Count
    due_on: Day
    on: Day
    authority: Text
    weight: Amount = Decimal(1)
    responsibility: Responsibility = Responsibility.LEAD
    approver_id: UUID | None = None
    model_config = examples({
        "cycle_id": EXAMPLE_CYCLE, "assignee_id": EXAMPLE_OFFICIAL,
        "title": "Rà soát hồ sơ hộ nghèo, cận nghèo năm 2026", "kind": "hard",
        "product": "Báo cáo rà soát kèm danh sách hộ", "target_quantity": 1,
        "due_on": "2026-03-12", "on": "2026-03-02",
        "authority": "Trưởng phòng Kinh tế giao theo Quy chế làm việc của UBND xã", "weight": "2",
    })


class ReassignTask(Body):
    assignee_id: UUID
    reason: Text
    on: Day
    model_config = examples({"assignee_id": EXAMPLE_OFFICIAL, "reason": "Đồng chí Dung nghỉ ốm dài ngày",
                             "on": "2026-03-05"})


class SubmitTask(Body):
    """No business date: a submission is dated the day it reaches the server (Vietnam time), so
    nobody can date it earlier to escape a delay deduction."""

    quantity: Count
    note: Text = ""
    model_config = examples({"quantity": 1, "note": "Đã gửi bản báo cáo qua hệ thống văn bản điều hành"})


class ApproveTask(Body):
    """No business date: an approval is dated the day it reaches the server (Vietnam time), so an
    approver cannot date it back inside the five-working-day deadline."""

    major_errors: Count = 0
    comment: Text = ""
    model_config = examples({"major_errors": 0, "comment": "Đạt yêu cầu"})


class ReturnTask(Body):
    """Dated by the server like an approval, for the same reason."""

    comment: Text
    major_errors: Count = 0
    model_config = examples({"comment": "Bổ sung số liệu xã Tân Lập tháng 2", "major_errors": 1})


class ConfirmObjectiveCause(Body):
    deduction: Deduction
    reason: Text
    on: Day
    model_config = examples({"deduction": "delay", "reason": "Mưa lũ ngày 08/03 chia cắt thôn Đông",
                             "on": "2026-03-20"})


class RecordMissedDeadlines(Body):
    as_of: Day | None = Field(None, description="default and latest: today in Vietnam")
    model_config = examples({"as_of": "2026-03-24"})


# ------------------------------------------------------------------------------ diary


class LogWork(Body):
    cycle_id: UUID
    on: Day
    hours: Amount
    task_id: UUID | None = None
    duty: Text = ""
    products: Count = 0
    description: Text = ""
    model_config = examples({"cycle_id": EXAMPLE_CYCLE, "on": "2026-03-03", "hours": "4.5",
                             "task_id": EXAMPLE_TASK, "products": 3,
                             "description": "Khảo sát 12 hộ tại thôn Đông"})


class VoidWorkLog(Body):
    on: Day
    entry_no: Count
    reason: Text
    official_id: UUID | None = Field(None, description="another official's diary: their unit head only")
    model_config = examples({"on": "2026-03-03", "entry_no": 1, "reason": "Ghi nhầm ngày"})


# ------------------------------------------------------------------------- discipline


class ImposeSanction(Body):
    official_id: UUID
    kind: SanctionKind
    reason: Text
    on: Day
    criterion: Name = ""
    points: Amount | None = None
    evidence: Text = ""
    model_config = examples({"official_id": EXAMPLE_OFFICIAL, "kind": "deduction",
                             "criterion": "unexcused_training_absence",
                             "reason": "Vắng lớp bồi dưỡng kỹ năng số ngày 10/03 không có lý do",
                             "on": "2026-03-10", "evidence": "Danh sách điểm danh lớp bồi dưỡng"})


class RevokeSanction(Body):
    reason: Text
    on: Day
    model_config = examples({"reason": "Có giấy xác nhận nằm viện ngày 10/03", "on": "2026-03-20"})


class AssessConduct(Body):
    official_id: UUID
    cycle_id: UUID
    points: Amount
    on: Day
    note: Text = ""
    model_config = examples({"official_id": EXAMPLE_OFFICIAL, "cycle_id": EXAMPLE_CYCLE, "points": "14",
                             "on": "2026-03-16", "note": "Tận tụy, đôi lúc chậm trả lời công dân"})


# ---------------------------------------------------------------------------- targets


class SetTarget(Body):
    cycle_id: UUID
    indicator: Name
    target_value: Amount
    measure: Name
    on: Day
    model_config = examples({"cycle_id": EXAMPLE_CYCLE, "indicator": "Thu ngân sách trên địa bàn",
                             "target_value": "1200", "measure": "triệu đồng", "on": "2026-03-02"})


class ReportTargetResult(Body):
    value: Amount
    evidence: Text
    on: Day
    model_config = examples({"value": "1150", "evidence": "Báo cáo thu ngân sách của Kho bạc tháng 3",
                             "on": "2026-03-16"})


# ----------------------------------------------------------------------------- access


class GrantAccess(Body):
    official_id: UUID
    roles: list[AccessRole] = Field(min_length=1, max_length=6)
    unit_id: UUID | None = Field(None, description="the unit the token reaches (and those below it)")
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        None, description="the SHA-256 of a token you made yourself: the secret never crosses the "
        "wire, and the grant can be retried with an Idempotency-Key. Leave out to have the server "
        "make a token, shown once.",
    )
    model_config = examples({"official_id": EXAMPLE_OFFICIAL, "roles": ["unit_head"], "unit_id": EXAMPLE_UNIT})


class RevokeAccess(Body):
    reason: Text
    model_config = examples({"reason": "Đồng chí Cường thôi giữ chức Trưởng phòng từ 01/07/2026"})


class Granted(BaseModel):
    command: str
    result: str = Field(description="the access id (revoke with it)")
    token: str | None = Field(description="the bearer token, shown this once; null when you sent its hash")


class AccessOut(BaseModel):
    access_id: UUID
    official_id: UUID
    roles: list[str]
    unit_id: UUID | None
    granted_by: UUID
    granted_at: str
    revoked_by: UUID | None
    revoked_at: str | None
    reason: str | None


class Me(BaseModel):
    access_id: UUID
    official_id: UUID
    full_name: str
    roles: list[AccessRole]
    unit_id: UUID | None
    unit_name: str | None


# ---------------------------------------------------------------------------- queries


class ScoreRow(BaseModel):
    cycle_id: UUID
    official_id: UUID
    code: str
    full_name: str
    job_title: str
    unit_id: UUID
    unit_name: str
    post: str | None
    post_group: str
    task: str
    unit_part: str
    discipline: str
    conduct: str
    approval: str
    clamp: str
    total: str
    rating: str
    flags: list[str]
    computed_at: int = Field(description="the log position the row reflects")
    event_ids: list[str]
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "cycle_id": EXAMPLE_CYCLE, "official_id": EXAMPLE_OFFICIAL, "code": "TL-KT-2",
        "full_name": "Phạm Thị Dung", "job_title": "Chuyên viên", "unit_id": EXAMPLE_UNIT,
        "unit_name": "Phòng Kinh tế", "post": None, "post_group": "chuyên viên", "task": "70",
        "unit_part": "0", "discipline": "13", "conduct": "15", "approval": "0", "clamp": "0",
        "total": "98", "rating": "excellent", "flags": [], "computed_at": 412, "event_ids": [],
    }]})


class UnitScore(BaseModel):
    unit_id: UUID
    unit_name: str
    officials: int
    mean_total: str
    ratings: dict[str, int]


class LineageLine(BaseModel):
    cycle_id: UUID
    official_id: UUID
    seq: int
    event_id: str | None
    event_type: str | None
    actor_id: UUID | None
    actor_role: str | None
    recorded_at: str | None
    component: str
    delta: str
    running_total: str
    note: str | None
    basis_official_id: UUID | None
    position: int | None


class AwaitingOut(BaseModel):
    task_id: UUID
    title: str
    assignee_id: UUID
    approver_id: UUID
    submitted_on: date
    deadline: date
    overdue: bool


class DiaryEntryOut(BaseModel):
    what: str | None = Field(description="the task id, or the routine duty")
    description: str
    hours: str


class DiaryDayOut(BaseModel):
    day: date
    hours: str
    products: int
    entries: list[DiaryEntryOut]
    first_recorded_at: str


class DiaryWeekOut(BaseModel):
    week: str = Field(examples=["2026-W10"])
    hours: str


class DiaryFlagOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    flag: str = Field(description="padding, no_product or backfill: for people to look at, never a penalty")
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    days: int | None = None
    day: date | None = None
    hours: str | None = None
    recorded_on: date | None = None


class EventOut(BaseModel):
    id: int = Field(description="the log position (notification id)")
    originator_id: UUID
    originator_version: int
    topic: str
    recorded_at: datetime
    event: dict[str, Any]


class EventFeed(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="pass as `after` to follow the log")
    head: int = Field(description="the last position recorded when this page was read")

