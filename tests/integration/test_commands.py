"""Every Ledger command, on SQLite and PostgreSQL: what it records, and what it refuses.

A happy path checks the event read back from the log: its type, its fields typed as they were
given (`date`, `Decimal`, `UUID`, enums), and the actor and command id stamped on it. A refusal
checks the error type, the field it names, and that the log did not move.

Speed: one ledger per backend for the module, and a fresh commune (own codes, own cycle, own
command ids) for each test, so tests cannot see each other's records. The deadline watcher scans
the whole log, so its tests get a fresh database each (`backend_env`).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest

from domain.actors import SYSTEM, Actor
from domain.cycles import Cycle, CycleKind
from domain.diary import DiaryDay, diary_day_id
from domain.discipline import ConductAssessment, Sanction, SanctionKind
from domain.errors import Conflict, InvalidInput, LedgerError, NotAuthorised, NotFound
from domain.ledger import Ledger
from domain.org import Official, Post, Unit, UnitKind, official_id_for, unit_id_for
from domain.persistence import IMMUTABLE_MESSAGE
from domain.policy import PolicyParams, ScoringPolicies
from domain.receipts import CommandReceipt
from domain.roles import Role
from domain.targets import Target
from domain.tasks import Deduction, KpiKind, MissedApproval, Responsibility, Task
from tests.backends import connect_direct, postgres_database, postgres_env, sqlite_env
from tests.commune import Commune, build_commune


def d(day: int, month: int = 3) -> date:
    """A day of 2026; March by default, the month of the commune's cycle (2-16 March)."""
    return date(2026, month, day)


UNKNOWN = UUID(int=42)
STRANGER = Actor(UNKNOWN, Role.OFFICIAL.value)  # not enrolled anywhere
Terms = Callable[[Commune], dict[str, Any]]

# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared_ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """One ledger per backend for the module (a database per test is most of the run time)."""
    if request.param == "sqlite":
        ledger = Ledger(env=sqlite_env(tmp_path_factory.mktemp("commands")))
        yield ledger
        ledger.close()
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        ledger = Ledger(env=postgres_env(url))
        yield ledger
        ledger.close()


_communes = itertools.count(1)


@pytest.fixture
def ledger(shared_ledger: Ledger) -> Ledger:
    return shared_ledger


@pytest.fixture
def c(ledger: Ledger) -> Commune:
    """Xã Tân Lập, its people and its cycle (tests/commune.py), this test's own copy."""
    return build_commune(ledger, tag=f"T{next(_communes)}-")


@pytest.fixture
def member(c: Commune) -> Actor:
    return c.member


@pytest.fixture
def colleague(c: Commune) -> Actor:
    return c.colleague


@pytest.fixture
def task(ledger: Ledger, c: Commune, member: Actor) -> UUID:
    """Assigned on 2 March by the head of Phòng Kinh tế, who is its approver, due 13 March."""
    return assign(ledger, c, to=member)


@pytest.fixture
def submitted(ledger: Ledger, task: UUID, member: Actor) -> UUID:
    """The task, submitted on Tuesday 3 March: its approval is due by Tuesday 10 March."""
    ledger.submit_task(member, task_id=task, quantity=3, on=d(3))
    return task


@pytest.fixture
def approved(ledger: Ledger, c: Commune, submitted: UUID) -> UUID:
    ledger.approve_task(c.economy_head, task_id=submitted, on=d(5), major_errors=1)
    return submitted


# ------------------------------------------------------------------------------- helpers


@contextmanager
def recording(ledger: Ledger) -> Iterator[list[Any]]:
    """Collects the events recorded inside the block, read back from the stored log.

    The notifications after the block's start, decoded by the ledger's mapper: what
    `read_events` does, but from a position (the shared log is long). `read_events` itself
    has its own test (an official's position).
    """
    before = ledger.recorder.max_notification_id() or 0
    new: list[Any] = []
    yield new
    stored = ledger.recorder.select_notifications(start=before + 1, limit=1_000)
    new.extend(ledger.mapper.to_domain_event(n) for n in stored)


def recorded(new: list[Any], actor: Actor, command_id: str, *types: type) -> list[Any]:
    """The command's events, its receipt aside: of these types, in order, each stamped."""
    for event in new:
        assert event.actor == actor and type(event.actor.official_id) is UUID
        assert event.command_id == command_id
    receipts = [e for e in new if isinstance(e, CommandReceipt.CommandHandled)]
    assert [r.command_id for r in receipts] == [command_id]
    events = [e for e in new if not isinstance(e, CommandReceipt.CommandHandled)]
    assert [type(e) for e in events] == list(types)
    return events


def assert_typed(event: Any, **expected: Any) -> None:
    """Each field equals what was given and comes back as the same type (no str dates)."""
    for name, value in expected.items():
        got = getattr(event, name)
        assert got == value, name
        assert type(got) is type(value), f"{name}: {type(got).__name__}"


@contextmanager
def refused(ledger: Ledger, error: type[LedgerError], field: str) -> Iterator[None]:
    """The block raises exactly `error` naming `field`, and the log does not move."""
    before = ledger.recorder.max_notification_id()
    with pytest.raises(LedgerError) as caught:
        yield
    assert type(caught.value) is error, caught.value
    assert caught.value.field == field, caught.value
    assert ledger.recorder.max_notification_id() == before


def assign(ledger: Ledger, c: Commune, by: Actor | None = None, to: Actor | None = None,
           **terms: Any) -> UUID:
    """A 6-rõ task for the cycle; `terms` override any of its parts."""
    task: dict[str, Any] = dict(
        cycle_id=c.cycle_id,
        assignee_id=(to or c.economy_members[0]).official_id,
        title="Rà soát danh sách hộ nghèo thôn Đông",
        kind=KpiKind.HARD,
        product="Báo cáo rà soát hộ nghèo",
        target_quantity=3,
        due_on=d(13),
        on=d(2),
        authority="Quyết định 15/QĐ-UBND giao nhiệm vụ rà soát",
    )
    return ledger.assign_task(by or c.economy_head, **{**task, **terms})


def log(ledger: Ledger, c: Commune, by: Actor, hours: str, **terms: Any) -> int:
    entry: dict[str, Any] = dict(cycle_id=c.cycle_id, on=d(3), hours=Decimal(hours), duty="Tiếp công dân")
    return ledger.log_work(by, **{**entry, **terms})


# -------------------------------------------------------------------------- organisation


def register(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> UUID:
    unit: dict[str, Any] = dict(code=c.code("BN-TL-TP"), name="Phòng Tư pháp", kind=UnitKind.DEPARTMENT,
                parent_id=c.commune_id)
    return ledger.register_unit(actor or c.admin, **{**unit, **terms})


def test_admin_registers_a_department_under_the_commune(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        unit_id = register(ledger, c, command_id=c.command_id("dv-tp"))
    (registered,) = recorded(new, c.admin, c.command_id("dv-tp"), Unit.UnitRegistered)
    assert registered.originator_id == unit_id == unit_id_for(c.code("BN-TL-TP"))
    assert_typed(registered, code=c.code("BN-TL-TP"), name="Phòng Tư pháp",
                 kind=UnitKind.DEPARTMENT, parent_id=c.commune_id)


def test_only_an_admin_registers_units(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        register(ledger, c, actor=c.chairman)


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(code=" "), InvalidInput, "code"),
        (lambda c: dict(name=""), InvalidInput, "name"),
        (lambda c: dict(kind=UnitKind.COMMUNE, parent_id=None), InvalidInput, "parent_id"),
        (lambda c: dict(parent_id=UNKNOWN), NotFound, "parent_id"),
        (lambda c: dict(code=c.code("BN-TL-KT")), Conflict, "code"),
    ],
    ids=["empty code", "empty name", "commune without parent", "unknown parent", "code taken"],
)
def test_registering_a_unit_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        register(ledger, c, **terms(c))


