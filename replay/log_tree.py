"""The Merkle tree over the ledger's log, kept as a tracking projection of leaf hashes.

`LogTree` is a read model like the others: the batched `Runner` feeds it pages of the log and it
stores one leaf hash per notification (`kpi_merkle_leaves`, keyed by notification id) with its
tracking position in the same transaction. Roots and proofs are then computed from the stored
leaf hashes, never by re-reading and re-hashing the log, and always streamed a page at a time, so
memory stays O(log n) whatever the log's length (`merkle.hash_ranges`).

Tree index vs log position: leaf i of the tree is the i-th notification in id order. Ids normally
run 1, 2, 3, ... but PostgreSQL can skip one (a sequence value used by a rolled-back insert), so
the index of notification n is the number of leaves before it, not n - 1. The leaf itself
carries n (`replay.leaves`), so a proof pins both.

The Runner hands read models decoded events; a leaf needs the bytes exactly as stored, so `apply`
reads the page's rows once more, raw (`replay.leaves.read_rows`), from the ledger's database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from projections.base import Positioned, ReadModel
from projections.runner import DEFAULT_PAGE, Progress, Runner
from projections.store import Statement, ViewStore
from replay.leaves import fetch_tuples, leaf_hashes, read_rows
from replay.merkle import (
    EMPTY_ROOT,
    ProofError,
    Range,
    consistency_ranges,
    hash_ranges,
    inclusion_ranges,
)

READ_PAGE = 10_000


class LogTree(ReadModel):
    name = "merkle_leaves"
    tables = {"merkle_leaves": "n INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL"}
    decodes = False  # a leaf is the stored bytes, read again raw; every position, none decoded

    def __init__(self, store: ViewStore, recorder: Any = None, *, shadow: bool = False) -> None:
        super().__init__(store, shadow=shadow)
        self.recorder = recorder

    def create_tables(self) -> None:
        # PostgreSQL's INTEGER is 32-bit; notification ids are bigserial.
        columns = self.tables["merkle_leaves"]
        if self.store.is_postgres:
            columns = columns.replace("INTEGER", "BIGINT")
        self.store.run_ddl([Statement(f"CREATE TABLE IF NOT EXISTS {self.table('merkle_leaves')} ({columns})")])

    def warm_up(self, read: Any, up_to: int) -> None:
        if self.recorder is None:  # constructed as `cls(store)` by generic code: take the ledger's
            self.recorder = read.recorder

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        if not page:
            return []
        if self.recorder is None:
            raise RuntimeError("LogTree needs the ledger's recorder to read stored bytes")
        ids = [position for position, _ in page]
        raw = read_rows(self.recorder, ids[0], len(ids), stop=ids[-1])
        if [row[0] for row in raw] != ids:
            raise RuntimeError(f"the log changed under the Merkle projection between {ids[0]} and {ids[-1]}")
        rows = list(zip(ids, leaf_hashes(raw), strict=True))
        return [Statement(self.q("INSERT INTO {merkle_leaves} (n, leaf_hash) VALUES (?, ?)"), many=rows)]

    # ------------------------------------------------------------------ reading the tree

    def size(self) -> int:
        return int(self.store.query(self.q("SELECT COUNT(*) AS c FROM {merkle_leaves}"))[0]["c"])

    def entries(self, limit: int | None = None, page: int = READ_PAGE) -> Iterator[tuple[int, bytes]]:
        """(notification id, leaf hash) in tree order, the first `limit` of them, page by page."""
        after, left = 0, limit
        while left is None or left > 0:
            take = page if left is None else min(page, left)
            rows = self.leaf_page(after, take)
            yield from rows
            if len(rows) < take:
                return
            after = rows[-1][0]
            if left is not None:
                left -= len(rows)

    def leaf_page(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (notification id, leaf hash) with ids above `after`, in tree order, as
        plain tuples (`entries` page by page; `verify` a page at a time beside the log's)."""
        leaf = "leaf_hash" if self.store.is_postgres else "CAST(leaf_hash AS BLOB)"  # a hand edit may make TEXT
        sql = self.q(f"SELECT n, {leaf} FROM {{merkle_leaves}} WHERE n > ? ORDER BY n LIMIT ?")
        return cast(list[tuple[int, bytes]], fetch_tuples(self.store.datastore, sql, (after, limit)))

    def leaf_hashes(self, limit: int | None = None) -> Iterator[bytes]:
        return (digest for _, digest in self.entries(limit))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (default: all); `ProofError` if there are fewer."""
        return self.proofs(self.size() if size is None else size).root

    def index_of(self, position: int) -> int:
        """The tree index of notification `position` (`ProofError` if it has no leaf)."""
        rows = self.store.query(self.q("SELECT n FROM {merkle_leaves} WHERE n = ?"), (position,))
        if not rows:
            raise ProofError(f"notification {position} has no leaf in the tree (not yet caught up?)")
        below = self.store.query(self.q("SELECT COUNT(*) AS c FROM {merkle_leaves} WHERE n < ?"), (position,))
        return int(below[0]["c"])

    def proofs(self, size: int, inclusions: Iterable[int] = (), consistencies: Iterable[int] = ()) -> Proofs:
        """The root of the first `size` leaves, inclusion proofs for the given leaf indexes, and
        consistency proofs from (and roots at) the given older sizes, all in one streamed pass."""
        wanted_in = {i: inclusion_ranges(i, size) for i in inclusions}
        wanted_co = {m: consistency_ranges(m, size) for m in consistencies}
        ranges: set[Range] = {(0, m) for m in (size, *wanted_co) if m}
        for path in (*wanted_in.values(), *wanted_co.values()):
            ranges.update(path)
        hashes = hash_ranges(self.leaf_hashes(size), size, ranges)
        return Proofs(
            size=size,
            root=hashes[(0, size)] if size else EMPTY_ROOT,
            inclusion={i: [hashes[r] for r in path] for i, path in wanted_in.items()},
            consistency={m: [hashes[r] for r in path] for m, path in wanted_co.items()},
            roots={m: hashes[(0, m)] if m else EMPTY_ROOT for m in wanted_co},
        )


@dataclass(frozen=True)
class Proofs:
    size: int
    root: bytes
    inclusion: dict[int, list[bytes]]  # by leaf index
    consistency: dict[int, list[bytes]]  # by old size
    roots: dict[int, bytes]  # the root at each old size


def log_tree(ledger: Any) -> LogTree:
    return LogTree(ViewStore(ledger.recorder), ledger.recorder)


def catch_up(ledger: Any, page: int = DEFAULT_PAGE, progress: Progress | None = None) -> LogTree:
    """Bring the stored leaves up to the log's head; returns the tree, ready to read."""
    tree = log_tree(ledger)
    Runner(ledger, [tree], page=page).catch_up(progress=progress)
    return tree
