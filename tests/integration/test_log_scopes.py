"""A replay that reads only what the log-scope index lists equals one that reads the whole log.

Two communes, Xã Tân Lập and its twin "B-", share a ledger. Cường, B's economy head, sets a
member a task and never acts on her submission (the deadline watcher records his miss), is
fined for a training absence, and is then relieved and transferred into Tân Lập's economy
department, where he is given a task of his own. Tân Lập's cycle needs his whole past, recorded
before he arrived; the index files it under Tân Lập only once it has seen the transfer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from api.cli_projections import catch_up
from domain.actors import Actor
from domain.discipline import SanctionKind
from domain.errors import LedgerError
from domain.ledger import Ledger
from domain.org import Post
from domain.tasks import KpiKind
from projections.log_scopes import LogScopes
from projections.runner import Runner
from projections.store import ViewStore
from replay.timetravel import Replay, index_position, replay
from tests.cli_runner import run
from tests.commune import Commune, build_commune


@dataclass(frozen=True)
class Province:
    here: Commune  # Tân Lập
    there: Commune  # its twin, where Cường starts
    mover: Actor  # Cường
    sanction: UUID  # his fine, recorded while in the twin
    other_task: UUID  # the twin's task he left unacted
    transferred_at: int  # the log position of his transfer
    head: int


def record_province(ledger: Ledger) -> Province:
    here, there = build_commune(ledger), build_commune(ledger, tag="B-")
    mover = there.economy_head

    def task(by: Actor, to: Actor, cycle_id: UUID, due: date, on: date = date(2026, 3, 2)) -> UUID:
        return ledger.assign_task(by, cycle_id=cycle_id, assignee_id=to.official_id, title="Báo cáo tiến độ",
                                  kind=KpiKind.HARD, product="báo cáo", target_quantity=1, due_on=due, on=on,
                                  authority="Kế hoạch công tác tháng 3")

    other_task = task(mover, there.member, there.cycle_id, date(2026, 3, 5))
    ledger.submit_task(there.member, task_id=other_task, quantity=1, on=date(2026, 3, 3))
    sanction = ledger.impose_sanction(there.admin, official_id=mover.official_id, kind=SanctionKind.DEDUCTION,
                                      criterion="unexcused_training_absence", reason="vắng tập huấn",
                                      on=date(2026, 3, 4))
    own = task(here.economy_head, here.member, here.cycle_id, date(2026, 3, 6))
    ledger.submit_task(here.member, task_id=own, quantity=1, on=date(2026, 3, 5))
    ledger.approve_task(here.economy_head, task_id=own, on=date(2026, 3, 6))
    ledger.record_missed_deadlines(date(2026, 3, 13))
    ledger.relieve_leader(there.admin, unit_id=there.economy_id, post=Post.HEAD, official_id=mover.official_id,
                          on=date(2026, 3, 13), reason="Điều động")
    ledger.transfer_official(there.admin, official_id=mover.official_id, unit_id=here.economy_id,
                             position="Chuyên viên", post_group="chuyên viên", on=date(2026, 3, 13))
    transferred_at = ledger.recorder.max_notification_id() or 0
    his = task(here.economy_head, mover, here.cycle_id, date(2026, 3, 16), on=date(2026, 3, 13))
    ledger.submit_task(mover, task_id=his, quantity=1, on=date(2026, 3, 16))
    ledger.close_cycle(here.admin, cycle_id=here.cycle_id, on=date(2026, 3, 17))
    return Province(here, there, mover, sanction, other_task, transferred_at,
                    ledger.recorder.max_notification_id() or 0)


@pytest.fixture
def province(backend_env: dict[str, str]) -> Iterator[tuple[Ledger, Province]]:
    ledger = Ledger(env=backend_env)
    try:
        yield ledger, record_province(ledger)
    finally:
        ledger.close()


def index_up_to(ledger: Ledger, stop: int | None, page: int = 7) -> None:
    Runner(ledger, [LogScopes(ViewStore(ledger.recorder))], page=page).catch_up(stop=stop)


def outcome(ledger: Ledger, cycle_id: UUID, position: int, **kwargs: Any) -> Replay | str:
    """The replay, or the refusal it ends in (both ways of reading must agree on either)."""
    try:
        return replay(ledger, cycle_id, known_at=position, **kwargs)
    except LedgerError as e:
        return f"{type(e).__name__}: {e}"


def old_behaviour(ledger: Ledger, cycle_id: UUID, position: int) -> Any:
    """The fold fed every scoring event up to the position, as replays read before the index."""
    try:
        return ledger.score_cycle(cycle_id, up_to=position)
    except LedgerError as e:
        return type(e).__name__


def test_replay_through_the_index_equals_a_full_scan_at_every_position_while_the_index_lags(
    province: tuple[Ledger, Province],
) -> None:
    ledger, p = province
    for indexed in (0, p.transferred_at - 1, p.head):  # never built, behind the transfer, caught up
        if indexed:
            index_up_to(ledger, indexed)
        assert index_position(ledger) == indexed
        for cycle_id in (p.here.cycle_id, p.there.cycle_id):
            for position in range(p.head + 1):
                scoped = outcome(ledger, cycle_id, position)
                assert scoped == outcome(ledger, cycle_id, position, full_scan=True), (indexed, position)
                expected = old_behaviour(ledger, cycle_id, position)
                assert (scoped.table if isinstance(scoped, Replay) else scoped.split(":")[0]) == expected


def test_a_newcomer_brings_his_past_even_when_the_index_has_not_seen_him_arrive(
    province: tuple[Ledger, Province],
) -> None:
    ledger, p = province
    index_up_to(ledger, p.transferred_at - 1)
    store = ViewStore(ledger.recorder)
    filed_here = {r["position"] for r in store.query(
        "SELECT position FROM kpi_log_scopes WHERE scope = ?", (str(p.here.commune_id),))}
    now = replay(ledger, p.here.cycle_id)
    cuong = now.row(p.mover.official_id)
    assert cuong is not None
    past = {c.event_type: c.position for c in cuong.contributions
            if c.event_type in ("SanctionImposed", "ApprovalDeadlineMissed")}
    assert set(past) == {"SanctionImposed", "ApprovalDeadlineMissed"}
    assert not filed_here & set(past.values())  # not under Tân Lập yet: read as his, by person
    assert now == replay(ledger, p.here.cycle_id, full_scan=True)

    index_up_to(ledger, None)  # once the index sees the transfer, it files his past here too
    assert set(past.values()) <= {r["position"] for r in store.query(
        "SELECT position FROM kpi_log_scopes WHERE scope = ?", (str(p.here.commune_id),))}


def test_what_ifs_naming_another_communes_events_are_the_same_through_the_index(
    province: tuple[Ledger, Province],
) -> None:
    ledger, p = province
    index_up_to(ledger, None)
    cases: list[dict[str, Any]] = [
        {"without": [f"{p.other_task}:2"]},  # the twin's submission: in the log, not Tân Lập's
        {"without": [f"{p.sanction}:1"]},  # Cường's fine, which Tân Lập's cycle does count
        {"extra_events": [{"type": "SanctionRevoked", "aggregate": str(p.sanction), "reason": "kháng nghị",
                           "occurred_on": "2026-03-12"}]},
        {"extra_events": [{"type": "TaskApproved", "aggregate": str(p.other_task), "major_errors": 0,
                           "occurred_on": "2026-03-12"}]},
    ]
    for position in (p.transferred_at - 1, p.head):
        for case in cases:
            assert outcome(ledger, p.here.cycle_id, position, **case) == outcome(
                ledger, p.here.cycle_id, position, full_scan=True, **case), (position, case)
    revoked = replay(ledger, p.here.cycle_id, **cases[2])
    assert revoked.added[0].originator_version == 2  # numbered after the fine, read by aggregate


def test_catching_up_the_projections_keeps_the_index_and_the_cli_can_ignore_it(
    province: tuple[Ledger, Province], backend_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger, p = province
    catch_up(ledger)
    assert index_position(ledger) == p.head
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in backend_env.items():
        monkeypatch.setenv(key, value)
    cycle = str(p.here.cycle_id)
    for argv in (["replay", cycle, "--known-at", str(p.head - 3), "--json"],
                 ["diff", cycle, "--a", f"known-at={p.transferred_at - 1}", "--json"]):
        scoped, full = run(*argv), run(*argv, "--full-scan")
        assert scoped.code == full.code == 0, scoped.err + full.err
        assert json.loads(scoped.out) == json.loads(full.out)
    assert json.loads(run("diff", cycle, "--a", f"known-at={p.transferred_at - 1}", "--json").out)["changes"]
