"""Read models survive killed processes, slow writers and each other: every event exactly once.

Crash safety (PostgreSQL, real processes): `kpi-ledger catch-up` and `kpi-ledger rebuild` are
run as subprocesses on a database holding the demo commune (~2,900 events), SIGKILLed part-way
(once the tracking table shows the models that commit every page past a sixth of the log, with
the scores' pages still deferred in memory), restarted to completion, and their tables compared
with an uninterrupted run on an identical copy of the database.

Concurrency: a writer that holds the event table's insert lock for seconds while other commands
queue behind it (PostgreSQL), and two runners catching up the same database at once (both
backends). Each ends with every event applied once: the diary holds exactly the WorkLogged events
of the log, and every table equals a rebuild from zero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql

from api.demo_commune import record_demo_commune
from domain.actors import Actor
from domain.diary import DiaryDay
from domain.ledger import Ledger
from domain.persistence import MAPPER_TOPIC
from domain.tasks import KpiKind
from projections.base import ReadModel
from projections.diary import entries_of
from projections.rebuild import APART, MODELS, live_runner, rebuild
from projections.runner import ProjectionMoved, Runner
from projections.store import TRACKING_TABLE, ViewStore
from tests.backends import backend_of, postgres_env
from tests.commune import Commune, build_commune

REPO = Path(__file__).resolve().parents[2]
WAIT = 120.0  # seconds: the bound on every wait below (a hang fails, it never blocks CI)
WORK_LOGGED = get_topic(DiaryDay.WorkLogged)
# The read models that commit every page; scores defers the demo commune's pages to the end of a
# catch-up (it is far under `Scores`' flush thresholds), so a kill finds its pages only in memory.
EVERY_PAGE = [name for name in MODELS if name != "scores"]


def d(day: int) -> date:
    return date(2026, 3, day)


def dumps(models: list[ReadModel]) -> dict[str, dict[str, list[str]]]:
    return {m.name: m.dump() for m in models}


def live_models(ledger: Ledger) -> list[ReadModel]:
    store = ViewStore(ledger.recorder)
    models = [cls(store) for cls in MODELS.values()]
    for m in models:
        m.create_tables()
    return models


def assert_every_event_applied_once(ledger: Ledger) -> None:
    """Positions at the head, diary rows exactly the WorkLogged events, tables equal to a rebuild."""
    head = ledger.recorder.max_notification_id() or 0
    models = live_models(ledger)
    assert {m.name: m.position() for m in models} == {m.name: head for m in models}
    logged = [n.id for n in ledger.recorder.select_notifications(1, 1_000_000, topics=[WORK_LOGGED])]
    diary = [e["position"] for r in models[0].store.query("SELECT entries FROM kpi_diary_days")
             for e in entries_of(r["entries"])]
    assert sorted(diary) == logged
    before = dumps(models)
    rebuild(ledger)
    assert dumps(models) == before


# ------------------------------------------------------------------------------ crash safety


def pg_url(server: str, dbname: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


@pytest.fixture(scope="module")
def demo_template(postgres_server: str) -> Iterator[str]:
    """A database holding the demo commune, recorded once: tests work on copies of it."""
    name = f"kpi_test_demo_{os.getpid()}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        # Recorded in memory (seconds, not tens of seconds of round trips), then the same stored
        # events, in the same order, written through the PostgreSQL recorder.
        memory = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "MAPPER_TOPIC": MAPPER_TOPIC})
        record_demo_commune(memory)
        ledger = Ledger(env=postgres_env(pg_url(postgres_server, name)))
        start = 1
        while page := memory.recorder.select_notifications(start, 1_000):
            ledger.recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in page])
            start = page[-1].id + 1
        ledger.close()
        yield name
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def copy_of(server: str, template: str, suffix: str) -> Iterator[str]:
    name = f"{template}_{suffix}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    try:
        yield pg_url(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def kpi_ledger(url: str, *argv: str) -> subprocess.Popen[bytes]:
    """The command as a user runs it in a terminal, where Ctrl-C interrupts it, even when the
    tests themselves run with SIGINT ignored (a shell's background job)."""
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *argv], cwd=REPO, env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def tracked(url: str, names: list[str]) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            rows = conn.execute(
                sql.SQL("SELECT application_name, notification_id FROM {} WHERE application_name = ANY(%s)")
                .format(sql.Identifier(TRACKING_TABLE)), (names,)).fetchall()
        except psycopg.errors.UndefinedTable:
            return {}
    return {name: int(position) for name, position in rows}