def enrol(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> UUID:
    person: dict[str, Any] = dict(code=c.code("TL-KT-5"), full_name="Trịnh Văn Phúc", position="Chuyên viên",
                  unit_id=c.economy_id, staff_category="công chức", post_group="chuyên viên",
                  on=d(1))
    return ledger.enroll_official(actor or c.admin, **{**person, **terms})


def test_admin_enrols_an_official_in_a_department(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        official_id = enrol(ledger, c, command_id=c.command_id("cb-phuc"))
    (enrolled,) = recorded(new, c.admin, c.command_id("cb-phuc"), Official.OfficialEnrolled)
    assert enrolled.originator_id == official_id == official_id_for(c.code("TL-KT-5"))
    assert_typed(enrolled, code=c.code("TL-KT-5"), full_name="Trịnh Văn Phúc",
                 position="Chuyên viên", unit_id=c.economy_id, staff_category="công chức",
                 post_group="chuyên viên", occurred_on=d(1))




def test_read_events_gives_back_an_officials_position_as_enrolled(
    ledger: Ledger, c: Commune
) -> None:
    official_id = enrol(ledger, c)
    (enrolled,) = [e for e in ledger.read_events() if e.originator_id == official_id]
    assert_typed(enrolled, position="Chuyên viên")


def test_a_non_admin_cannot_enrol_an_official(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        enrol(ledger, c, actor=c.economy_head)


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(full_name="  "), InvalidInput, "full_name"),
        (lambda c: dict(post_group=""), InvalidInput, "post_group"),
        (lambda c: dict(unit_id=UNKNOWN), NotFound, "unit_id"),
        (lambda c: dict(code=c.code("TL-KT-2")), Conflict, "code"),
    ],
    ids=["no name", "no post group", "unknown unit", "code taken"],
)
def test_enrolling_an_official_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        enrol(ledger, c, **terms(c))


def transfer(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> None:
    move: dict[str, Any] = dict(official_id=c.culture_member.official_id, unit_id=c.economy_id,
                position="Chuyên viên", post_group="chuyên viên", on=d(9))
    ledger.transfer_official(actor or c.admin, **{**move, **terms})


def test_admin_transfers_an_official_to_another_department(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        transfer(ledger, c, command_id=c.command_id("dc-khanh"))
    (moved,) = recorded(new, c.admin, c.command_id("dc-khanh"), Official.OfficialTransferred)
    assert moved.originator_id == c.culture_member.official_id
    assert_typed(moved, unit_id=c.economy_id, position="Chuyên viên", post_group="chuyên viên",
                 occurred_on=d(9))


def test_after_a_transfer_the_new_head_assigns_the_work_and_the_old_one_cannot(
    ledger: Ledger, c: Commune
) -> None:
    transfer(ledger, c)
    with refused(ledger, NotAuthorised, "actor"):
        assign(ledger, c, by=c.culture_head, to=c.culture_member, on=d(9))
    assign(ledger, c, by=c.economy_head, to=c.culture_member, on=d(9))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.chairman), NotAuthorised, "actor"),
        (lambda c: dict(official_id=UNKNOWN), NotFound, "official_id"),
        (lambda c: dict(unit_id=UNKNOWN), NotFound, "unit_id"),
        (lambda c: dict(unit_id=c.culture_id), Conflict, "unit_id"),
        (lambda c: dict(on=d(1, month=1)), InvalidInput, "on"),
    ],
    ids=["non-admin", "unknown official", "unknown unit", "same post", "before enrolment"],
)
def test_transferring_an_official_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        transfer(ledger, c, **terms(c))


def relieve(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> None:
    post: dict[str, Any] = dict(unit_id=c.economy_id, post=Post.HEAD, official_id=c.economy_head.official_id,
                on=d(6), reason="Nghỉ hưu")
    ledger.relieve_leader(actor or c.admin, **{**post, **terms})


def test_admin_relieves_a_head_of_department(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        relieve(ledger, c, command_id=c.command_id("mn-cuong"))
    (relieved,) = recorded(new, c.admin, c.command_id("mn-cuong"), Unit.LeaderRelieved)
    assert relieved.originator_id == c.economy_id
    assert_typed(relieved, post=Post.HEAD, official_id=c.economy_head.official_id,
                 occurred_on=d(6), reason="Nghỉ hưu")


def test_admin_appoints_a_new_head_after_relieving_the_old_one(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    relieve(ledger, c)
    with recording(ledger) as new:
        ledger.appoint_leader(c.admin, unit_id=c.economy_id, post=Post.HEAD,
                              official_id=member.official_id, on=d(9),
                              command_id=c.command_id("bn-dung"))
    (appointed,) = recorded(new, c.admin, c.command_id("bn-dung"), Unit.LeaderAppointed)
    assert appointed.originator_id == c.economy_id
    assert_typed(appointed, post=Post.HEAD, official_id=member.official_id, occurred_on=d(9))


def test_a_relieved_head_no_longer_assigns_work_and_the_successor_does(
    ledger: Ledger, c: Commune, member: Actor, colleague: Actor
) -> None:
    relieve(ledger, c)
    ledger.appoint_leader(c.admin, unit_id=c.economy_id, post=Post.HEAD,
                          official_id=member.official_id, on=d(9))
    with refused(ledger, NotAuthorised, "actor"):
        assign(ledger, c, by=c.economy_head, to=colleague, on=d(9))
    assign(ledger, c, by=member, to=colleague, on=d(9))


def appoint(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> None:
    post: dict[str, Any] = dict(unit_id=c.culture_id, post=Post.HEAD, official_id=c.culture_member.official_id,
                on=d(9))
    ledger.appoint_leader(actor or c.admin, **{**post, **terms})


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.monitoring), NotAuthorised, "actor"),
        (lambda c: dict(), Conflict, "post"),
        (lambda c: dict(unit_id=c.economy_id), InvalidInput, "official_id"),
        (lambda c: dict(post=Post.CHAIRMAN), InvalidInput, "post"),
        (lambda c: dict(official_id=UNKNOWN), NotFound, "official_id"),
        (lambda c: dict(unit_id=UNKNOWN), NotFound, "unit_id"),
    ],
    ids=["non-admin", "post held", "not of that unit", "chairman of a department",
         "unknown official", "unknown unit"],
)
def test_appointing_a_leader_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        appoint(ledger, c, **terms(c))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.chairman), NotAuthorised, "actor"),
        (lambda c: dict(official_id=c.member.official_id), Conflict, "official_id"),
        (lambda c: dict(on=d(1, month=1)), InvalidInput, "on"),
        (lambda c: dict(unit_id=UNKNOWN), NotFound, "unit_id"),
    ],
    ids=["non-admin", "not the holder", "before the tenure began", "unknown unit"],
)
def test_relieving_a_leader_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        relieve(ledger, c, **terms(c))


def test_a_leader_cannot_be_relieved_twice(ledger: Ledger, c: Commune) -> None:
    relieve(ledger, c)
    with refused(ledger, Conflict, "official_id"):
        relieve(ledger, c, on=d(7))


def test_relieving_a_leader_must_say_why(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, InvalidInput, "reason"):
        relieve(ledger, c, reason=" ")


# -------------------------------------------------------------------------------- policy


def test_the_first_policy_starts_the_register_of_versions(backend_env: dict[str, str]) -> None:
    ledger = Ledger(env=backend_env)
    admin = Actor(UNKNOWN, Role.ADMIN.value)
    with recording(ledger) as new:
        ledger.publish_policy(admin, version="v1", effective_from=d(1, 1), command_id="cs-1")
    _, published = recorded(new, admin, "cs-1", ScoringPolicies.Started,
                            ScoringPolicies.ScoringPolicyPublished)
    assert_typed(published, version="v1", effective_from=d(1, 1), params=PolicyParams())
    ledger.close()


