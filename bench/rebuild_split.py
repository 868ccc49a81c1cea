"""Where a rebuild's time goes: each read model filled alone, in one process, from zero.

The profile behind the rebuild figure of `bench.run`: µs per *log* event spent filling each read
model's shadow tables on their own (reading only its topics, decoding, turning pages into rows,
writing them), beside a plain SQL scan of the same table, and a floor that no Python read model
can go under on this database: the bare `executemany`/COPY of the diary's rows alone (the diary
is two thirds of the log).

    python -m bench.rebuild_split sqlite:///bench.sqlite3
    python -m bench.rebuild_split postgresql://postgres@127.0.0.1/kpi_bench

Works on a copy of nothing: it drops and refills the `__shadow` tables only, never the live ones.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench import references as ref
from domain.ledger import Ledger
from domain.persistence import ledger_env, log_rows
from projections.base import ReadModel
from projections.diary import Diary
from projections.log_scopes import LogScopes
from projections.rebuild import MODELS
from projections.runner import Runner
from projections.scores import Scores
from projections.store import Statement, ViewStore


def fill_alone(ledger: Ledger, name: str) -> float:
    """Seconds to fill one model's shadow from zero (tables dropped first). Scores are timed as a
    rebuild fills them, cycle by cycle through the log-scope index, which is filled (untimed)
    first."""
    store = ViewStore(ledger.recorder)
    model = MODELS[name](store, shadow=True)
    index = LogScopes(store, shadow=True)
    head = ledger.recorder.max_notification_id() or 0
    reset(store, [model, index])
    if isinstance(model, Scores):
        Runner(ledger, [index], page=10_000).catch_up()
    started = time.perf_counter()
    if isinstance(model, Scores):
        model.rescore(ledger, head)
    else:
        Runner(ledger, [model], page=10_000).catch_up()
    seconds = time.perf_counter() - started
    reset(store, [model, index])
    return seconds


def reset(store: ViewStore, models: list[ReadModel]) -> None:
    with store.transaction() as cursor:
        for model in models:
            store.execute(cursor, model.drop_tables())
            store.reset_tracking(cursor, model.tracking_name, None)


def diary_floor(ledger: Ledger) -> tuple[int, float]:
    """(rows, seconds) to insert the diary's rows, already built, into an empty shadow table."""
    store = ViewStore(ledger.recorder)
    diary = Diary(store, shadow=True)
    head = ledger.recorder.max_notification_id() or 0
    statements: list[Statement] = []
    fields = ledger.mapper.decode_fields  # type: ignore[attr-defined]
    start = 1
    while start <= head:
        rows = log_rows(ledger.recorder, start, head, 10_000, diary.topics)
        if not rows:
            break
        statements += diary.apply([(row.id, fields(row, diary.reads_as[row.topic])) for row in rows])
        start = rows[-1].id + 1
    count = sum(len(s.many or ()) for s in statements)
    with store.transaction() as cursor:
        store.execute(cursor, diary.drop_tables())
    diary.create_tables()
    started = time.perf_counter()
    for statement in statements:  # one transaction per page, as the runner commits
        store.run([statement])
    seconds = time.perf_counter() - started
    with store.transaction() as cursor:
        store.execute(cursor, diary.drop_tables())
    return count, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a DATABASE_URL holding a generated log (bench.generate)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    env = ledger_env({"DATABASE_URL": args.url})
    ledger = Ledger(env=env)
    try:
        events = ledger.recorder.max_notification_id() or 0
        scans = [ref.plain_scan(env) for _ in range(args.repeat)]
        scan_us = statistics.median(s[1] for s in scans) / scans[0][0] * 1e6
        print(f"{events:,} log events; plain SQL scan {scan_us:.1f} µs/event (median of {args.repeat})")
        print(f"{'read model':<16}{'µs per log event':>18}{'share':>8}")
        costs: dict[str, float] = {}
        for name in MODELS:
            costs[name] = statistics.median(fill_alone(ledger, name) for _ in range(args.repeat)) / events * 1e6
        total = sum(costs.values())
        for name, us in sorted(costs.items(), key=lambda kv: -kv[1]):
            print(f"{name:<16}{us:>18.1f}{us / total:>8.0%}")
        print(f"{'all, one by one':<16}{total:>18.1f}   (0.15x of the scan is {scan_us / 0.15:.1f})")
        floors: list[Any] = [diary_floor(ledger) for _ in range(args.repeat)]
        rows = floors[0][0]
        floor_us = statistics.median(f[1] for f in floors) / events * 1e6
        print(f"diary rows alone: {rows:,} rows inserted in {floor_us:.1f} µs per log event "
              f"({statistics.median(f[1] for f in floors) / rows * 1e6:.1f} µs per row), no decoding")
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
