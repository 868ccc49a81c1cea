"""Several province ledgers, each in its own PostgreSQL database, ingesting in parallel processes.

The partition DESIGN chooses: one ledger per province (its own database, log, Merkle tree and
checkpoints). Provinces share nothing, so they scale out by adding processes, then database
servers; nothing here coordinates them. This script first records one province alone, then N
at once (one process and one database each), and reports aggregate throughput against one.

    python -m bench.multi_province --provinces 2 --officials 400

On one machine the ceiling is the cores shared by the Python processes and the PostgreSQL
server; across machines each province brings its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
import uuid
from typing import Any

import psycopg
from psycopg import sql

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def ingest(args: tuple[str, int, int, str]) -> dict[str, Any]:
    """One province, in this process, into its own database."""
    url, officials, seed, tag = args
    from bench.generate import generate
    from domain.ledger import Ledger
    from domain.persistence import ledger_env

    ledger = Ledger(env=ledger_env({"DATABASE_URL": url}))
    started = time.perf_counter()
    stats = generate(ledger, officials, seed=seed, tag=tag)
    seconds = time.perf_counter() - started
    events = ledger.recorder.max_notification_id() or 0
    return {"tag": tag, "events": events, "commands": stats.commands, "seconds": seconds}


def run(provinces: int, officials: int, server: str) -> dict[str, Any]:
    base = server.rsplit("/", 1)[0]
    names = [f"kpi_province_{i}_{uuid.uuid4().hex[:6]}" for i in range(provinces + 1)]
    with psycopg.connect(server, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        alone = ingest((f"{base}/{names[0]}", officials, 1, "P0-"))
        jobs = [(f"{base}/{names[i + 1]}", officials, i + 1, f"P{i + 1}-") for i in range(provinces)]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(provinces) as pool:
            each = pool.map(ingest, jobs)
        wall = time.perf_counter() - started
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    one = alone["events"] / alone["seconds"]
    together = sum(r["events"] for r in each) / wall
    return {"provinces": provinces, "officials_each": officials, "cpus": os.cpu_count(),
            "one_province_events_per_s": one, "parallel": each, "wall_s": wall,
            "aggregate_events_per_s": together, "speedup": together / one}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provinces", type=int, default=2)
    parser.add_argument("--officials", type=int, default=400, help="officials per province")
    parser.add_argument("--pg", default=os.environ.get("KPI_BENCH_POSTGRES", PG_SERVER))
    args = parser.parse_args(argv)
    result = run(args.provinces, args.officials, args.pg)
    print(f"one province alone:   {result['one_province_events_per_s']:>9,.0f} events/s")
    for r in result["parallel"]:
        print(f"  {r['tag']:<6} {r['events']:>9,} events in {r['seconds']:6.1f} s "
              f"({r['events'] / r['seconds']:,.0f} events/s)")
    print(f"{args.provinces} provinces at once: {result['aggregate_events_per_s']:>9,.0f} events/s aggregate "
          f"({result['speedup']:.2f}x one, {result['cpus']} CPUs shared with PostgreSQL)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
