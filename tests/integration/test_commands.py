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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.actors import SYSTEM, Actor
from domain.cycles import Cycle, CycleKind
from domain.diary import DiaryDay, diary_day_id
from domain.discipline import ConductAssessment, Sanction, SanctionKind
from domain.errors import Conflict, InvalidInput, LedgerError, NotAuthorised, NotFound
from domain.ledger import Ledger
from domain.org import Official, Post, Unit, UnitKind, official_id_for, unit_id_for
from domain.policy import PolicyParams, ScoringPolicies
from domain.receipts import CommandReceipt
from domain.roles import Role
from domain.targets import Target
from domain.tasks import Deduction, KpiKind, MissedApproval, Responsibility, Task
from tests.backends import postgres_database, postgres_env, sqlite_env
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
    """Collects the events recorded inside the block, read back from the stored log."""
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
    task = dict(
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
    entry = dict(cycle_id=c.cycle_id, on=d(3), hours=Decimal(hours), duty="Tiếp công dân")
    return ledger.log_work(by, **{**entry, **terms})


