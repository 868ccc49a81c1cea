"""The scores projection may hold pages in memory before writing them; every event still counts once.

`Scores(flush_every=n)` reads its tables only after n events (and at the end of every catch-up),
writing nothing and leaving its tracking row alone for the pages in between, while the other read
models commit every page. A runner that dies with pages deferred loses nothing but memory: the
next one folds those events again from the scores' recorded position, and the tables end equal
to a rebuild from zero.
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import date

import pytest

from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.persistence import raw_log_rows
from domain.tasks import KpiKind
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel
from projections.diary import Diary
from projections.log_scopes import LogScopes
from projections.rebuild import check_scores, rebuild
from projections.rebuild_worker import Scoring, fill_chain
from projections.runner import Runner
from projections.scores import Scores
from projections.store import ViewStore
from tests.commune import Commune, build_commune

EVERY_PAGE = ("accountability", "approvals", "diary")


class Killed(Exception):
    """The runner's process dying after a committed page (nothing is rolled back by it)."""


def models(ledger: Ledger, flush_every: int) -> list[ReadModel]:
    store = ViewStore(ledger.recorder)
    return [Accountability(store), Approvals(store), Diary(store), Scores(store, flush_every=flush_every)]


def positions(ledger: Ledger) -> dict[str, int]:
    store = ViewStore(ledger.recorder)
    return {name: store.position(name) for name in (*EVERY_PAGE, "scores")}


def dumps(ledger: Ledger) -> dict[str, dict[str, list[str]]]:
    return {m.name: m.dump() for m in models(ledger, 0)}