def test_admin_publishes_a_new_policy_version_with_its_holidays(ledger: Ledger, c: Commune) -> None:
    version = c.code("2040")  # in force after every date these tests use (policies are global)
    params = PolicyParams(holidays=(date(2040, 4, 30), date(2040, 5, 1)),
                          approval_miss_points=Decimal("7.5"))
    with recording(ledger) as new:
        ledger.publish_policy(c.admin, version=version, effective_from=date(2040, 1, 1),
                              params=params, command_id=c.command_id("cs-2"))
    (published,) = recorded(new, c.admin, c.command_id("cs-2"),
                            ScoringPolicies.ScoringPolicyPublished)
    assert_typed(published, version=version, effective_from=date(2040, 1, 1), params=params)
    assert type(published.params.holidays[0]) is date
    assert type(published.params.approval_miss_points) is Decimal
    assert type(published.params.criterion_points[0][1]) is Decimal


def test_publishing_an_existing_policy_version_is_a_conflict(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, Conflict, "version"):
        ledger.publish_policy(c.admin, version="v1", effective_from=date(2040, 1, 1))


@pytest.mark.parametrize(
    ("role", "version", "params", "error", "field"),
    [
        (Role.MONITORING, "v-x", None, NotAuthorised, "actor"),
        (Role.ADMIN, " ", None, InvalidInput, "version"),
        (Role.ADMIN, "v-x", PolicyParams(task_points=Decimal(60)), InvalidInput, "params"),
        (Role.ADMIN, "v-x", PolicyParams(excellent_cap_rounding="up"), InvalidInput,
         "params.excellent_cap_rounding"),
    ],
    ids=["non-admin", "no version", "not out of 100", "unknown rounding"],
)
def test_publishing_a_policy_is_refused_for(
    ledger: Ledger, c: Commune, role: Role, version: str, params: PolicyParams | None,
    error: type[LedgerError], field: str,
) -> None:
    with refused(ledger, error, field):
        ledger.publish_policy(Actor(c.admin.official_id, role.value), version=version,
                              effective_from=date(2040, 1, 1), params=params)


# -------------------------------------------------------------------------------- cycles


def test_the_monitoring_team_opens_a_month_cycle_pinned_to_the_policy_in_force(
    ledger: Ledger, c: Commune
) -> None:
    with recording(ledger) as new:
        cycle_id = ledger.open_cycle(c.monitoring, unit_id=c.commune_id, kind=CycleKind.MONTH,
                                     starts_on=d(1, 4), ends_on=d(30, 4),
                                     command_id=c.command_id("ky-t4"))
    (opened,) = recorded(new, c.monitoring, c.command_id("ky-t4"), Cycle.CycleOpened)
    assert opened.originator_id == cycle_id
    assert_typed(opened, unit_id=c.commune_id, kind=CycleKind.MONTH, starts_on=d(1, 4),
                 ends_on=d(30, 4), policy_version="v1")


def test_a_cycle_may_name_the_policy_version_it_pins(ledger: Ledger, c: Commune) -> None:
    version = c.code("2040")
    ledger.publish_policy(c.admin, version=version, effective_from=date(2040, 1, 1))
    cycle_id = ledger.open_cycle(c.admin, unit_id=c.commune_id, kind=CycleKind.MONTH,
                                 starts_on=d(1, 4), ends_on=d(30, 4), policy_version=version)
    assert ledger.get_cycle(cycle_id).policy_version == version


def test_opening_a_cycle_on_a_department_is_refused(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, InvalidInput, "unit_id"):
        ledger.open_cycle(c.admin, unit_id=c.economy_id, kind=CycleKind.FIFTEEN_DAYS,
                          starts_on=d(2), ends_on=d(16))


def test_a_second_cycle_for_the_same_period_is_a_conflict(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, Conflict, "starts_on"):
        ledger.open_cycle(c.monitoring, unit_id=c.commune_id, kind=CycleKind.FIFTEEN_DAYS,
                          starts_on=d(2), ends_on=d(16))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.chairman), NotAuthorised, "actor"),
        (lambda c: dict(ends_on=d(31, 3)), InvalidInput, "ends_on"),
        (lambda c: dict(unit_id=UNKNOWN), NotFound, "unit_id"),
        (lambda c: dict(policy_version="v9"), NotFound, "policy_version"),
        (lambda c: dict(starts_on=date(2025, 12, 1), ends_on=date(2025, 12, 31)), NotFound,
         "policy_version"),
    ],
    ids=["ordinary official", "ends before it starts", "unknown unit", "unknown policy",
         "before any policy"],
)
def test_opening_a_cycle_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    cycle: dict[str, Any] = dict(actor=c.admin, unit_id=c.commune_id, kind=CycleKind.MONTH, starts_on=d(1, 4),
                 ends_on=d(30, 4))
    cycle.update(terms(c))
    with refused(ledger, error, field):
        ledger.open_cycle(cycle.pop("actor"), **cycle)


def test_closing_a_cycle_certifies_its_score_table_at_a_log_position(
    ledger: Ledger, c: Commune, approved: UUID
) -> None:
    position = ledger.recorder.max_notification_id()
    with recording(ledger) as new:
        digest = ledger.close_cycle(c.monitoring, cycle_id=c.cycle_id, on=d(16),
                                    command_id=c.command_id("dk"))
    (closed,) = recorded(new, c.monitoring, c.command_id("dk"), Cycle.CycleClosed)
    assert_typed(closed, table_digest=digest, log_position=position, occurred_on=d(16))
    assert digest == ledger.score_cycle(c.cycle_id, up_to=position).digest()


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.chairman), NotAuthorised, "actor"),
        (lambda c: dict(on=d(13)), InvalidInput, "on"),
        (lambda c: dict(cycle_id=UNKNOWN), NotFound, "cycle_id"),
    ],
    ids=["ordinary official", "before its last day", "unknown cycle"],
)
def test_closing_a_cycle_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    closing: dict[str, Any] = dict(actor=c.admin, cycle_id=c.cycle_id, on=d(16))
    closing.update(terms(c))
    with refused(ledger, error, field):
        ledger.close_cycle(closing.pop("actor"), **closing)


def test_a_closed_cycle_takes_no_new_work_and_cannot_be_closed_again(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(17))
    with refused(ledger, Conflict, "cycle_id"):
        ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(18))
    with refused(ledger, Conflict, "cycle_id"):
        assign(ledger, c)
    with refused(ledger, Conflict, "cycle_id"):
        log(ledger, c, member, "8")
    with refused(ledger, Conflict, "cycle_id"):
        ledger.assess_conduct(c.economy_head, official_id=member.official_id,
                              cycle_id=c.cycle_id, points=Decimal(15), on=d(17))
    with refused(ledger, Conflict, "cycle_id"):
        set_target(ledger, c)


# --------------------------------------------------------------------------------- tasks


def test_a_head_assigns_a_task_with_all_six_ro(ledger: Ledger, c: Commune, member: Actor) -> None:
    with recording(ledger) as new:
        task_id = assign(ledger, c, to=member, kind=KpiKind.SPEARHEAD, weight=Decimal("1.5"),
                         responsibility=Responsibility.SUPPORT, command_id=c.command_id("gv-1"))
    (assigned,) = recorded(new, c.economy_head, c.command_id("gv-1"), Task.TaskAssigned)
    assert assigned.originator_id == task_id
    assert_typed(
        assigned, cycle_id=c.cycle_id, title="Rà soát danh sách hộ nghèo thôn Đông",
        assignee_id=member.official_id, assigner_id=c.economy_head.official_id,
        approver_id=c.economy_head.official_id, kind=KpiKind.SPEARHEAD,
        responsibility=Responsibility.SUPPORT, product="Báo cáo rà soát hộ nghèo",
        target_quantity=3, weight=Decimal("1.5"), due_on=d(13),
        authority="Quyết định 15/QĐ-UBND giao nhiệm vụ rà soát", occurred_on=d(2),
    )


