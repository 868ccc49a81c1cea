"""`replay.verify` as the bench drives it: the Merkle leaves are caught up first (not timed,
that is the log-tree projection's own work), then a full `verify` is timed."""

from __future__ import annotations

import time
from typing import Any


def run_verify(ledger: Any, args: dict[str, Any]) -> dict[str, Any]:
    try:
        from replay.log_tree import catch_up
        from replay.verify import verify
    except ImportError as e:  # a part not built yet
        return {"status": f"n/a (not built: {e})"}
    started = time.perf_counter()
    catch_up(ledger)
    tree_s = time.perf_counter() - started
    started = time.perf_counter()
    report = verify(ledger)
    seconds = time.perf_counter() - started
    if not report.ok:
        return {"status": f"n/a (verify failed: {report.problem})"}
    return {"leaves": report.entries, "seconds": seconds, "tree_catch_up_s": tree_s}
