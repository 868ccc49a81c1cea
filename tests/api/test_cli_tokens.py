"""`kpi-ledger token create|list|revoke`, in-process, on SQLite and PostgreSQL: the token is
printed once, only its hash is recorded, and the grant names who made it."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from api.auth import hash_token
from api.cli import main
from domain.access import Access, access_id_for
from domain.ledger import Ledger
from domain.org import official_id_for
from tests.commune import build_commune


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ledger_db(backend_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The commune of tests/commune.py in a fresh database that the command line is pointed at."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in backend_env.items():
        monkeypatch.setenv(key, value)
    ledger = Ledger(env=backend_env)
    build_commune(ledger)
    ledger.close()
    return backend_env


def test_a_token_is_printed_once_recorded_by_its_hash_listed_and_revoked(ledger_db: dict[str, str]) -> None:
    code, out, err = run("token", "create", "--official", "TL-KT-1", "--role", "unit_head", "--unit", "BN-TL-KT",
                         "--by", "BN-SNV-01")
    assert code == 0, err
    token = re.search(r"token:\s+(kpi_\S+)", out).group(1)  # type: ignore[union-attr]
    token_id = re.search(r"token id:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    assert token_id == str(access_id_for(hash_token(token)))

    ledger = Ledger(env=ledger_db)
    try:
        [granted] = list(ledger.events.get(access_id_for(hash_token(token))))
        assert isinstance(granted, Access.AccessGranted)
        assert granted.token_hash == hash_token(token)
        assert token not in json.dumps(vars(granted), default=str)
        assert vars(granted)["actor"].role == "admin"  # stamped by the Ledger, not declared
        assert granted.granted_by == official_id_for("BN-SNV-01")  # --by: Đặng Văn Minh, Sở Nội vụ
    finally:
        ledger.close()

    code, out, _ = run("token", "list", "--json")
    [listed] = json.loads(out)
    assert (listed["access_id"], listed["roles"], listed["revoked_at"]) == (token_id, ["unit_head"], None)

    assert run("token", "revoke", token_id)[0] == 0
    [listed] = json.loads(run("token", "list", "--json")[1])
    assert listed["revoked_at"] is not None
    code, _, err = run("token", "revoke", token_id)
    assert code == 2 and "already revoked" in err


def test_a_unit_head_token_without_a_unit_is_refused_and_records_nothing(ledger_db: dict[str, str]) -> None:
    ledger = Ledger(env=ledger_db)
    head = ledger.recorder.max_notification_id()
    code, out, err = run("token", "create", "--official", "TL-KT-1", "--role", "unit_head")
    assert code == 2 and "kpi_" not in out
    assert err.startswith("error: --unit:")
    assert ledger.recorder.max_notification_id() == head
    ledger.close()
