"""`kpi-ledger`, run in-process against a SQLite file, as a user would run it.

The demo commune is recorded once per module (it takes a few seconds); tests that record more
work on a copy of its database file.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from api import demo_roster as roster
from domain.cycles import CycleKind, cycle_id_for
from domain.ledger import Ledger
from domain.org import unit_id_for
from domain.persistence import ledger_env
from projections.rebuild import MODELS
from projections.store import ViewStore
from tests.cli_runner import Run, run

CYCLE = str(cycle_id_for(unit_id_for(roster.COMMUNE.code), CycleKind.FIFTEEN_DAYS,
                         roster.CYCLE_STARTS))


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def log_size(path: Path) -> int:
    ledger = Ledger(env=ledger_env({"DATABASE_URL": url(path)}))
    try:
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Run]]:
    """The demo recorded once: its database file and what `kpi-ledger demo` printed."""
    path = tmp_path_factory.mktemp("demo") / "x.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url(path))
        mp.setenv("COLUMNS", "120")
        yield path, run("demo")


@pytest.fixture
def on_demo(demo_db: tuple[Path, Run], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", url(demo_db[0]))
    monkeypatch.setenv("COLUMNS", "120")
    return demo_db[0]


@pytest.fixture
def on_copy(demo_db: tuple[Path, Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo database, for tests that record more."""
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(demo_db[0], copy)
    monkeypatch.setenv("DATABASE_URL", url(copy))
    monkeypatch.setenv("COLUMNS", "120")
    return copy


def test_demo_prints_the_communes_scores_and_one_explanation(demo_db: tuple[Path, Run]) -> None:
    path, demo = demo_db
    assert demo.code == 0, demo.err
    assert f"SQLite {path}" in demo.out
    assert "Xã Cam Lộ" in demo.out
    for person in roster.COMMUNE_STAFF:
        assert person.full_name in demo.out
    assert "Hoàn thành" in demo.out
    assert "completed" in demo.out
    # The explanation: the head who let a submission lapse, with the watcher's line.
    assert "Giải trình điểm: Lê Văn Hùng (CL-020), Trưởng phòng Kinh tế" in demo.out
    assert "ApprovalDeadlineMissed" in demo.out
    assert "-5.00" in demo.out
    assert "equals the sum of the" in demo.out


def test_a_second_demo_run_records_no_new_events(on_demo: Path) -> None:
    before = log_size(on_demo)
    again = run("demo")
    assert again.code == 0, again.err
    assert log_size(on_demo) == before
    assert "nothing new" in again.out


def test_demo_leaves_the_read_models_caught_up_with_the_log(on_demo: Path) -> None:
    ledger = Ledger(env=ledger_env({"DATABASE_URL": url(on_demo)}))
    try:
        store = ViewStore(ledger.recorder)
        head = ledger.recorder.max_notification_id()
        assert {name: store.position(name) for name in MODELS} == {name: head for name in MODELS}
    finally:
        ledger.close()


def test_scores_json_totals_equal_the_sum_of_each_rows_contributions(on_demo: Path) -> None:
    result = run("scores", CYCLE, "--json")
    assert result.code == 0, result.err
    table = json.loads(result.out)
    assert len(table["rows"]) == len(roster.COMMUNE_STAFF)
    for row in table["rows"]:
        lines = row["contributions"]
        assert Decimal(row["total"]) == sum((Decimal(c["delta"]) for c in lines), Decimal(0))
        for component in ("task", "unit", "discipline", "conduct", "approval", "clamp"):
            of_component = (Decimal(c["delta"]) for c in lines if c["component"] == component)
            assert Decimal(row[component]) == sum(of_component, Decimal(0)), row["full_name"]


def test_scores_finds_the_cycle_by_commune_and_first_day(on_demo: Path) -> None:
    by_id = run("scores", CYCLE, "--json")
    by_commune = run("scores", "--commune", roster.COMMUNE.code, "--starts", "2026-03-02",
                     "--json")
    assert by_commune.code == 0, by_commune.err
    assert json.loads(by_commune.out) == json.loads(by_id.out)


def test_the_demo_scores_tell_the_story(on_demo: Path) -> None:
    rows = {r["code"]: r for r in json.loads(run("scores", CYCLE, "--json").out)["rows"]}
    ratings = [r["rating"] for r in rows.values()]
    assert ratings.count("good") > len(rows) / 2
    lapsed, absentee = rows[roster.LAPSED_APPROVER], rows[roster.TRAINING_ABSENTEE]
    assert Decimal(lapsed["approval"]) == Decimal(-5)
    other_heads = [rows[code] for code in roster.HEADS.values() if code != roster.LAPSED_APPROVER]
    assert all(Decimal(lapsed["total"]) < Decimal(h["total"]) for h in other_heads)
    assert Decimal(absentee["discipline"]) == Decimal(13)
    assert "no_assigned_task" in rows[roster.NO_TASK]["flags"]
    chairman, secretary = rows[roster.CHAIRMAN.code], rows[roster.SECRETARY.code]
    assert chairman["unit"] == secretary["unit"]  # joint accountability for the targets
    assert Decimal(chairman["unit"]) < Decimal(35)  # some targets were missed


def test_explain_shows_every_line_with_its_event_and_author(on_demo: Path) -> None:
    result = run("explain", CYCLE, roster.TRAINING_ABSENTEE)
    assert result.code == 0, result.err
    assert "Ngô Văn Bình" in result.out
    assert "SanctionImposed" in result.out and "-2.00" in result.out
    assert "Nguyễn Thị Bích Ngọc" in result.out  # the head who imposed it, by name
    assert "Hoàn thành tốt nhiệm vụ" in result.out


def test_deadlines_records_a_lapsed_approval_once(on_copy: Path) -> None:
    first = run("deadlines", "--as-of", "2026-03-24")
    assert first.code == 0, first.err
    assert "Tổng hợp hồ sơ đề nghị khen thưởng" in first.out  # submitted on the last day
    assert "Trần Thị Minh Thu" in first.out
    assert "1 missed approval deadline(s) recorded" in first.out
    size = log_size(on_copy)
    second = run("deadlines", "--as-of", "2026-03-24")
    assert second.code == 0, second.err
    assert "0 missed approval deadline(s) recorded" in second.out
    assert log_size(on_copy) == size


def test_explain_of_an_unknown_official_exits_2_naming_the_field(on_demo: Path) -> None:
    result = run("explain", CYCLE, "CL-999")
    assert result.code == 2
    assert result.err.startswith("error: official: ")
    assert "CL-999" in result.err


def test_an_unknown_cycle_exits_2_naming_the_field(on_demo: Path) -> None:
    result = run("scores", str(uuid4()))
    assert result.code == 2
    assert result.err.startswith("error: cycle_id: ")


def test_a_malformed_date_names_the_option(on_demo: Path) -> None:
    result = run("deadlines", "--as-of", "2026-02-30")
    assert result.code == 2
    assert result.err.startswith("error: --as-of: ")


def test_fresh_never_deletes_a_database_named_by_the_user(on_demo: Path) -> None:
    result = run("demo", "--fresh")
    assert result.code == 2
    assert result.err.startswith("error: --fresh: refused")
    assert on_demo.exists()


def test_fresh_starts_the_default_sqlite_file_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    monkeypatch.delenv("SQLITE_DBNAME", raising=False)
    monkeypatch.setenv("KPI_LEDGER_DB", str(tmp_path / "default.sqlite3"))
    stale = tmp_path / "default.sqlite3"
    stale.write_bytes(b"not a database")
    result = run("demo", "--fresh")
    assert result.code == 0, result.err
    assert "new events recorded" in result.out
