"""Readers may skip every event the fold does not read; skipping must change no score."""

from __future__ import annotations

from pathlib import Path

from api.demo_commune import record_demo_commune
from domain.ledger import Ledger
from domain.persistence import ledger_env
from domain.scoring import score


def test_scoring_only_the_folded_event_types_gives_the_same_table_as_the_whole_log(tmp_path: Path) -> None:
    ledger = Ledger(env=ledger_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}))
    demo = record_demo_commune(ledger)
    cycle = ledger.get_cycle(demo.cycle_id)
    params = ledger.policy_of(cycle).params

    whole_log = score(params, demo.cycle_id, ledger.read_events(), cycle.policy_version)
    filtered = ledger.score_cycle(demo.cycle_id)

    assert filtered.rows == whole_log.rows
    assert filtered.digest() == whole_log.digest()