def test_the_chairman_assigns_a_department_task_for_its_head_to_approve(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    with recording(ledger) as new:
        assign(ledger, c, by=c.chairman, to=member, approver_id=c.economy_head.official_id,
               command_id=c.command_id("gv-2"))
    (assigned,) = recorded(new, c.chairman, c.command_id("gv-2"), Task.TaskAssigned)
    assert_typed(assigned, assigner_id=c.chairman.official_id,
                 approver_id=c.economy_head.official_id)


def test_a_member_who_is_not_the_head_cannot_assign_a_task(
    ledger: Ledger, c: Commune, member: Actor, colleague: Actor
) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        assign(ledger, c, by=colleague, to=member)


def test_the_head_of_another_department_cannot_assign_a_task(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        assign(ledger, c, by=c.culture_head, to=member)


def test_a_task_for_an_unknown_assignee_is_refused(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, NotFound, "assignee_id"):
        assign(ledger, c, assignee_id=UNKNOWN)


@pytest.mark.parametrize("due_on", [d(1), d(17)], ids=["before the cycle", "after the cycle"])
def test_a_task_due_outside_the_cycle_is_refused(ledger: Ledger, c: Commune, due_on: date) -> None:
    with refused(ledger, InvalidInput, "due_on"):
        assign(ledger, c, due_on=due_on, on=d(1))


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (dict(title=" "), "title"),
        (dict(product=""), "product"),
        (dict(target_quantity=0), "target_quantity"),
        (dict(weight=Decimal(0)), "weight"),
        (dict(authority="  "), "authority"),
    ],
    ids=["no task (rõ việc)", "no product (rõ sản phẩm)", "quantity below 1", "no weight",
         "no authority (rõ thẩm quyền)"],
)
def test_a_task_without_six_ro_is_refused(
    ledger: Ledger, c: Commune, terms: dict[str, Any], field: str
) -> None:
    with refused(ledger, InvalidInput, field):
        assign(ledger, c, **terms)


def test_a_head_cannot_assign_a_task_to_themselves(ledger: Ledger, c: Commune) -> None:
    """Which is also why nobody can end up approving their own task."""
    with refused(ledger, NotAuthorised, "actor"):
        assign(ledger, c, by=c.economy_head, to=c.economy_head)


def test_a_task_whose_approver_is_its_assignee_is_refused(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, NotAuthorised, "approver_id"):
        assign(ledger, c, by=c.chairman, to=c.economy_head,
               approver_id=c.economy_head.official_id)


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(approver_id=c.culture_head.official_id), NotAuthorised, "approver_id"),
        (lambda c: dict(approver_id=UNKNOWN), NotFound, "approver_id"),
        (lambda c: dict(on=d(14)), InvalidInput, "on"),
        (lambda c: dict(cycle_id=UNKNOWN), NotFound, "cycle_id"),
    ],
    ids=["approver leads another unit", "unknown approver", "assigned after due date",
         "unknown cycle"],
)
def test_assigning_a_task_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        assign(ledger, c, by=c.chairman, **terms(c))


def test_a_task_for_an_official_outside_the_commune_names_the_assignee(
    ledger: Ledger, c: Commune
) -> None:
    with refused(ledger, InvalidInput, "assignee_id"):
        assign(ledger, c, by=c.chairman, to=c.admin)


def test_a_head_reassigns_a_task_within_the_department(
    ledger: Ledger, c: Commune, task: UUID, colleague: Actor
) -> None:
    with recording(ledger) as new:
        ledger.reassign_task(c.economy_head, task_id=task, assignee_id=colleague.official_id,
                             reason="Chị Dung đi học", on=d(4), command_id=c.command_id("gl-1"))
    (reassigned,) = recorded(new, c.economy_head, c.command_id("gl-1"), Task.TaskReassigned)
    assert_typed(reassigned, assignee_id=colleague.official_id, reason="Chị Dung đi học",
                 occurred_on=d(4))


def test_a_task_cannot_be_reassigned_to_its_approver(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    task_id = assign(ledger, c, by=c.chairman, to=member, approver_id=c.economy_head.official_id)
    with refused(ledger, InvalidInput, "assignee_id"):
        ledger.reassign_task(c.chairman, task_id=task_id,
                             assignee_id=c.economy_head.official_id, reason="Tự làm", on=d(4))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(reason=" "), InvalidInput, "reason"),
        (lambda c: dict(assignee_id=c.member.official_id), Conflict, "assignee_id"),
        (lambda c: dict(assignee_id=c.culture_member.official_id), NotAuthorised, "actor"),
        (lambda c: dict(assignee_id=UNKNOWN), NotFound, "assignee_id"),
        (lambda c: dict(task_id=UNKNOWN), NotFound, "task_id"),
    ],
    ids=["no reason", "same assignee", "member of another department", "unknown assignee",
         "unknown task"],
)
def test_reassigning_a_task_is_refused_for(
    ledger: Ledger, c: Commune, task: UUID, terms: Terms, error: type[LedgerError], field: str
) -> None:
    reassignment: dict[str, Any] = dict(task_id=task, assignee_id=c.colleague.official_id, reason="Giao lại",
                        on=d(4))
    with refused(ledger, error, field):
        ledger.reassign_task(c.economy_head, **{**reassignment, **terms(c)})


def test_a_submitted_task_cannot_be_reassigned(
    ledger: Ledger, c: Commune, submitted: UUID, colleague: Actor
) -> None:
    with refused(ledger, Conflict, "task_id"):
        ledger.reassign_task(c.economy_head, task_id=submitted, assignee_id=colleague.official_id,
                             reason="Giao lại", on=d(4))


def test_the_head_of_another_department_cannot_take_a_task_away(
    ledger: Ledger, c: Commune, task: UUID
) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        ledger.reassign_task(c.culture_head, task_id=task,
                             assignee_id=c.culture_member.official_id, reason="Lấy việc",
                             on=d(4))


def test_the_assignee_submits_the_product(
    ledger: Ledger, c: Commune, task: UUID, member: Actor
) -> None:
    with recording(ledger) as new:
        ledger.submit_task(member, task_id=task, quantity=2, on=d(5), note="Nộp 2/3 báo cáo",
                           command_id=c.command_id("nop-1"))
    (submitted,) = recorded(new, member, c.command_id("nop-1"), Task.TaskSubmitted)
    assert submitted.originator_id == task
    assert_typed(submitted, quantity=2, note="Nộp 2/3 báo cáo", occurred_on=d(5))


def test_submitting_someone_elses_task_is_refused(
    ledger: Ledger, c: Commune, task: UUID, colleague: Actor
) -> None:
    for other in (colleague, c.economy_head):
        with refused(ledger, NotAuthorised, "actor"):
            ledger.submit_task(other, task_id=task, quantity=3, on=d(5))


@pytest.mark.parametrize(
    ("quantity", "on", "error", "field"),
    [(-1, d(5), InvalidInput, "quantity"), (3, d(1), InvalidInput, "on")],
    ids=["negative quantity", "before it was assigned"],
)
def test_submitting_a_task_is_refused_for(
    ledger: Ledger, task: UUID, member: Actor, quantity: int, on: date,
    error: type[LedgerError], field: str,
) -> None:
    with refused(ledger, error, field):
        ledger.submit_task(member, task_id=task, quantity=quantity, on=on)


