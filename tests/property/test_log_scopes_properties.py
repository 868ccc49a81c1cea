"""A replay through the log-scope index equals a full scan of the log, for generated histories.

The histories of test_projection_properties (two communes whose officials are transferred
between them; tasks, sanctions, missed deadlines, cycles closed and reopened). The index is
caught up to a random point of the history in pages of random size, so it may lag behind the
positions replayed or a transfer; then both communes' cycles are replayed at random positions of
the history and at its end, both ways.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.ledger import Ledger
from projections.log_scopes import LogScopes
from projections.runner import Runner
from projections.store import ViewStore
from replay.timetravel import Replay, replay
from tests.backends import sqlite_env
from tests.property.test_projection_properties import KINDS, History, Step, Template, perform, record_template

# More of what the index must get right: people's events, and people moving between communes.
MIX = (*KINDS, *("sanction", "transfer", "deadlines", "assign", "submit") * 3)
steps = st.lists(
    st.tuples(st.sampled_from(MIX), st.integers(0, 999), st.integers(0, 999), st.integers(0, 999)),
    min_size=1, max_size=40,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Template]:
    env = sqlite_env(tmp_path_factory.mktemp("scopes-template"))
    ledger = Ledger(env=env)
    recorded = record_template(ledger)
    ledger.close()
    return Path(env["SQLITE_DBNAME"]), recorded


def outcome(ledger: Ledger, cycle_id: UUID, position: int, full_scan: bool) -> Replay | str:
    try:
        return replay(ledger, cycle_id, known_at=position, full_scan=full_scan)
    except LedgerError as e:
        return f"{type(e).__name__}: {e}"


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=steps, indexed=st.integers(0, 999), page=st.integers(1, 40),
       picks=st.lists(st.integers(0, 999), min_size=1, max_size=4))
def test_a_replay_through_the_index_equals_a_full_scan_however_far_the_index_has_got(
    template: tuple[Path, Template], tmp_path_factory: pytest.TempPathFactory,
    history: list[Step], indexed: int, page: int, picks: list[int],
) -> None:
    path, recorded = template
    copy = tmp_path_factory.mktemp("scopes-example") / "ledger.sqlite3"
    shutil.copy(path, copy)
    ledger = Ledger(env=sqlite_env(copy.parent))
    try:
        h = History(*recorded)
        start = ledger.recorder.max_notification_id() or 0  # the communes, before the history

        def at(fraction: int) -> int:
            return start + fraction * (head - start) // 999

        for step in history:
            try:
                perform(ledger, h, step)
            except LedgerError:
                pass  # refused: nothing recorded
        head = ledger.recorder.max_notification_id() or 0
        Runner(ledger, [LogScopes(ViewStore(ledger.recorder))], page=page).catch_up(stop=at(indexed))
        for commune in h.communes:
            for position in sorted({at(pick) for pick in picks} | {head}):
                assert outcome(ledger, commune.cycle_id, position, False) == outcome(
                    ledger, commune.cycle_id, position, True), position
    finally:
        ledger.close()
        shutil.rmtree(copy.parent, ignore_errors=True)
