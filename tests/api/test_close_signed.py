"""Closing a cycle through the API with a signing key stores a checkpoint of the log with it,
as `kpi-ledger close-cycle` does, so an inspector can later prove the certified log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import hash_token, new_token
from domain.access import AccessRole
from domain.cycles import Cycle
from domain.ledger import Ledger
from replay.checkpoints import generate_key, parse_checkpoint, parse_verifier_key, verify_checkpoint
from replay.verify import verify
from tests.commune import build_commune


def test_closing_a_cycle_through_the_api_with_a_key_stores_a_checkpoint_the_log_verifies_against(
    backend_env: dict[str, str], tmp_path: Path
) -> None:
    ledger = Ledger(env=backend_env)
    c = build_commune(ledger)
    signer = generate_key(tmp_path / "inspection.key")
    token = new_token()
    ledger.grant_access(c.admin, token_hash=hash_token(token), official_id=c.admin.official_id,
                        roles=[AccessRole.ADMIN], unit_id=c.province_id)
    client = TestClient(create_app(ledger, today=lambda: date(2026, 3, 17), signer=signer))

    response = client.post(f"/api/v1/cycles/{c.cycle_id}/close", json={"on": "2026-03-17"},
                           headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    closed = [e for e in ledger.read_events() if isinstance(e, Cycle.CycleClosed)]
    assert len(closed) == 1
    verifier = parse_verifier_key(signer.verifier_key)
    checkpoint = verify_checkpoint(closed[0].checkpoint, verifier)
    assert checkpoint.size == closed[0].log_position
    assert parse_checkpoint(closed[0].checkpoint).root == checkpoint.root
    assert verify(ledger, verifier).ok
    ledger.close()