def kill_when_past(process: subprocess.Popen[bytes], url: str, names: list[str], position: int) -> dict[str, int]:
    """SIGKILL the process once every named projection has committed a page past `position`."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        seen = tracked(url, names)
        if len(seen) == len(names) and min(seen.values()) > position:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=WAIT)
            return tracked(url, names)
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"finished before it could be killed (exit {process.returncode}): {err.decode()}")
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"no page past position {position} within {WAIT} s")


def finish(process: subprocess.Popen[bytes]) -> str:
    out, err = process.communicate(timeout=WAIT)
    assert process.returncode == 0, err.decode()
    return out.decode()


def tables_of(url: str) -> dict[str, dict[str, list[str]]]:
    ledger = Ledger(env=postgres_env(url))
    try:
        return dumps(live_models(ledger))
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_catch_up_killed_part_way_resumes_to_the_same_rows_as_an_uninterrupted_one(
    postgres_server: str, demo_template: str
) -> None:
    with copy_of(postgres_server, demo_template, "killed") as killed, \
            copy_of(postgres_server, demo_template, "whole") as whole:
        ledger = Ledger(env=postgres_env(whole))
        try:
            head = ledger.recorder.max_notification_id() or 0
            live_runner(ledger, page=1_000).catch_up()
        finally:
            ledger.close()

        at_kill = kill_when_past(kpi_ledger(killed, "catch-up", "--page", "20"), killed, EVERY_PAGE, head // 6)
        assert all(head // 6 < p < head for p in at_kill.values()), at_kill
        scores_at = tracked(killed, ["scores"]).get("scores", 0)
        assert scores_at < head  # its pages were deferred: they died with the process's memory
        out = finish(kpi_ledger(killed, "catch-up"))
        assert f"{head - min(scores_at, *at_kill.values())} events applied" in out
        assert tracked(killed, list(MODELS)) == {name: head for name in MODELS}
        assert tables_of(killed) == tables_of(whole)


@pytest.mark.postgres
def test_a_rebuild_killed_part_way_leaves_the_live_tables_alone_and_resumes(
    postgres_server: str, demo_template: str
) -> None:
    with copy_of(postgres_server, demo_template, "killed") as killed, \
            copy_of(postgres_server, demo_template, "whole") as whole:
        for url in (killed, whole):  # both serve a live view as of a third of the log
            ledger = Ledger(env=postgres_env(url))
            try:
                head = ledger.recorder.max_notification_id() or 0
                live_runner(ledger).catch_up(stop=head // 3)
            finally:
                ledger.close()
        serving = tables_of(killed)

        shadows = [name + "__shadow" for name in MODELS]
        # In one process the index's group is filled first: killed while it fills.
        every_page = [name + "__shadow" for name in EVERY_PAGE if name not in APART]
        rebuilding = kpi_ledger(killed, "rebuild", "--page", "20", "--workers", "1")
        at_kill = kill_when_past(rebuilding, killed, every_page, head // 6)
        assert all(head // 6 < p < head for p in at_kill.values()), at_kill
        assert tracked(killed, ["scores__shadow"]).get("scores__shadow", 0) < head  # deferred
        assert tables_of(killed) == serving  # users never saw a half-built table
        assert tracked(killed, list(MODELS)) == {name: head // 3 for name in MODELS}

        out = finish(kpi_ledger(killed, "rebuild"))
        assert "scores match a fold of the log" in out
        assert tracked(killed, shadows) == {}
        ledger = Ledger(env=postgres_env(whole))
        try:
            rebuild(ledger)
        finally:
            ledger.close()
        assert tracked(killed, list(MODELS)) == tracked(whole, list(MODELS)) == {name: head for name in MODELS}
        assert tables_of(killed) == tables_of(whole)


@pytest.mark.postgres
def test_a_rebuild_in_worker_processes_killed_part_way_leaves_nothing_working_and_resumes(
    postgres_server: str, demo_template: str
) -> None:
    with copy_of(postgres_server, demo_template, "killed") as killed, \
            copy_of(postgres_server, demo_template, "whole") as whole:
        ledger = Ledger(env=postgres_env(whole))
        try:
            head = ledger.recorder.max_notification_id() or 0
            rebuild(ledger)
        finally:
            ledger.close()
        shadows = [name + "__shadow" for name in MODELS]
        rebuilding = kpi_ledger(killed, "rebuild", "--page", "10", "--workers", "2")
        at_kill = kill_when_past(rebuilding, killed, ["diary__shadow"], head // 10)
        assert at_kill["diary__shadow"] < head
        time.sleep(1.0)  # a worker notices it is orphaned after the page it is on
        settled = tracked(killed, shadows)
        time.sleep(1.0)
        assert tracked(killed, shadows) == settled  # nothing is still working on the shadows
        assert settled.get("diary__shadow", 0) < head

        out = finish(kpi_ledger(killed, "rebuild", "--workers", "2"))
        assert "scores match a fold of the log" in out
        assert tracked(killed, shadows) == {}
        assert tables_of(killed) == tables_of(whole)


# ------------------------------------------------------------------------------ slow writers


def slow_work_logged(ledger: Ledger, c: Commune, official: Actor, on: date, hold: float,
                     holding: threading.Event) -> None:
    """What `Ledger.log_work` stores, written the way the library writes it (insert lock, NOTIFY,
    INSERT), but with the transaction held open for `hold` seconds before COMMIT."""
    day = DiaryDay(official_id=official.official_id, occurred_on=on)
    day.log(c.cycle_id, Decimal(8), None, "Trực cơ quan", 1, "Trực cơ quan", Decimal(24))
    pending = day.collect_events()
    for event in pending:
        object.__setattr__(event, "actor", official)
        object.__setattr__(event, "command_id", f"slow-writer-{on.isoformat()}")
    stored = [ledger.mapper.to_stored_event(e) for e in pending]
    env = ledger.env
    with psycopg.connect(host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"], password=env["POSTGRES_PASSWORD"]) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '0s'")
            conn.execute("LOCK TABLE public.ledger_events IN EXCLUSIVE MODE")
            conn.execute("NOTIFY ledger_events")
            for s in stored:
                conn.execute("INSERT INTO public.ledger_events (originator_id, originator_version, topic, state) "
                             "VALUES (%s, %s, %s, %s) RETURNING notification_id",
                             (s.originator_id, s.originator_version, s.topic, s.state))
            holding.set()
            time.sleep(hold)
            holding.clear()


def in_threads(*targets: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as e:  # reported by the test, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
        assert not t.is_alive(), "a thread did not finish in time"
    return errors


def keep_catching_up(runner: Runner, done: threading.Event, during: threading.Event | None = None,
                     seen_during: list[int] | None = None) -> None:
    while not done.is_set():
        try:
            runner.catch_up()
        except ProjectionMoved:
            continue
        if during is not None and seen_during is not None and during.is_set():
            seen_during.append(min(runner.positions.values()))
        time.sleep(0.02)
    while True:
        try:
            runner.catch_up()
            return
        except ProjectionMoved:
            continue


@pytest.mark.postgres
def test_catch_up_applies_every_event_once_while_a_slow_writer_holds_its_transaction(
    pg_env: dict[str, str]
) -> None:
    ledger = Ledger(env=pg_env)
    try:
        c = build_commune(ledger)
        runner = live_runner(ledger, page=3)
        runner.catch_up()
        holding, done = threading.Event(), threading.Event()
        seen_while_holding: list[int] = []
        others = [(official, Ledger(env=pg_env)) for official in (*c.economy_members, c.culture_head)]

        def writer(official: Actor, mine: Ledger) -> Callable[[], None]:
            def log_days() -> None:
                for n in range(12):
                    mine.log_work(official, cycle_id=c.cycle_id, on=d(2) + timedelta(days=n),
                                  hours=Decimal(4), duty="Tiếp công dân", products=1)
                    time.sleep(0.05)
            return log_days

        def slow() -> None:
            time.sleep(0.2)  # some commands commit first, the rest queue behind the insert lock
            slow_work_logged(ledger, c, c.culture_member, d(14), 3.0, holding)

        def record() -> None:
            try:
                errors.extend(in_threads(slow, *(writer(o, mine) for o, mine in others)))
            finally:
                done.set()

        errors: list[BaseException] = []
        errors += in_threads(record, lambda: keep_catching_up(runner, done, holding, seen_while_holding))
        for _, mine in others:
            mine.close()
        assert not errors, errors
        assert seen_while_holding, "the runner never caught up while the slow transaction was open"
        ids = [n.id for n in ledger.recorder.select_notifications(1, 1_000_000)]
        assert ids == list(range(1, len(ids) + 1))  # commit order is id order: nothing to skip
        assert_every_event_applied_once(ledger)
        diary = ViewStore(ledger.recorder).query(
            "SELECT day FROM kpi_diary_days WHERE official_id = ?", (str(c.culture_member.official_id),))
        assert diary == [{"day": "2026-03-14"}]  # the slow writer's entry, applied once
    finally:
        ledger.close()


# ------------------------------------------------------------------------------ two runners


def test_two_runners_on_one_database_apply_every_event_once(backend_env: dict[str, str]) -> None:
    ledger = Ledger(env=backend_env)
    try:
        c = build_commune(ledger)
        live_models(ledger)  # tables exist before the runners race to fill them
        done = threading.Event()
        runners = [live_runner(Ledger(env=backend_env), page=2 + n) for n in range(2)]

        def record() -> None:
            for n, official in enumerate((*c.economy_members, *c.culture_members) * 3):
                ledger.log_work(official, cycle_id=c.cycle_id, on=d(2 + n // 5), hours=Decimal(2),
                                duty="Soạn văn bản", products=1)
            task = ledger.assign_task(
                c.economy_head, cycle_id=c.cycle_id, assignee_id=c.member.official_id, title="Báo cáo tháng",
                kind=KpiKind.HARD, product="Báo cáo",
                target_quantity=1, due_on=d(13), on=d(2), authority="Kế hoạch tháng 3")
            ledger.submit_task(c.member, task_id=task, quantity=1, on=d(4))
            ledger.return_task(c.economy_head, task_id=task, on=d(5), comment="Bổ sung", major_errors=1)
            ledger.submit_task(c.member, task_id=task, quantity=1, on=d(6))
            ledger.approve_task(c.economy_head, task_id=task, on=d(9))
            done.set()

        errors = in_threads(record, *(lambda r=r: keep_catching_up(r, done) for r in runners))
        assert not errors, errors
        for r in runners:
            keep_catching_up(r, done)
            r.ledger.close()
        assert_every_event_applied_once(ledger)
        returns = ViewStore(ledger.recorder).query("SELECT returns FROM kpi_tasks")
        assert returns == [{"returns": 1}]  # an UPDATE applied twice would say 2
    finally:
        ledger.close()


# ------------------------------------------------------------------------------ the follower


def database_url(env: dict[str, str]) -> str:
    if backend_of(env) == "sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}"
    return (f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/"
            f"{env['POSTGRES_DBNAME']}")


def test_project_follows_new_commands_and_stops_cleanly_on_ctrl_c(backend_env: dict[str, str]) -> None:
    ledger = Ledger(env=backend_env)
    try:
        c = build_commune(ledger)
        follower = kpi_ledger(database_url(backend_env), "project", "--poll", "0.1")
        try:
            store = ViewStore(ledger.recorder)
            for n in range(3):
                ledger.log_work(c.member, cycle_id=c.cycle_id, on=d(2 + n), hours=Decimal(8), duty="Tiếp công dân")
            head = ledger.recorder.max_notification_id() or 0
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and store.position("diary") < head:
                assert follower.poll() is None, follower.communicate()[1].decode()
                time.sleep(0.05)
            follower.send_signal(signal.SIGINT)
            out = finish(follower)
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.wait(timeout=WAIT)
        assert "stopped" in out and "+" in out
        assert sum(len(entries_of(r["entries"])) for r in store.query("SELECT entries FROM kpi_diary_days")) == 3
        assert_every_event_applied_once(ledger)
    finally:
        ledger.close()