def test_a_submitted_or_unknown_task_cannot_be_submitted(
    ledger: Ledger, submitted: UUID, member: Actor
) -> None:
    for task_id, error in ((submitted, Conflict), (UNKNOWN, NotFound)):
        with refused(ledger, error, "task_id"):
            ledger.submit_task(member, task_id=task_id, quantity=3, on=d(5))


def test_the_named_approver_approves_with_the_major_errors_found(
    ledger: Ledger, c: Commune, submitted: UUID
) -> None:
    with recording(ledger) as new:
        ledger.approve_task(c.economy_head, task_id=submitted, on=d(6), major_errors=1,
                            comment="Thiếu số liệu thôn Tây", command_id=c.command_id("duyet"))
    (approved,) = recorded(new, c.economy_head, c.command_id("duyet"), Task.TaskApproved)
    assert_typed(approved, major_errors=1, comment="Thiếu số liệu thôn Tây", occurred_on=d(6))


def test_approval_by_someone_other_than_the_named_approver_is_refused(
    ledger: Ledger, c: Commune, submitted: UUID, colleague: Actor
) -> None:
    """The chairman leads the department, but the task names its head as approver."""
    for other in (c.chairman, colleague):
        with refused(ledger, NotAuthorised, "actor"):
            ledger.approve_task(other, task_id=submitted, on=d(6))


def test_approving_twice_is_a_conflict(ledger: Ledger, c: Commune, approved: UUID) -> None:
    with refused(ledger, Conflict, "task_id"):
        ledger.approve_task(c.economy_head, task_id=approved, on=d(6))


def test_a_task_not_yet_submitted_cannot_be_approved(
    ledger: Ledger, c: Commune, task: UUID
) -> None:
    with refused(ledger, Conflict, "task_id"):
        ledger.approve_task(c.economy_head, task_id=task, on=d(6))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (dict(major_errors=-1), InvalidInput, "major_errors"),
        (dict(on=d(2)), InvalidInput, "on"),
        (dict(task_id=UNKNOWN), NotFound, "task_id"),
    ],
    ids=["negative errors", "before the submission", "unknown task"],
)
def test_approving_a_task_is_refused_for(
    ledger: Ledger, c: Commune, submitted: UUID, terms: dict[str, Any],
    error: type[LedgerError], field: str,
) -> None:
    with refused(ledger, error, field):
        ledger.approve_task(c.economy_head, **{**dict(task_id=submitted, on=d(6)), **terms})


def test_the_approver_returns_a_task_for_rework_and_it_is_submitted_again(
    ledger: Ledger, c: Commune, submitted: UUID, member: Actor
) -> None:
    with recording(ledger) as new:
        ledger.return_task(c.economy_head, task_id=submitted, on=d(4), major_errors=2,
                           comment="Sai danh sách, rà soát lại", command_id=c.command_id("tra"))
    (returned,) = recorded(new, c.economy_head, c.command_id("tra"), Task.TaskReturned)
    assert_typed(returned, major_errors=2, comment="Sai danh sách, rà soát lại", occurred_on=d(4))
    ledger.submit_task(member, task_id=submitted, quantity=3, on=d(6))


def test_returning_without_a_comment_is_refused(
    ledger: Ledger, c: Commune, submitted: UUID
) -> None:
    with refused(ledger, InvalidInput, "comment"):
        ledger.return_task(c.economy_head, task_id=submitted, on=d(4), comment="  ")


def test_only_the_named_approver_returns_a_task_and_only_while_it_awaits(
    ledger: Ledger, c: Commune, submitted: UUID
) -> None:
    with refused(ledger, NotAuthorised, "actor"):
        ledger.return_task(c.chairman, task_id=submitted, on=d(4), comment="Làm lại")
    ledger.approve_task(c.economy_head, task_id=submitted, on=d(4))
    with refused(ledger, Conflict, "task_id"):
        ledger.return_task(c.economy_head, task_id=submitted, on=d(5), comment="Làm lại")


def test_the_approvers_superior_confirms_an_objective_cause(
    ledger: Ledger, c: Commune, approved: UUID
) -> None:
    with recording(ledger) as new:
        ledger.confirm_objective_cause(c.chairman, task_id=approved, deduction=Deduction.ERRORS,
                                       reason="Số liệu gốc của huyện cũ sai", on=d(9),
                                       command_id=c.command_id("kq"))
    (confirmed,) = recorded(new, c.chairman, c.command_id("kq"), Task.ObjectiveCauseConfirmed)
    assert_typed(confirmed, deduction=Deduction.ERRORS, reason="Số liệu gốc của huyện cũ sai",
                 occurred_on=d(9))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.economy_head), NotAuthorised, "actor"),
        (lambda c: dict(actor=c.culture_head), NotAuthorised, "actor"),
        (lambda c: dict(reason=" "), InvalidInput, "reason"),
        (lambda c: dict(task_id=UNKNOWN), NotFound, "task_id"),
    ],
    ids=["the approver themselves", "another unit's head", "no reason", "unknown task"],
)
def test_confirming_an_objective_cause_is_refused_for(
    ledger: Ledger, c: Commune, approved: UUID, terms: Terms, error: type[LedgerError],
    field: str,
) -> None:
    confirmation: dict[str, Any] = dict(actor=c.chairman, task_id=approved, deduction=Deduction.DELAY,
                        reason="Khách quan", on=d(9))
    confirmation.update(terms(c))
    with refused(ledger, error, field):
        ledger.confirm_objective_cause(confirmation.pop("actor"), **confirmation)


def test_an_objective_cause_is_confirmed_once_and_only_for_a_submitted_task(
    ledger: Ledger, c: Commune, task: UUID, member: Actor
) -> None:
    confirmation: dict[str, Any] = dict(task_id=task, deduction=Deduction.DELAY,
                                        reason="Mưa lũ chia cắt thôn", on=d(9))
    with refused(ledger, Conflict, "task_id"):
        ledger.confirm_objective_cause(c.chairman, **confirmation)
    ledger.submit_task(member, task_id=task, quantity=3, on=d(5))
    ledger.confirm_objective_cause(c.chairman, **confirmation)
    with refused(ledger, Conflict, "deduction"):
        ledger.confirm_objective_cause(c.chairman, **confirmation)


# --------------------------------------------------------------------------------- diary


