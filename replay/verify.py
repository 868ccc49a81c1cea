"""`verify`: recompute every leaf from the log and hold it against what was recorded earlier.

Two independent witnesses: the stored leaf hashes (`kpi_merkle_leaves`, written as the log grew)
and the signed checkpoints (`kpi_checkpoints`, each a root over the first `size` leaves). The log
is read page by page, each entry re-hashed (`replay.leaves`) and compared, in log order, with the
stored leaf of the same rank, and the running root (an O(log n) stack) with every checkpoint as
its size is reached. The first disagreement is reported by log position (notification id):

- an edited row, or two rows swapped: its recomputed leaf differs from the stored one;
- a deleted row: the stored leaves name a position the log no longer has;
- an inserted row: the log has a position the tree never saw between two it did;
- a truncated log: stored leaves, or a checkpoint, reach past the log's end;
- rows rewritten *together with* their stored leaves: the running root misses a checkpoint,
  and the report names the first position after the last checkpoint that still matched.

Entries after the last stored leaf (the projection is behind) are not an error; they are still
held against any checkpoint that covers them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from projections.runner import Progress
from replay.checkpoints import Checkpoint, CheckpointError, CheckpointStore, Verifier, verify_checkpoint
from replay.leaves import leaf_hashes, read_rows
from replay.log_tree import log_tree
from replay.merkle import StreamingRoot

PAGE = 5_000


@dataclass(frozen=True)
class Disagreement:
    position: int | None  # the first notification id that disagrees (None: not about one entry)
    reason: str


@dataclass
class VerifyReport:
    entries: int = 0  # log entries read
    leaves: int = 0  # stored leaves compared
    checkpoints: int = 0  # checkpoints whose root was recomputed
    untracked: int = 0  # log entries past the last stored leaf
    problem: Disagreement | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    ledger: Any, verifier: Verifier | None = None, page: int = PAGE, progress: Progress | None = None
) -> VerifyReport:
    tree = log_tree(ledger)
    tree.create_tables()
    report = VerifyReport()
    checkpoints = _checked_checkpoints(CheckpointStore(tree.store), verifier, report)
    if report.problem:
        return report
    head = ledger.recorder.max_notification_id() or 0
    running = StreamingRoot()
    pending = list(checkpoints)  # by size, ascending
    since_good: int | None = None  # the first position after the last checkpoint that matched
    last_position, after_leaf, leaves_left = 0, 0, True

    def problem(position: int, reason: str) -> VerifyReport:
        report.problem = Disagreement(position, reason)
        return report

    # A page of the log at a time: its leaves recomputed in one go, held against as many stored
    # leaves (pairing by rank is what the entry-by-entry walk does until the first disagreement),
    # and pushed onto the running root in runs that end at each checkpoint's size. Only where the
    # page disagrees is it looked at entry by entry.
    start = 1
    while True:
        rows = read_rows(ledger.recorder, start, page)
        if not rows:
            break
        ids = [row[0] for row in rows]
        digests = leaf_hashes(rows)
        stored = tree.leaf_page(after_leaf, len(ids)) if leaves_left else []
        leaves_left = len(stored) == len(ids)
        if stored:
            after_leaf = stored[-1][0]
        agree = _agreeing(ids, digests, stored)  # entries before the first disagreement
        done = 0  # entries of this page pushed
        while done < agree:
            end = agree  # up to the next checkpoint's size, if it falls in the run
            if pending and pending[0].size > running.size:
                end = min(agree, done + pending[0].size - running.size)
            if since_good is None:
                since_good = ids[done]
            running.extend(digests[done:end])
            report.entries += end - done
            report.leaves += max(0, min(end, len(stored)) - done)
            report.untracked += max(0, end - max(done, len(stored)))
            done = end
            while pending and pending[0].size == running.size:
                checkpoint = pending.pop(0)
                report.checkpoints += 1
                if running.root() != checkpoint.root:
                    first = since_good if since_good is not None else ids[done - 1]
                    return problem(first, f"the log's first {checkpoint.size} entries no longer hash to the root "
                                          f"signed at {_when(checkpoint)}; the stored leaves were rewritten too, "
                                          f"so the change lies between position {first} and {ids[done - 1]}")
                since_good = None
        if agree < len(ids):
            report.entries += 1
            n, leaf = stored[agree]
            position = ids[agree]
            if position > n:
                return problem(n, f"position {n} is missing from the log (the next entry there is {position}): "
                                  "a row was deleted")
            if position < n:
                return problem(position, f"position {position} is in the log but was never in the tree (the "
                                         f"next leaf is {n}): a row was inserted")
            return problem(position, f"position {position} no longer hashes to its recorded leaf: the row was "
                                     "edited or moved")
        last_position = ids[-1]
        if progress and report.entries % page == 0:
            progress(last_position, head)
        if len(rows) < page:
            break
        start = last_position + 1
    if leaves_left:
        gone = tree.leaf_page(after_leaf, 1)
        if gone:
            return problem(gone[0][0], f"position {gone[0][0]} has a stored leaf but is gone from the log, which "
                                       f"ends at {last_position}: rows were deleted or the log truncated")
    if pending:
        checkpoint = pending[0]
        return problem(last_position + 1, f"the checkpoint signed at {_when(checkpoint)} covers {checkpoint.size} "
                                          f"entries but the log has only {report.entries}: it was truncated")
    if progress:
        progress(head, head)
    if report.untracked:
        report.notes.append(f"{report.untracked} entries after the last stored leaf are not yet in the tree "
                            "(kpi-ledger checkpoint catches it up)")
    return report


def _agreeing(ids: list[int], digests: list[bytes], stored: list[tuple[int, bytes]]) -> int:
    """How many of the page's entries, from its first, have the stored leaf of the same rank (an
    entry past the last stored leaf agrees: it is not yet tracked)."""
    if [n for n, _ in stored] == ids[:len(stored)] and [leaf for _, leaf in stored] == digests[:len(stored)]:
        return len(ids)
    return next(i for i, (n, leaf) in enumerate(stored) if n != ids[i] or leaf != digests[i])


def _checked_checkpoints(store: CheckpointStore, verifier: Verifier | None, report: VerifyReport) -> list[Checkpoint]:
    out = []
    for checkpoint, root_column in store.all():
        if root_column != checkpoint.root:
            report.problem = Disagreement(None, f"the stored checkpoint of size {checkpoint.size} has root column "
                                             f"{base64.b64encode(root_column).decode()} but its note says "
                                             f"{checkpoint.root_b64}: the checkpoint table was edited")
            return []
        if verifier is not None:
            try:
                verify_checkpoint(checkpoint.note, verifier)
            except CheckpointError as e:
                report.problem = Disagreement(None, f"stored checkpoint of size {checkpoint.size}: {e}")
                return []
        out.append(checkpoint)
    if verifier is None and out:
        report.notes.append("checkpoint signatures not checked (give --key PUBLIC_KEY_FILE)")
    return out


def _when(checkpoint: Checkpoint) -> str:
    return checkpoint.timestamp.isoformat() if checkpoint.timestamp else f"size {checkpoint.size}"
