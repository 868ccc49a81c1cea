"""The synthetic province is reproducible, and `Ledger.batch()` keeps every guarantee of a
single command: checks, receipts, one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bench.generate import generate
from domain.errors import InvalidInput
from domain.ledger import Ledger
from tests.backends import sqlite_env
from tests.commune import build_commune


def test_generating_one_commune_twice_from_one_seed_records_the_same_events(tmp_path: Path) -> None:
    counts = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        ledger = Ledger(env=sqlite_env(tmp_path / run))
        stats = generate(ledger, 40, seed=3, batch=500)
        counts.append((ledger.recorder.max_notification_id(), dict(stats.by_command)))
    assert counts[0] == counts[1]
    assert counts[0][0] > 3_000  # ~100 events per official for the month


def test_a_batch_records_its_commands_in_one_transaction_and_a_refused_one_records_nothing(
    backend_env: dict[str, str],
) -> None:
    ledger = Ledger(env=backend_env)
    c = build_commune(ledger)
    before = ledger.recorder.max_notification_id()
    with ledger.batch():
        first = ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(8),
                                duty="một cửa", command_id="entry-1")
        second = ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(8),
                                 duty="một cửa", command_id="entry-2")
        with pytest.raises(InvalidInput, match="hours"):  # 24 hours a day, counting this batch
            ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(9), duty="x")
        again = ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(8),
                                duty="một cửa", command_id="entry-1")
        assert ledger.recorder.max_notification_id() == before  # nothing saved until the end
    assert (first, second, again) == (1, 2, 1)
    events = list(ledger.read_events())[before:]
    # Day started + two entries + two receipts; the retry of entry-1 recorded nothing.
    assert len(events) == 5
    assert {e.command_id for e in events if hasattr(e, "entry_no")} == {"entry-1", "entry-2"}
    assert ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(8),
                           duty="một cửa", command_id="entry-2") == 2


def test_a_batch_left_by_an_exception_records_nothing(tmp_path: Path) -> None:
    ledger = Ledger(env=sqlite_env(tmp_path))
    c = build_commune(ledger)
    before = ledger.recorder.max_notification_id()
    with pytest.raises(RuntimeError, match="import aborted"), ledger.batch():
        ledger.log_work(c.member, cycle_id=c.cycle_id, on=date(2026, 3, 3), hours=Decimal(8), duty="một cửa")
        raise RuntimeError("import aborted")
    assert ledger.recorder.max_notification_id() == before