def test_an_official_logs_the_first_entry_of_a_day(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    with recording(ledger) as new:
        entry = log(ledger, c, member, "7.5", products=4, description="Tiếp 4 lượt công dân",
                    command_id=c.command_id("nk-1"))
    started, logged = recorded(new, member, c.command_id("nk-1"), DiaryDay.DiaryDayStarted,
                               DiaryDay.WorkLogged)
    assert entry == 1
    assert_typed(started, official_id=member.official_id, occurred_on=d(3))
    assert_typed(logged, entry_no=1, cycle_id=c.cycle_id, hours=Decimal("7.5"), task_id=None,
                 duty="Tiếp công dân", products=4, description="Tiếp 4 lượt công dân",
                 occurred_on=d(3))


def test_a_second_entry_on_the_same_day_against_a_task_is_numbered_two(
    ledger: Ledger, c: Commune, task: UUID, member: Actor
) -> None:
    log(ledger, c, member, "4")
    with recording(ledger) as new:
        entry = log(ledger, c, member, "4", task_id=task, duty="", command_id=c.command_id("nk"))
    (logged,) = recorded(new, member, c.command_id("nk"), DiaryDay.WorkLogged)
    assert entry == 2
    assert_typed(logged, entry_no=2, task_id=task, hours=Decimal(4))


def test_more_than_24_hours_on_a_day_is_refused(ledger: Ledger, c: Commune, member: Actor) -> None:
    log(ledger, c, member, "16")
    with refused(ledger, InvalidInput, "hours"):
        log(ledger, c, member, "9")
    log(ledger, c, member, "8")  # exactly 24 is allowed


def test_logging_someone_elses_diary_is_refused_even_for_the_head(
    ledger: Ledger, c: Commune, member: Actor, colleague: Actor
) -> None:
    for other in (colleague, c.economy_head):
        with refused(ledger, NotAuthorised, "official_id"):
            log(ledger, c, other, "8", official_id=member.official_id)


@pytest.mark.parametrize("on", [d(1), d(17)], ids=["before the cycle", "after the cycle"])
def test_a_diary_date_outside_the_cycle_is_refused(
    ledger: Ledger, c: Commune, member: Actor, on: date
) -> None:
    with refused(ledger, InvalidInput, "on"):
        log(ledger, c, member, "8", on=on)


def test_an_unknown_official_cannot_log_work(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, NotFound, "actor"):
        log(ledger, c, STRANGER, "8")


def test_what_a_refused_diary_entry_read_ahead_never_serves_a_later_command(
    ledger: Ledger, c: Commune
) -> None:
    """A diary entry reads its official, cycle and day in one query before checking any of
    them. Refused, it must leave nothing behind: a later command would act on a stale cycle,
    here one that another process has closed since."""
    with refused(ledger, NotFound, "actor"):
        log(ledger, c, STRANGER, "8")
    elsewhere = Ledger(env=ledger.env)
    try:
        elsewhere.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(17))
    finally:
        elsewhere.close()
    with refused(ledger, Conflict, "cycle_id"):  # already closed; not "the records changed"
        ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(18))


@pytest.mark.parametrize(
    ("hours", "terms", "error", "field"),
    [
        ("0", {}, InvalidInput, "hours"),
        ("8", dict(duty=" "), InvalidInput, "duty"),
        ("8", dict(products=-1), InvalidInput, "products"),
        ("8", dict(cycle_id=UNKNOWN), NotFound, "cycle_id"),
        ("8", dict(task_id=UNKNOWN), NotFound, "task_id"),
    ],
    ids=["no hours", "neither task nor duty", "negative products", "unknown cycle",
         "unknown task"],
)
def test_logging_work_is_refused_for(
    ledger: Ledger, c: Commune, member: Actor, hours: str, terms: dict[str, Any],
    error: type[LedgerError], field: str,
) -> None:
    with refused(ledger, error, field):
        log(ledger, c, member, hours, **terms)


def test_work_cannot_be_logged_against_a_colleagues_task(
    ledger: Ledger, c: Commune, task: UUID, colleague: Actor
) -> None:
    with refused(ledger, InvalidInput, "task_id"):
        log(ledger, c, colleague, "8", task_id=task)


def test_a_voided_entry_no_longer_counts_towards_the_day(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    entry = log(ledger, c, member, "16")
    with recording(ledger) as new:
        ledger.void_work_log(member, on=d(3), entry_no=entry, reason="Ghi nhầm ngày",
                             command_id=c.command_id("huy"))
    (voided,) = recorded(new, member, c.command_id("huy"), DiaryDay.WorkLogVoided)
    assert_typed(voided, entry_no=1, reason="Ghi nhầm ngày", occurred_on=d(3))
    assert log(ledger, c, member, "16") == 2


def test_the_head_may_void_a_members_entry_but_a_colleague_may_not(
    ledger: Ledger, c: Commune, member: Actor, colleague: Actor
) -> None:
    entry = log(ledger, c, member, "8")
    with refused(ledger, NotAuthorised, "actor"):
        ledger.void_work_log(colleague, on=d(3), entry_no=entry, reason="Trùng",
                             official_id=member.official_id)
    ledger.void_work_log(c.economy_head, on=d(3), entry_no=entry, reason="Trùng",
                         official_id=member.official_id)


@pytest.mark.parametrize(
    ("on", "entry_no", "reason", "error", "field"),
    [
        (d(3), 2, "Trùng", Conflict, "entry_no"),
        (d(3), 1, " ", InvalidInput, "reason"),
        (d(4), 1, "Trùng", NotFound, "on"),
    ],
    ids=["no such entry", "no reason", "no diary that day"],
)
def test_voiding_an_entry_is_refused_for(
    ledger: Ledger, c: Commune, member: Actor, on: date, entry_no: int, reason: str,
    error: type[LedgerError], field: str,
) -> None:
    log(ledger, c, member, "8")
    with refused(ledger, error, field):
        ledger.void_work_log(member, on=on, entry_no=entry_no, reason=reason)


def test_an_entry_cannot_be_voided_twice(ledger: Ledger, c: Commune, member: Actor) -> None:
    entry = log(ledger, c, member, "8")
    ledger.void_work_log(member, on=d(3), entry_no=entry, reason="Trùng")
    with refused(ledger, Conflict, "entry_no"):
        ledger.void_work_log(member, on=d(3), entry_no=entry, reason="Trùng")


# ---------------------------------------------------------------------------- discipline


def sanction(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> UUID:
    imposed: dict[str, Any] = dict(official_id=c.member.official_id, kind=SanctionKind.DEDUCTION,
                   criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 4/3",
                   on=d(5))
    return ledger.impose_sanction(actor or c.economy_head, **{**imposed, **terms})


def test_a_head_deducts_points_under_a_criterion_the_policy_prices(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    with recording(ledger) as new:
        sanction_id = sanction(ledger, c, evidence="Danh sách điểm danh",
                               command_id=c.command_id("kl"))
    (imposed,) = recorded(new, c.economy_head, c.command_id("kl"), Sanction.SanctionImposed)
    assert imposed.originator_id == sanction_id
    assert_typed(imposed, official_id=member.official_id, kind=SanctionKind.DEDUCTION,
                 criterion="unexcused_training_absence", points=None,
                 reason="Vắng tập huấn ngày 4/3", evidence="Danh sách điểm danh",
                 occurred_on=d(5))


def test_a_deduction_under_another_criterion_carries_its_points(
    ledger: Ledger, c: Commune
) -> None:
    with recording(ledger) as new:
        sanction(ledger, c, criterion="late_report", points=Decimal("1.5"),
                 command_id=c.command_id("kl"))
    (imposed,) = recorded(new, c.economy_head, c.command_id("kl"), Sanction.SanctionImposed)
    assert_typed(imposed, criterion="late_report", points=Decimal("1.5"))


def test_the_admin_records_a_reprimand_of_the_chairman(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        sanction(ledger, c, actor=c.admin, official_id=c.chairman.official_id,
                 kind=SanctionKind.REPRIMAND, criterion="", reason="Quyết định kỷ luật 7/QĐ",
                 command_id=c.command_id("kl"))
    (imposed,) = recorded(new, c.admin, c.command_id("kl"), Sanction.SanctionImposed)
    assert_typed(imposed, official_id=c.chairman.official_id, kind=SanctionKind.REPRIMAND)


def test_a_deduction_for_an_unknown_criterion_without_points_is_refused(
    ledger: Ledger, c: Commune
) -> None:
    with refused(ledger, InvalidInput, "points"):
        sanction(ledger, c, criterion="late_report")


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(points=Decimal("15.5")), InvalidInput, "points"),
        (lambda c: dict(points=Decimal(0)), InvalidInput, "points"),
        (lambda c: dict(criterion=" "), InvalidInput, "criterion"),
        (lambda c: dict(reason=""), InvalidInput, "reason"),
        (lambda c: dict(actor=c.colleague), NotAuthorised, "actor"),
        (lambda c: dict(official_id=c.economy_head.official_id), NotAuthorised, "actor"),
        (lambda c: dict(official_id=UNKNOWN), NotFound, "official_id"),
    ],
    ids=["more than 15 points", "no points", "no criterion", "no reason", "by a colleague",
         "the head on themselves", "unknown official"],
)
def test_imposing_a_sanction_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        sanction(ledger, c, **terms(c))


def test_a_sanction_is_revoked_once(ledger: Ledger, c: Commune) -> None:
    sanction_id = sanction(ledger, c)
    with recording(ledger) as new:
        ledger.revoke_sanction(c.chairman, sanction_id=sanction_id, reason="Có giấy ốm",
                               on=d(9), command_id=c.command_id("hkl"))
    (revoked,) = recorded(new, c.chairman, c.command_id("hkl"), Sanction.SanctionRevoked)
    assert revoked.originator_id == sanction_id
    assert_typed(revoked, reason="Có giấy ốm", occurred_on=d(9))
    with refused(ledger, Conflict, "sanction_id"):
        ledger.revoke_sanction(c.chairman, sanction_id=sanction_id, reason="Có giấy ốm", on=d(9))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(reason=" "), InvalidInput, "reason"),
        (lambda c: dict(actor=c.culture_head), NotAuthorised, "actor"),
        (lambda c: dict(sanction_id=UNKNOWN), NotFound, "sanction_id"),
    ],
    ids=["no reason", "another unit's head", "unknown sanction"],
)
def test_revoking_a_sanction_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    revocation: dict[str, Any] = dict(actor=c.economy_head, sanction_id=sanction(ledger, c), reason="Có giấy ốm",
                      on=d(9))
    revocation.update(terms(c))
    with refused(ledger, error, field):
        ledger.revoke_sanction(revocation.pop("actor"), **revocation)


