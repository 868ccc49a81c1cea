"""Work measured in a process of its own, so its peak resident memory is its own.

`python -m bench.child rebuild|replay|verify <DATABASE_URL> [json args]` prints one JSON line:
timings plus the process's VmHWM (peak resident set, from /proc/self/status) before and after
the work. "Memory flat in the size of the log" means that the after-figure does not grow with
the log between the three scales.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.persistence import ledger_env

if TYPE_CHECKING:  # imported when it runs: a rebuild's workers import this module first, as `kpi-ledger`'s
    from domain.ledger import Ledger


def peak_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rebuild(ledger: Ledger, args: dict[str, Any]) -> dict[str, Any]:
    """`projections.rebuild.rebuild` as `kpi-ledger rebuild` runs it: shadows filled (by
    `workers` processes), checked against a fold of the log, swapped in."""
    from projections.rebuild import auto_workers
    from projections.rebuild import rebuild as rebuild_all

    workers = int(args.get("workers") or auto_workers(ledger))
    head = ledger.recorder.max_notification_id() or 0
    started = time.perf_counter()
    rebuild_all(ledger, page=10_000, restart=True, workers=workers)
    return {"events": head, "workers": workers, "total_s": time.perf_counter() - started}


def replay(ledger: Ledger, args: dict[str, Any]) -> dict[str, Any]:
    """Known-at replays of one commune's cycle at positions spread over the log."""
    from replay.timetravel import replay as replay_cycle

    timings = []
    for cycle_id, position in args["samples"]:
        started = time.perf_counter()
        replay_cycle(ledger, UUID(cycle_id), known_at=int(position))
        timings.append(time.perf_counter() - started)
    return {"timings_s": timings, "median_s": statistics.median(timings)}


def verify(ledger: Ledger, args: dict[str, Any]) -> dict[str, Any]:
    from bench.integrity import run_verify

    return run_verify(ledger, args)


WORK = {"rebuild": rebuild, "replay": replay, "verify": verify}


def main(argv: list[str]) -> int:
    work, url = argv[0], argv[1]
    args = json.loads(argv[2]) if len(argv) > 2 else {}
    from domain.ledger import Ledger

    ledger = Ledger(env=ledger_env({"DATABASE_URL": url}))
    before = peak_mb()
    result = WORK[work](ledger, args)
    # Worker processes (a rebuild's) count too: the largest of them, or this one.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result.update(peak_before_mb=before, peak_mb=max(peak_mb(), children))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
