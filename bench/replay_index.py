"""Known-at replays of one commune's cycle: through the log-scope index, and by full scan.

    python -m bench.replay_index sqlite:////tmp/p4000.sqlite3 [--samples 20] [--seed 7]

Catch the projections up first (`kpi-ledger catch-up`), or the index has nothing to offer and
both ways read the whole log. Positions are spread over the log (each at or after its cycle's
opening), the cycle drawn at random per position; the two ways alternate, so a busy machine
slows both alike. Prints median and p95 of each, their ratio, and checks every pair agrees.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.cycles import Cycle
from domain.ledger import Ledger
from domain.persistence import ledger_env
from replay.timetravel import index_position, replay


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="a DATABASE_URL")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    ledger = Ledger(env=ledger_env({"DATABASE_URL": args.url}))
    try:
        head = ledger.recorder.max_notification_id() or 0
        opened = {e.originator_id: e.notification_id
                  for e in ledger.read_events(topics=[get_topic(Cycle.CycleOpened)])}
        rng = random.Random(args.seed)
        chosen: list[tuple[UUID, int]] = []
        for i in range(args.samples):
            cycle_id = rng.choice(sorted(opened, key=str))
            chosen.append((cycle_id, max(opened[cycle_id], head * (i + 1) // args.samples)))
        print(f"log {head:,} events, index at {index_position(ledger):,}, {len(opened)} cycles, "
              f"{args.samples} replays each way")
        times: dict[bool, list[float]] = {False: [], True: []}
        replay(ledger, *chosen[0])  # warm: imports, connections
        for cycle_id, position in chosen:
            results: dict[bool, Any] = {}
            for full_scan in (False, True):
                started = time.perf_counter()
                results[full_scan] = replay(ledger, cycle_id, known_at=position, full_scan=full_scan)
                times[full_scan].append(time.perf_counter() - started)
            if results[False] != results[True]:
                raise SystemExit(f"replays disagree: cycle {cycle_id} at {position}")
    finally:
        ledger.close()
    for full_scan, label in ((False, "index"), (True, "full scan")):
        t = times[full_scan]
        print(f"{label:>9}: median {statistics.median(t) * 1000:8.1f} ms  p95 {p95(t) * 1000:8.1f} ms")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    print(f"full scan / index (medians): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