def assess(ledger: Ledger, c: Commune, points: str, actor: Actor | None = None,
           **terms: Any) -> None:
    assessed: dict[str, Any] = dict(official_id=c.member.official_id, cycle_id=c.cycle_id,
                    points=Decimal(points), on=d(16), note="Tận tụy với dân")
    ledger.assess_conduct(actor or c.economy_head, **{**assessed, **terms})


def test_the_head_assesses_conduct_and_may_revise_it(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        assess(ledger, c, "13.5", command_id=c.command_id("dd-1"))
    started, assessed = recorded(new, c.economy_head, c.command_id("dd-1"),
                                 ConductAssessment.ConductAssessmentStarted,
                                 ConductAssessment.ConductAssessed)
    assert_typed(started, official_id=c.member.official_id, cycle_id=c.cycle_id)
    assert_typed(assessed, points=Decimal("13.5"), note="Tận tụy với dân", occurred_on=d(16))
    with recording(ledger) as new:
        assess(ledger, c, "14", command_id=c.command_id("dd-2"))
    (revised,) = recorded(new, c.economy_head, c.command_id("dd-2"),
                          ConductAssessment.ConductAssessed)
    assert_typed(revised, points=Decimal(14))


@pytest.mark.parametrize(
    ("points", "terms", "error", "field"),
    [
        ("15.5", lambda c: {}, InvalidInput, "points"),
        ("-1", lambda c: {}, InvalidInput, "points"),
        ("12", lambda c: dict(actor=c.colleague), NotAuthorised, "actor"),
        ("12", lambda c: dict(official_id=UNKNOWN), NotFound, "official_id"),
        ("12", lambda c: dict(cycle_id=UNKNOWN), NotFound, "cycle_id"),
    ],
    ids=["above 15", "below 0", "by a colleague", "unknown official", "unknown cycle"],
)
def test_assessing_conduct_is_refused_for(
    ledger: Ledger, c: Commune, points: str, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        assess(ledger, c, points, **terms(c))


# ------------------------------------------------------------------------------- targets


def set_target(ledger: Ledger, c: Commune, actor: Actor | None = None, **terms: Any) -> UUID:
    target: dict[str, Any] = dict(cycle_id=c.cycle_id, indicator="Thu ngân sách xã",
                  target_value=Decimal("1500.5"), measure="triệu đồng", on=d(2))
    return ledger.set_target(actor or c.admin, **{**target, **terms})


def test_the_province_sets_a_commune_development_target(ledger: Ledger, c: Commune) -> None:
    with recording(ledger) as new:
        target_id = set_target(ledger, c, command_id=c.command_id("ct"))
    (target,) = recorded(new, c.admin, c.command_id("ct"), Target.TargetSet)
    assert target.originator_id == target_id
    assert_typed(target, unit_id=c.commune_id, cycle_id=c.cycle_id, indicator="Thu ngân sách xã",
                 target_value=Decimal("1500.5"), measure="triệu đồng", occurred_on=d(2))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.monitoring), NotAuthorised, "actor"),
        (lambda c: dict(indicator=" "), InvalidInput, "indicator"),
        (lambda c: dict(target_value=Decimal(0)), InvalidInput, "target_value"),
        (lambda c: dict(measure=""), InvalidInput, "measure"),
        (lambda c: dict(cycle_id=UNKNOWN), NotFound, "cycle_id"),
    ],
    ids=["non-admin", "no indicator", "no target value", "no measure", "unknown cycle"],
)
def test_setting_a_target_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    with refused(ledger, error, field):
        set_target(ledger, c, **terms(c))


def test_a_target_is_set_once_per_indicator_and_cycle(ledger: Ledger, c: Commune) -> None:
    set_target(ledger, c)
    with refused(ledger, Conflict, "indicator"):
        set_target(ledger, c, target_value=Decimal(2000))


@pytest.mark.parametrize("reporter", ["monitoring", "chairman", "secretary"])
def test_the_monitoring_team_or_a_commune_leader_reports_a_result(
    ledger: Ledger, c: Commune, reporter: str
) -> None:
    target_id = set_target(ledger, c)
    actor = getattr(c, reporter)
    with recording(ledger) as new:
        ledger.report_target_result(actor, target_id=target_id, value=Decimal("1200.25"),
                                    evidence="Báo cáo Kho bạc tháng 3", on=d(16),
                                    command_id=c.command_id("kq"))
    (reported,) = recorded(new, actor, c.command_id("kq"), Target.TargetResultReported)
    assert reported.originator_id == target_id
    assert_typed(reported, value=Decimal("1200.25"), evidence="Báo cáo Kho bạc tháng 3",
                 occurred_on=d(16))


@pytest.mark.parametrize(
    ("terms", "error", "field"),
    [
        (lambda c: dict(actor=c.economy_head), NotAuthorised, "actor"),
        (lambda c: dict(actor=c.admin), NotAuthorised, "actor"),
        (lambda c: dict(value=Decimal(-1)), InvalidInput, "value"),
        (lambda c: dict(evidence=" "), InvalidInput, "evidence"),
        (lambda c: dict(target_id=UNKNOWN), NotFound, "target_id"),
    ],
    ids=["an ordinary official", "the admin", "negative value", "no evidence", "unknown target"],
)
def test_reporting_a_target_result_is_refused_for(
    ledger: Ledger, c: Commune, terms: Terms, error: type[LedgerError], field: str
) -> None:
    report: dict[str, Any] = dict(actor=c.monitoring, target_id=set_target(ledger, c), value=Decimal(1200),
                  evidence="Báo cáo", on=d(16))
    report.update(terms(c))
    with refused(ledger, error, field):
        ledger.report_target_result(report.pop("actor"), **report)


# --------------------------------------------------------------------------- idempotency


def test_assigning_again_with_the_same_command_id_returns_the_same_task_and_records_nothing(
    ledger: Ledger, c: Commune
) -> None:
    first = assign(ledger, c, command_id=c.command_id("giao"))
    before = ledger.recorder.max_notification_id()
    assert assign(ledger, c, command_id=c.command_id("giao")) == first
    assert ledger.recorder.max_notification_id() == before


