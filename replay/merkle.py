"""The Merkle tree of RFC 6962 / RFC 9162 (Certificate Transparency), over any sequence of leaves.

Why this tree and not a home-made chain of hashes: its proofs are small (a few dozen hashes for
millions of entries), anyone can check them with a page of code, and the definitions are public
and have test vectors, so an inspector need not trust our implementation (DESIGN "Replay and
integrity").

Definitions (RFC 9162 section 2.1.1): the hash of an empty tree is SHA-256 of nothing; a leaf's
hash is SHA-256(0x00 || leaf input); an interior node's is SHA-256(0x01 || left || right); a tree
of n > 1 leaves splits at k, the largest power of two smaller than n.

Proofs are produced as *ranges* of leaf indexes `[start, end)` whose subtree hashes make up the
proof (`inclusion_ranges`, `consistency_ranges`); `hash_ranges` then computes any set of such
ranges in one streamed pass over the leaf hashes with an O(log n) stack, so a proof over a log of
millions of entries never needs the whole tree in memory. Every range a proof uses is either a
complete subtree aligned on its size or a suffix `[start, size)` of the tree, and those are
exactly the subtrees a left-to-right stack builds (the roots of earlier sizes come free too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence

Range = tuple[int, int]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"\x00"
_NODE = b"\x01"


class ProofError(ValueError):
    """A proof does not verify, or was asked for sizes and indexes that make no proof."""


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# ------------------------------------------------------------------------ streamed hashing


class StreamingRoot:
    """Leaf hashes pushed left to right; the root of everything pushed so far, at any time.

    The stack holds one complete subtree per set bit of the size (largest first), so memory
    is O(log n) however long the log.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (subtree start, hash); sizes from `size`'s bits

    def push(self, leaf: bytes) -> list[tuple[Range, bytes]]:
        """Add a leaf hash; returns every complete subtree it completes (the leaf included)."""
        made: list[tuple[Range, bytes]] = []
        self._add(leaf, 1, made)
        return made

    def extend(self, leaves: Sequence[bytes]) -> None:
        """`push` every leaf hash in order, when the subtrees made along the way are not wanted.

        Why: a verifier pushes millions of leaves. Here each run of leaves that fills a complete
        subtree aligned on its width is hashed level by level in one comprehension per level, and
        only the run's root touches the stack: the same nodes, hashed in another order, with a
        fraction of the per-leaf Python.
        """
        at, end, sha = 0, len(leaves), hashlib.sha256
        while at < end:
            width = 1 << ((end - at).bit_length() - 1)  # the widest power of two that fits...
            if self.size:
                width = min(width, self.size & -self.size)  # ...and keeps the subtree aligned
            level = leaves[at:at + width]
            while len(level) > 1:
                pairs = iter(level)
                level = [sha(_NODE + left + right).digest() for left, right in zip(pairs, pairs, strict=True)]
            self._add(level[0], width)
            at += width

    def _add(self, digest: bytes, width: int, made: list[tuple[Range, bytes]] | None = None) -> None:
        """Put the complete subtree of `width` leaves that starts at `size` on the stack, merging
        it with every equal-width subtree to its left."""
        start = self.size
        self.size += width
        if made is not None:
            made.append(((start, start + width), digest))
        while self._stack and self._stack[-1][0] == start - width:
            left_start, left = self._stack.pop()
            start, digest, width = left_start, node_hash(left, digest), width * 2
            if made is not None:
                made.append(((start, start + width), digest))
        self._stack.append((start, digest))

    def suffixes(self) -> list[tuple[Range, bytes]]:
        """The hash of every suffix [start, size) that begins at a stack boundary; the first one
        listed is the root ([0, size))."""
        out: list[tuple[Range, bytes]] = []
        acc: bytes | None = None
        for start, digest in reversed(self._stack):
            acc = digest if acc is None else node_hash(digest, acc)
            out.append(((start, self.size), acc))
        out.reverse()
        return out

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        return self.suffixes()[0][1]


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over the given leaf hashes, streamed."""
    tree = StreamingRoot()
    for leaf in leaf_hashes:
        tree.push(leaf)
    return tree.root()


def hash_ranges(leaf_hashes: Iterable[bytes], size: int, ranges: Collection[Range]) -> dict[Range, bytes]:
    """The subtree hash of each wanted range, from one pass over the first `size` leaf hashes.

    A range may be an aligned complete subtree, a suffix `[start, size)` at a stack boundary (all
    that RFC 6962 proofs use), or a prefix `[0, m)`: the root of the tree as it was at size m.
    Raises `ProofError` when the stream is shorter than `size`, or for any other range.
    """
    wanted = set(ranges)
    found: dict[Range, bytes] = {}
    tree = StreamingRoot()
    if size:
        for leaf in leaf_hashes:
            for made, digest in tree.push(leaf):
                if made in wanted:
                    found[made] = digest
            if (0, tree.size) in wanted:
                found[(0, tree.size)] = tree.root()
            if tree.size == size:
                break
    if tree.size != size:
        raise ProofError(f"the tree has only {tree.size} leaves, not {size}")
    for made, digest in tree.suffixes():
        if made in wanted:
            found[made] = digest
    if size == 0 and (0, 0) in wanted:
        found[(0, 0)] = EMPTY_ROOT
    missing = wanted - found.keys()
    if missing:
        raise ProofError(f"no subtree {sorted(missing)[0]} in a tree of {size} leaves")
    return found


# ------------------------------------------------------------------------ proofs as ranges


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf side first, as the ranges whose hashes it lists."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[Range] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = split_point(end - start)
        if m < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1, as ranges.

    Empty when m is 0 or m == n (nothing to prove: the verifier compares roots).
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[Range] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append((start, end))
    proof.reverse()
    return proof


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    ranges = inclusion_ranges(index, len(leaf_hashes))
    hashes = hash_ranges(leaf_hashes, len(leaf_hashes), ranges)
    return [hashes[r] for r in ranges]


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    ranges = consistency_ranges(old_size, len(leaf_hashes))
    hashes = hash_ranges(leaf_hashes, len(leaf_hashes), ranges)
    return [hashes[r] for r in ranges]


# ------------------------------------------------------------------------ verification


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof implies (RFC 9162 2.1.3.2); `ProofError` if malformed."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> None:
    """Raise `ProofError` unless `leaf` is at `index` in the tree of `size` with `expected_root`."""
    if root_from_inclusion(leaf, index, size, proof) != expected_root:
        raise ProofError(f"leaf {index} is not in the tree of {size} leaves with that root")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Raise `ProofError` unless the tree (old_size, old_root) is a prefix of (new_size, new_root)
    (RFC 9162 2.1.4.2; equal sizes need an empty proof and equal roots, and every tree extends
    the empty one)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {old_size} leaves cannot be a prefix of one of {new_size}")
    _check_hashes(proof)
    if old_size == new_size:
        if proof:
            raise ProofError("trees of equal size need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("consistency with the empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root of size {new_size}")


def _check_hashes(proof: Sequence[bytes]) -> None:
    for p in proof:
        if not isinstance(p, bytes) or len(p) != HASH_SIZE:
            raise ProofError(f"a proof element is not a {HASH_SIZE}-byte hash")
