"""The demo commune scores the same on SQLite and on PostgreSQL.

Each backend's table is compared with one reference table, recorded in memory (the same Ledger
and stored-event format, no database), so the two backends agree with each other through it.
Task and sanction ids are random, so contribution lines are compared without their event ids
and recording times; everything that makes the score (and the digest) must match exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.demo_commune import record_demo_commune
from domain.ledger import Ledger
from domain.persistence import MAPPER_TOPIC
from domain.scoring import OfficialScore, ScoreTable


def comparable(row: OfficialScore) -> tuple[Any, ...]:
    lines = tuple(
        (c.official_id, c.component, c.delta, c.event_type, c.actor_id, c.actor_role, c.note,
         c.basis_official_id)
        for c in row.contributions
    )
    return (row.official_id, row.code, row.full_name, row.position, row.unit_id, row.unit_name,
            row.post_group, row.post, row.task, row.unit, row.discipline, row.conduct,
            row.approval, row.clamp, row.total, row.rating, row.flags, lines)


@pytest.fixture(scope="module")
def reference() -> ScoreTable:
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "MAPPER_TOPIC": MAPPER_TOPIC})
    demo = record_demo_commune(ledger)
    return ledger.score_cycle(demo.cycle_id)


def test_the_demo_scores_identically_on_every_backend(
    backend_env: dict[str, str], reference: ScoreTable
) -> None:
    ledger = Ledger(env=backend_env)
    try:
        demo = record_demo_commune(ledger)
        table = ledger.score_cycle(demo.cycle_id)
        assert len(demo.missed_deadlines) == 1
        assert table.digest() == reference.digest()
        assert [comparable(r) for r in table.rows] == [comparable(r) for r in reference.rows]

        size = ledger.recorder.max_notification_id()
        again = record_demo_commune(ledger)
        assert again.missed_deadlines == []
        assert ledger.recorder.max_notification_id() == size
        assert ledger.score_cycle(demo.cycle_id).digest() == table.digest()
    finally:
        ledger.close()