def test_a_deferred_page_leaves_the_scores_position_at_its_last_flush_while_the_others_advance(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        runner = Runner(ledger, models(ledger, flush_every=head // 2 + 1), page=3)
        seen: list[tuple[int, dict[str, int]]] = []
        # A stop past the head is the head: the last page flushes everything.
        runner.catch_up(stop=head + 5, progress=lambda last, _: seen.append((last, positions(ledger))))

        assert all(at[name] == last for last, at in seen for name in EVERY_PAGE)
        flushed = [at["scores"] for _, at in seen]
        assert flushed[-1] == head
        middle = max(flushed[:-1])
        assert flushed == sorted(flushed) and set(flushed[:-1]) == {0, middle}, flushed
        assert 0 < middle < seen[-2][0]  # the model asked once, half-way; the rest waited
        assert positions(ledger) == {name: head for name in (*EVERY_PAGE, "scores")}
        before = dumps(ledger)
        rebuild(ledger)
        assert dumps(ledger) == before
    finally:
        ledger.close()


def test_a_runner_killed_with_pages_deferred_is_resumed_by_a_fresh_one_to_the_rows_of_a_rebuild(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        c = build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        runner = Runner(ledger, models(ledger, flush_every=10**9), page=3)
        runner.catch_up(stop=head // 3)
        assert positions(ledger) == {name: head // 3 for name in (*EVERY_PAGE, "scores")}

        def die_past_two_thirds(last: int, _: int) -> None:
            if last > 2 * head // 3:
                raise Killed

        try:
            runner.catch_up(progress=die_past_two_thirds)
        except Killed:
            pass
        at_death = positions(ledger)
        assert at_death["scores"] == head // 3  # its pages since were only in memory
        assert all(2 * head // 3 < at_death[name] < head for name in EVERY_PAGE), at_death
    finally:
        ledger.close()

    fresh = Ledger(env=backend_env)
    try:
        runner = Runner(fresh, models(fresh, flush_every=10**9), page=3)
        applied = runner.catch_up()
        read = raw_log_rows(fresh.recorder, head // 3 + 1, head, head, runner._wanted())
        assert applied == len(read) > 0  # from the scores' position, the furthest behind
        assert positions(fresh) == {name: head for name in (*EVERY_PAGE, "scores")}
        store = ViewStore(fresh.recorder)
        rows = store.query("SELECT COUNT(*) AS n FROM kpi_scoreboard WHERE cycle_id = ?", (str(c.cycle_id),))
        assert int(rows[0]["n"]) > 0
        before = dumps(fresh)
        rebuild(fresh)
        assert dumps(fresh) == before
    finally:
        fresh.close()


# ---------------------------------------------------------------- a rebuild: cycle by cycle, through the index


def d(day: int) -> date:
    return date(2026, 3, day)


def record_work(ledger: Ledger, c: Commune, returned: bool) -> None:
    """Tasks given, submitted, then approved or returned (which moves the heads' unit parts too)."""
    for i, member in enumerate(c.economy_members):
        task = ledger.assign_task(
            c.economy_head, cycle_id=c.cycle_id, assignee_id=member.official_id, title=f"Báo cáo {i}",
            kind=KpiKind.HARD, product="Báo cáo", target_quantity=2, due_on=d(6 + i), on=d(2),
            authority="Kế hoạch công tác tháng 3",
        )
        ledger.submit_task(member, task_id=task, quantity=1 + i % 2, on=d(3 + i))
        if returned and i % 2:
            ledger.return_task(c.economy_head, task_id=task, on=d(5 + i), comment="Thiếu số liệu",
                               major_errors=1)
        else:
            ledger.approve_task(c.economy_head, task_id=task, on=d(5 + i), major_errors=i % 2)
    ledger.impose_sanction(c.admin, official_id=c.culture_members[0].official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn", on=d(10))


def scores_position(ledger: Ledger, name: str) -> int:
    return ViewStore(ledger.recorder).position(name)


def two_communes_indexed(ledger: Ledger) -> tuple[int, ViewStore]:
    """Two communes' work recorded and the shadow log-scope index filled to the head: what a
    rebuild's scorers start from."""
    for c in (build_commune(ledger), build_commune(ledger, tag="B-")):
        record_work(ledger, c, returned=True)
    head = ledger.recorder.max_notification_id() or 0
    store = ViewStore(ledger.recorder)
    Runner(ledger, [LogScopes(store, shadow=True)], page=50).catch_up(stop=head)
    return head, store


def sharing() -> Scoring:
    return Scoring.made_by(multiprocessing)


def live_dump(ledger: Ledger) -> dict[str, list[str]]:
    """The live scores caught up from zero, flushing every few events."""
    live = Scores(ViewStore(ledger.recorder), flush_every=4)
    Runner(ledger, [live], page=3).catch_up()
    return live.dump()


def test_a_rebuild_of_scores_rebuilds_the_index_and_scores_every_cycle_to_the_rows_of_the_live_model(
    backend_env: dict[str, str]
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        for c in (build_commune(ledger), build_commune(ledger, tag="B-")):
            record_work(ledger, c, returned=True)
        head = ledger.recorder.max_notification_id() or 0
        done = rebuild(ledger, ["scores"])
        assert {r.name: r.position for r in done} == {"scores": head, "log_scopes": head}
        assert Scores(ViewStore(ledger.recorder)).dump() == live_dump(ledger)
    finally:
        ledger.close()


def test_scorers_sharing_the_cycles_each_score_only_those_they_take_and_together_all_of_them(
    backend_env: dict[str, str]
) -> None:
    """What two rebuild workers do when each takes one commune's cycle: the cycles written and
    the digests reported add up to a rebuild's, and pass its check."""
    ledger = Ledger(env=backend_env)
    try:
        head, store = two_communes_indexed(ledger)
        shadow = Scores(store, shadow=True)
        second = shadow.rescore(ledger, head, take=iter([1, 2]).__next__)
        assert len(second) == 1 and len(shadow.stored_digests()) == 1
        first = shadow.rescore(ledger, head, take=iter([0, 2]).__next__)
        assert first.keys().isdisjoint(second.keys())
        check_scores(shadow, first | second, head)
        assert first | second == Scores(store, shadow=True).rescore(ledger, head)

        rebuild(ledger, ["scores"], workers=2)
        assert Scores(store).dump() == live_dump(ledger)
    finally:
        ledger.close()


def test_a_shadow_scored_at_an_earlier_position_is_scored_again_in_full(backend_env: dict[str, str]) -> None:
    """What a killed rebuild leaves (some cycles written, at an older position) is never
    trusted: every cycle is deleted and written again from the index at the new head."""
    ledger = Ledger(env=backend_env)
    try:
        communes = [build_commune(ledger), build_commune(ledger, tag="B-")]
        record_work(ledger, communes[0], returned=False)
        middle = ledger.recorder.max_notification_id() or 0
        store = ViewStore(ledger.recorder)
        Runner(ledger, [LogScopes(store, shadow=True)], page=5).catch_up(stop=middle)
        Scores(store, shadow=True).rescore(ledger, middle)
        assert scores_position(ledger, "scores__shadow") == middle

        record_work(ledger, communes[1], returned=True)
        for c in communes:  # the cycles' rows change: tasks approved, the chairman sanctioned
            ledger.impose_sanction(c.admin, official_id=c.chairman.official_id, kind=SanctionKind.DEDUCTION,
                                   criterion="unexcused_training_absence", reason="Vắng họp", on=d(12))
        rebuild(ledger, ["scores"], page=5)
        assert Scores(store).dump() == live_dump(ledger)
    finally:
        ledger.close()


def test_a_scores_worker_whose_rebuild_is_gone_stops_after_the_cycle_it_is_on(
    backend_env: dict[str, str]
) -> None:
    """A killed rebuild's scores worker does no more work: it stops after one cycle, sends no
    digests, records no position, and the next rebuild scores every cycle again."""
    ledger = Ledger(env=backend_env)
    try:
        head, store = two_communes_indexed(ledger)
        shared = sharing()
        shared.index_done(cycles=2)
        with pytest.raises(SystemExit, match="is gone: scores stops here; the next rebuild scores every cycle again"):
            fill_chain(backend_env, [], True, 50, head, shared, parent=-1)  # no process has pid -1
        assert shared.reports.empty()
        assert len(Scores(store, shadow=True).stored_digests()) == 1  # of the two communes' cycles
        assert scores_position(ledger, "scores__shadow") < head

        rebuild(ledger, ["scores"])
        assert Scores(store).dump() == live_dump(ledger)
    finally:
        ledger.close()


def test_the_index_counts_the_cycles_its_scorers_share_and_a_scorer_finding_none_left_writes_nothing(
    backend_env: dict[str, str]
) -> None:
    """A worker done with its own models scores only if a cycle is left to take: the others may
    have scored them all while it filled (and then it need not even import the domain)."""
    ledger = Ledger(env=backend_env)
    try:
        head, store = two_communes_indexed(ledger)
        assert LogScopes(store, shadow=True).cycles(head) == 2
        shared = sharing()
        shared.index_done(cycles=2)
        shared.take(), shared.take()  # both cycles taken by the others
        fill_chain(backend_env, [], True, 50, head, shared, parent=os.getppid())
        assert shared.reports.get(timeout=5) == ({}, {})
        assert scores_position(ledger, "scores__shadow") == 0  # nothing scored, nothing recorded
    finally:
        ledger.close()


def test_an_index_worker_whose_rebuild_is_gone_stops_after_its_first_page_and_never_scores(
    backend_env: dict[str, str]
) -> None:
    """A worker filling the index and then the scores, orphaned: the index stops after one page
    (kept, so the next rebuild resumes it), the scores never start."""
    ledger = Ledger(env=backend_env)
    try:
        build_commune(ledger)
        head = ledger.recorder.max_notification_id() or 0
        index = LogScopes(ViewStore(ledger.recorder), shadow=True)
        index.create_tables()
        shared = sharing()
        with pytest.raises(SystemExit, match="is gone: log_scopes stops here; the next rebuild resumes from here"):
            fill_chain(backend_env, ["log_scopes"], True, 10, head, shared, parent=-1)
        assert shared.reports.empty() and not shared.index_filled.is_set()
        assert index.position() < head
        assert scores_position(ledger, "scores__shadow") == 0

        rebuild(ledger, ["scores"])
        assert Scores(ViewStore(ledger.recorder)).dump() == live_dump(ledger)
    finally:
        ledger.close()
