"""Tamper evidence and the inspector's bundle, on SQLite and PostgreSQL, through the CLI.

A commune's 15-day cycle is worked (tasks submitted and approved, diaries, a sanction), its log
checkpointed and signed, the cycle closed with a checkpoint, and an inspector's bundle exported
and checked in a process that has no database settings at all.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api import render
from api.cli import main
from domain.cycles import Cycle
from domain.discipline import SanctionKind
from domain.ledger import Ledger
from domain.persistence import IMMUTABLE_MESSAGE
from domain.tasks import KpiKind
from projections.store import ViewStore
from replay.amendments import amendments
from replay.bundle import BundleError, verify_bundle
from replay.checkpoints import CheckpointStore, load_signer, load_verifier, make_checkpoint, verify_checkpoint
from replay.leaves import leaf_hash_of
from replay.log_tree import catch_up
from replay.merkle import verify_consistency, verify_inclusion
from tests.backends import backend_of, connect_direct, sqlite_env
from tests.commune import Commune, build_commune

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 3, 17, 8, 0, tzinfo=UTC)


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


def work_the_cycle(ledger: Ledger, c: Commune, diary_days: int = 3) -> None:
    """Each member gets a task, keeps a diary, submits and is approved; one is sanctioned."""
    for i, member in enumerate(c.economy_members + c.culture_members):
        head = c.economy_head if member in c.economy_members else c.culture_head
        task = ledger.assign_task(
            head, cycle_id=c.cycle_id, assignee_id=member.official_id, title=f"Rà soát hồ sơ đợt {i + 1}",
            kind=KpiKind.HARD, product="Báo cáo rà soát", target_quantity=2, due_on=d(13), on=d(2),
            authority="Quyết định 15/QĐ-UBND",
        )
        for day in range(3, 3 + diary_days):
            ledger.log_work(member, cycle_id=c.cycle_id, on=d(day), hours=Decimal("7.5"), task_id=task,
                            products=1, description=f"Rà soát hồ sơ ngày {day}/3")
        ledger.submit_task(member, task_id=task, quantity=2 - i % 2, on=d(10))
        ledger.approve_task(head, task_id=task, on=d(11), major_errors=i % 2)
    ledger.impose_sanction(c.economy_head, official_id=c.member.official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 4/3", on=d(5))


def database_url(env: dict[str, str]) -> str:
    if backend_of(env) == "sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}"
    return (f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/"
            f"{env['POSTGRES_DBNAME']}")


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
        *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", database_url(env))
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def keygen(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
           tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "tan-lap.key"
    code, out, _ = cli(monkeypatch, capsys, env, "keygen", str(key), "--name", "kpi.bacninh.example/tan-lap")
    assert code == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    pub = Path(f"{key}.pub")
    assert out.strip().splitlines()[-1] == pub.read_text().strip()
    return key, pub


def close_with_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
                   c: Commune, key: Path) -> None:
    code, out, err = cli(monkeypatch, capsys, env, "close-cycle", str(c.cycle_id), "--on", "2026-03-17",
                         "--sign", str(key), "--by", c.code("TL-09"))
    assert code == 0, err
    assert "certified digest" in out


@pytest.fixture
def ledger(backend_env: dict[str, str]) -> Any:
    app = Ledger(env=backend_env)
    yield app
    app.close()


# ------------------------------------------------------------------------------ checkpoints, proofs


def test_a_signed_checkpoint_proves_every_entry_and_extends_the_one_before(
    ledger: Ledger, backend_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = build_commune(ledger)
    key, pub = keygen(monkeypatch, capsys, backend_env, tmp_path)
    code, first_note, _ = cli(monkeypatch, capsys, backend_env, "checkpoint", "--sign", str(key))
    assert code == 0
    work_the_cycle(ledger, c)
    code, second_note, _ = cli(monkeypatch, capsys, backend_env, "checkpoint", "--sign", str(key))
    assert code == 0

    verifier = load_verifier(pub)
    first, second = verify_checkpoint(first_note, verifier), verify_checkpoint(second_note, verifier)
    head = ledger.recorder.max_notification_id()
    assert (second.size, first.origin) == (head, "kpi.bacninh.example/tan-lap")
    stored = CheckpointStore(ViewStore(ledger.recorder)).all()
    assert [(cp.size, cp.root) for cp, _ in stored] == [(first.size, first.root), (second.size, second.root)]

    tree = catch_up(ledger)
    proofs = tree.proofs(second.size, inclusions=range(second.size), consistencies=[first.size])
    assert proofs.root == second.root
    for index, notification in enumerate(ledger.recorder.select_notifications(start=1, limit=head + 1)):
        verify_inclusion(leaf_hash_of(notification), index, second.size, proofs.inclusion[index], second.root)
    verify_consistency(first.size, second.size, proofs.consistency[first.size], first.root, second.root)

    code, out, _ = cli(monkeypatch, capsys, backend_env, "prove", "inclusion", "7", "--json")
    printed = json.loads(out)
    (seventh,) = ledger.recorder.select_notifications(start=7, limit=1)
    verify_inclusion(leaf_hash_of(seventh), printed["leaf_index"], printed["tree_size"],
                     [base64.b64decode(p) for p in printed["proof"]], second.root)
    code, out, _ = cli(monkeypatch, capsys, backend_env, "prove", "consistency", str(first.size), "--json")
    printed = json.loads(out)
    verify_consistency(first.size, second.size, [base64.b64decode(p) for p in printed["proof"]],
                       first.root, second.root)

    code, out, err = cli(monkeypatch, capsys, backend_env, "verify", "--key", str(pub))
    assert code == 0, err
    assert f"{head} log entries" in out


def test_verify_names_an_edited_row_and_a_checkpoint_signed_by_another_key(
    ledger: Ledger, backend_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_commune(ledger)
    key, pub = keygen(monkeypatch, capsys, backend_env, tmp_path)
    assert cli(monkeypatch, capsys, backend_env, "checkpoint", "--sign", str(key))[0] == 0
    table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    conn = connect_direct(backend_env)
    try:
        if backend_of(backend_env) == "postgres":
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            conn.execute(f"UPDATE {table} SET state = state || ' '::bytea WHERE notification_id = 9")
        else:
            conn.execute(f"DROP TRIGGER {table}_no_update")
            conn.execute(f"UPDATE {table} SET state = CAST(state || X'20' AS BLOB) WHERE rowid = 9")
    finally:
        conn.close()
    code, _, err = cli(monkeypatch, capsys, backend_env, "verify")
    assert code == 1
    assert "position 9:" in err and "edited" in err

    other = tmp_path / "other.key"
    assert cli(monkeypatch, capsys, backend_env, "keygen", str(other), "--name", "kpi.bacninh.example/tan-lap")[0] == 0
    code, _, err = cli(monkeypatch, capsys, backend_env, "verify", "--key", f"{other}.pub")
    assert code == 1
    assert "not signed by the key" in err


# ------------------------------------------------------------------------------ closing, amendments


def test_closing_a_cycle_stores_the_signed_checkpoint_and_the_certified_digest(
    ledger: Ledger, backend_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = build_commune(ledger)
    work_the_cycle(ledger, c)
    key, pub = keygen(monkeypatch, capsys, backend_env, tmp_path)
    before = ledger.recorder.max_notification_id()
    close_with_cli(monkeypatch, capsys, backend_env, c, key)

    closed = list(ledger.events.get(c.cycle_id))[-1]
    assert isinstance(closed, Cycle.CycleClosed)
    checkpoint = verify_checkpoint(closed.checkpoint, load_verifier(pub))
    assert checkpoint.size == closed.log_position == before
    assert closed.table_digest == ledger.score_cycle(c.cycle_id, up_to=before).digest()
    tree = catch_up(ledger)
    assert tree.root(checkpoint.size) == checkpoint.root
    # ... and a second checkpoint covers the CycleClosed itself, so a bundle can prove it.
    stored = [cp for cp, _ in CheckpointStore(ViewStore(ledger.recorder)).all()]
    assert [cp.size for cp in stored] == [before, before + 1]
    assert stored[0].note == closed.checkpoint


def test_amendments_list_a_later_event_that_changes_a_certified_score_and_not_one_that_does_not(
    ledger: Ledger, backend_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    c = build_commune(ledger)
    work_the_cycle(ledger, c)
    digest = ledger.close_cycle(c.admin, cycle_id=c.cycle_id, on=d(17))
    certified = ledger.score_cycle(c.cycle_id).row(c.colleague.official_id).total
    # A sanction dated inside the certified period changes it; one dated in April does not.
    ledger.impose_sanction(c.economy_head, official_id=c.colleague.official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 9/3", on=d(9))
    changing = ledger.recorder.max_notification_id()
    ledger.impose_sanction(c.economy_head, official_id=c.colleague.official_id, kind=SanctionKind.DEDUCTION,
                           criterion="unexcused_training_absence", reason="Vắng tập huấn ngày 6/4", on=d(6, 4))

    found = amendments(ledger, c.cycle_id)
    assert found.reproduced and found.certified_digest == digest
    assert [a.position for a in found.amendments] == [changing]
    changes = {change.official_id: change for change in found.amendments[0].changes}
    change = changes.pop(c.colleague.official_id)
    assert (change.before_total, change.after_total) == (certified, certified - Decimal(2))
    assert set(changes) <= {c.economy_head.official_id}  # his unit part is the members' mean

    code, out, _ = cli(monkeypatch, capsys, backend_env, "amendments", str(c.cycle_id), "--json")
    assert code == 0
    assert [a["position"] for a in json.loads(out)["amendments"]] == [changing]


# ------------------------------------------------------------------------------ the inspector's bundle


def run_offline(*argv: str) -> subprocess.CompletedProcess[str]:
    """`kpi-ledger` in a process whose environment holds nothing but PATH: no DATABASE_URL, no
    POSTGRES_*, no KPI_LEDGER_DB."""
    return subprocess.run([sys.executable, "-m", "api.cli", *argv], cwd=REPO, env={"PATH": os.environ["PATH"]},
                          capture_output=True, text=True, timeout=120)


def figures(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    names = ("task", "unit", "discipline", "conduct", "approval", "clamp", "total", "rating")
    return sorted((r["official_id"], *(str(r[n]) for n in names)) for r in rows)


@pytest.mark.postgres
def test_an_honest_bundle_verifies_offline_and_gives_the_scores_of_sqlite_and_postgres(
    tmp_path: Path, pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    results = {}
    for env in (sqlite_env(tmp_path), pg_env):
        backend = backend_of(env)
        ledger = Ledger(env=env)
        try:
            c = build_commune(ledger)
            (tmp_path / backend).mkdir()
            key, pub = keygen(monkeypatch, capsys, env, tmp_path / backend)
            code, kept, _ = cli(monkeypatch, capsys, env, "checkpoint", "--sign", str(key))  # the inspector keeps it
            (tmp_path / backend / "kept.checkpoint").write_text(kept)
            work_the_cycle(ledger, c)
            close_with_cli(monkeypatch, capsys, env, c, key)
            bundle = tmp_path / backend / "bundle.json"
            code, _, err = cli(monkeypatch, capsys, env, "export-bundle", str(c.cycle_id), str(bundle),
                               "--key", str(pub))
            assert code == 0, err
            live = ledger.score_cycle(c.cycle_id)
        finally:
            ledger.close()

        done = run_offline("verify-bundle", str(bundle), "--key", str(pub),
                           "--against", str(tmp_path / backend / "kept.checkpoint"), "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["ok"] and report["digest"] == live.digest()
        assert report["against_size"] == verify_checkpoint(kept, load_verifier(pub)).size
        assert report["omitted"] > 0  # the diaries were proven, not disclosed
        assert figures(report["scores"]["rows"]) == figures([render.row_json(r) for r in live.rows])
        results[backend] = (report["digest"], figures(report["scores"]["rows"]), bundle, pub)

    assert results["sqlite"][:2] == results["postgres"][:2]

    bundle, pub = results["postgres"][2], results["postgres"][3]
    altered = bytearray(bundle.read_bytes())
    altered[len(altered) // 2] ^= 0x01
    forged = tmp_path / "altered.json"
    forged.write_bytes(bytes(altered))
    done = run_offline("verify-bundle", str(forged), "--key", str(pub))
    assert done.returncode == 1
    assert "verify-bundle FAILED" in done.stderr


def test_a_bundle_refuses_an_inspectors_checkpoint_the_log_no_longer_extends(
    ledger: Ledger, backend_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = build_commune(ledger)
    key, pub = keygen(monkeypatch, capsys, backend_env, tmp_path)
    size = ledger.recorder.max_notification_id()
    work_the_cycle(ledger, c, diary_days=1)
    close_with_cli(monkeypatch, capsys, backend_env, c, key)
    bundle = tmp_path / "bundle.json"
    code, _, err = cli(monkeypatch, capsys, backend_env, "export-bundle", str(c.cycle_id), str(bundle),
                       "--key", str(pub), "--since-size", str(size))
    assert code == 0, err
    data = bundle.read_bytes()
    # What the inspector kept from an earlier visit, had the first `size` entries been different then.
    rewritten = make_checkpoint(load_signer(key), size, bytes(32), AT)
    with pytest.raises(BundleError, match="HISTORY REWRITTEN"):
        verify_bundle(data, against=rewritten.note, pinned=load_verifier(pub))
    honest = make_checkpoint(load_signer(key), size, catch_up(ledger).root(size), AT)
    assert verify_bundle(data, against=honest.note, pinned=load_verifier(pub)).against == honest
    newer = make_checkpoint(load_signer(key), size + 10_000, bytes(32), AT)
    with pytest.raises(BundleError, match="newer than the bundle"):
        verify_bundle(data, against=newer.note)


# ------------------------------------------------------------------------------ PostgreSQL privileges


@pytest.mark.postgres
def test_the_application_role_appends_but_cannot_update_delete_or_truncate_the_log(
    pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    owner = Ledger(env=pg_env)
    c = build_commune(owner)
    role = f"kpi_app_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("KPI_TEST_APP_PASSWORD", "s3cret-" + role)
    code, out, err = cli(monkeypatch, capsys, pg_env, "setup-roles", "--app-role", role,
                         "--password-env", "KPI_TEST_APP_PASSWORD")
    assert code == 0, err
    app_env = {**pg_env, "POSTGRES_USER": role, "POSTGRES_PASSWORD": "s3cret-" + role, "CREATE_TABLE": "n"}
    table = owner.recorder.events_table_name  # type: ignore[attr-defined]
    try:
        app = Ledger(env=app_env)
        try:
            before = app.recorder.max_notification_id()
            app.log_work(c.member, cycle_id=c.cycle_id, on=d(3), hours=Decimal(8), duty="Tiếp công dân")
            assert app.recorder.max_notification_id() > before
            tree = catch_up(app)  # the role keeps the Merkle tree too
            assert tree.size() == app.recorder.max_notification_id()
        finally:
            app.close()
        with psycopg.connect(dbname=pg_env["POSTGRES_DBNAME"], host=pg_env["POSTGRES_HOST"],
                             port=pg_env["POSTGRES_PORT"], user=role, password="s3cret-" + role,
                             autocommit=True) as conn:
            for statement, refusal in (
                (f"UPDATE {table} SET topic = 'forged'", "permission denied"),
                (f"DELETE FROM {table}", "permission denied"),
                (f"TRUNCATE {table}", IMMUTABLE_MESSAGE),
                (f"ALTER TABLE {table} DISABLE TRIGGER USER", "must be owner"),
                ("UPDATE kpi_merkle_leaves SET leaf_hash = ''", "permission denied"),
                ("DELETE FROM kpi_checkpoints", "permission denied"),
            ):
                with pytest.raises(psycopg.Error, match=refusal):
                    conn.execute(statement)
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == before + 2
    finally:
        owner.close()
        with psycopg.connect(dbname=pg_env["POSTGRES_DBNAME"], host=pg_env["POSTGRES_HOST"],
                             port=pg_env["POSTGRES_PORT"], user=pg_env["POSTGRES_USER"], autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_setup_roles_is_refused_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = cli(monkeypatch, capsys, sqlite_env(tmp_path), "setup-roles", "--app-role", "kpi_app")
    assert code == 2
    assert "SQLite has no roles" in err