def test_logging_again_with_the_same_command_id_returns_the_same_entry_number(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    log(ledger, c, member, "4")
    assert log(ledger, c, member, "4", command_id=c.command_id("nk")) == 2
    before = ledger.recorder.max_notification_id()
    assert log(ledger, c, member, "4", command_id=c.command_id("nk")) == 2
    assert ledger.recorder.max_notification_id() == before
    assert ledger.repository.get(diary_day_id(member.official_id, d(3))).hours == 8


def test_a_retried_approval_is_answered_not_refused_as_a_second_approval(
    ledger: Ledger, c: Commune, submitted: UUID
) -> None:
    approval: dict[str, Any] = dict(task_id=submitted, on=d(5), command_id=c.command_id("duyet"))
    ledger.approve_task(c.economy_head, **approval)
    before = ledger.recorder.max_notification_id()
    ledger.approve_task(c.economy_head, **approval)  # returns, as the first did: no Conflict
    assert ledger.recorder.max_notification_id() == before


def test_a_command_id_reused_with_different_arguments_is_a_conflict(
    ledger: Ledger, c: Commune
) -> None:
    assign(ledger, c, command_id=c.command_id("giao"))
    with refused(ledger, Conflict, "command_id"):
        assign(ledger, c, title="Một việc khác", command_id=c.command_id("giao"))


def test_a_command_id_reused_for_another_command_or_by_another_actor_is_a_conflict(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    task_id = assign(ledger, c, command_id=c.command_id("lenh"))
    with refused(ledger, Conflict, "command_id"):
        ledger.submit_task(member, task_id=task_id, quantity=3, on=d(5),
                           command_id=c.command_id("lenh"))
    with refused(ledger, Conflict, "command_id"):
        assign(ledger, c, by=c.chairman, command_id=c.command_id("lenh"))


def test_a_refused_command_leaves_its_command_id_free(ledger: Ledger, c: Commune) -> None:
    with refused(ledger, InvalidInput, "product"):
        assign(ledger, c, product="", command_id=c.command_id("giao"))
    task_id = assign(ledger, c, command_id=c.command_id("giao"))
    assert ledger.get_task(task_id).title == "Rà soát danh sách hộ nghèo thôn Đông"


def test_a_command_without_an_id_still_stamps_one_id_on_all_its_events(
    ledger: Ledger, c: Commune, member: Actor
) -> None:
    with recording(ledger) as new:
        log(ledger, c, member, "8")
    started, logged = new
    assert started.actor == logged.actor == member
    assert isinstance(started.command_id, str) and started.command_id
    assert started.command_id == logged.command_id


# ---------------------------------------------------------------------- deadline watcher


class TestDeadlineWatcher:
    """A fresh database each: the watcher looks at every submission in the log."""

    @pytest.fixture
    def ledger(self, backend_env: dict[str, str]) -> Iterator[Ledger]:
        ledger = Ledger(env=backend_env)
        yield ledger
        ledger.close()

    @staticmethod
    def misses(ledger: Ledger) -> list[Any]:
        topic = "domain.tasks:MissedApproval.ApprovalDeadlineMissed"
        return list(ledger.read_events(topics=[topic]))

    def test_approver_who_lets_five_working_days_pass_is_recorded_once(
        self, ledger: Ledger, c: Commune, submitted: UUID
    ) -> None:
        """Submitted Tuesday 3 March: five working days run to Tuesday 10 March."""
        assert ledger.record_missed_deadlines(d(10)) == []
        (miss_id,) = ledger.record_missed_deadlines(datetime(2026, 3, 11, 7, 30))
        (miss,) = self.misses(ledger)
        assert miss.originator_id == miss_id
        assert type(miss) is MissedApproval.ApprovalDeadlineMissed
        assert_typed(miss, task_id=submitted, cycle_id=c.cycle_id,
                     approver_id=c.economy_head.official_id, submitted_on=d(3), deadline=d(10),
                     occurred_on=d(10))
        assert vars(miss)["actor"] == SYSTEM
        assert vars(miss)["command_id"] == "deadline-watch:2026-03-11"

    def test_running_the_watcher_again_or_for_a_later_date_records_no_second_miss(
        self, ledger: Ledger, submitted: UUID
    ) -> None:
        ledger.record_missed_deadlines(d(11))
        before = ledger.recorder.max_notification_id()
        assert ledger.record_missed_deadlines(d(11)) == []
        assert ledger.record_missed_deadlines(d(20)) == []
        assert ledger.recorder.max_notification_id() == before
        assert len(self.misses(ledger)) == 1

    def test_a_policy_holiday_pushes_the_deadline_by_a_day(self, ledger: Ledger) -> None:
        """Friday 6 March a holiday: the five working days run to Wednesday 11 March."""
        c = build_commune(ledger, holidays=[d(6)])
        task_id = assign(ledger, c)
        ledger.submit_task(c.member, task_id=task_id, quantity=3, on=d(3))
        assert ledger.record_missed_deadlines(d(11)) == []
        assert len(ledger.record_missed_deadlines(d(12))) == 1
        (miss,) = self.misses(ledger)
        assert_typed(miss, deadline=d(11))

    def test_a_weekend_does_not_count_towards_the_deadline(
        self, ledger: Ledger, task: UUID, member: Actor
    ) -> None:
        ledger.submit_task(member, task_id=task, quantity=3, on=d(6))  # a Friday
        assert ledger.record_missed_deadlines(d(13)) == []
        assert len(ledger.record_missed_deadlines(d(16))) == 1
        (miss,) = self.misses(ledger)
        assert_typed(miss, deadline=d(13))

    def test_an_approval_within_the_deadline_records_no_miss(
        self, ledger: Ledger, c: Commune, submitted: UUID
    ) -> None:
        ledger.approve_task(c.economy_head, task_id=submitted, on=d(10))
        assert ledger.record_missed_deadlines(d(20)) == []
        assert self.misses(ledger) == []

    def test_an_approval_after_the_deadline_still_records_one_miss(
        self, ledger: Ledger, c: Commune, submitted: UUID
    ) -> None:
        ledger.approve_task(c.economy_head, task_id=submitted, on=d(12))
        assert len(ledger.record_missed_deadlines(d(20))) == 1
        assert ledger.record_missed_deadlines(d(25)) == []
        (miss,) = self.misses(ledger)
        assert_typed(miss, approver_id=c.economy_head.official_id, deadline=d(10))

    def test_a_return_counts_as_acting_and_the_resubmission_has_its_own_deadline(
        self, ledger: Ledger, c: Commune, submitted: UUID, member: Actor
    ) -> None:
        ledger.return_task(c.economy_head, task_id=submitted, on=d(9), comment="Bổ sung số liệu")
        assert ledger.record_missed_deadlines(d(13)) == []
        ledger.submit_task(member, task_id=submitted, quantity=3, on=d(10))
        assert ledger.record_missed_deadlines(d(17)) == []
        assert len(ledger.record_missed_deadlines(d(18))) == 1
        (miss,) = self.misses(ledger)
        assert_typed(miss, submitted_on=d(10), deadline=d(17))


# ------------------------------------------------------------------------- immutability


def test_the_ledgers_event_table_refuses_update_and_delete(backend_env: dict[str, str]) -> None:
    """Through the Ledger's own start-up (tests/integration/test_persistence.py covers the guard
    itself, TRUNCATE and re-enabled triggers with a stand-in application)."""
    ledger = Ledger(env=backend_env)
    c = build_commune(ledger)
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    size = ledger.recorder.max_notification_id()
    conn = connect_direct(backend_env)
    try:
        for statement in (f"UPDATE {table} SET topic = 'forged'", f"DELETE FROM {table}"):
            with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match=IMMUTABLE_MESSAGE):
                conn.execute(statement)
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == size
    finally:
        conn.close()
    assert log(ledger, c, c.member, "8") == 1
    ledger.close()
