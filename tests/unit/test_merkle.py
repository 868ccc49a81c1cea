"""The Merkle tree is RFC 6962/9162's, checked against the published vectors and exhaustively
for every tree of up to 300 leaves; the leaf layout of the log is fixed forever."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay import merkle
from replay.leaves import encode_leaf, leaf_hash_of, leaf_hashes
from replay.merkle import (
    EMPTY_ROOT,
    ProofError,
    StreamingRoot,
    consistency_ranges,
    hash_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# A copy of shared/testdata/rfc6962-vectors.json, so the tests run from a bare clone.
VECTORS = json.loads((Path(__file__).resolve().parents[1] / "data/rfc6962-vectors.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaf_inputs_hex"]]
HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = [bytes.fromhex(h) for h in VECTORS["root_hash_by_tree_size_hex"]]
MAX = 300
BIG = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)]


@cache
def mth(start: int, end: int) -> bytes:
    """RFC 6962's MTH written the naive recursive way, as the reference."""
    if end == start:
        return EMPTY_ROOT
    if end - start == 1:
        return BIG[start]
    k = 1 << ((end - start - 1).bit_length() - 1)
    return node_hash(mth(start, start + k), mth(start + k, end))


def unhex(items: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in items]


def test_roots_match_the_published_vectors_for_every_size() -> None:
    assert len(ROOTS) == len(LEAVES) + 1
    for size, expected in enumerate(ROOTS):
        assert merkle.root(HASHES[:size]) == expected


@given(runs=st.lists(st.integers(1, 70), max_size=12), one_by_one=st.integers(0, 40))
def test_leaves_pushed_in_runs_give_the_roots_of_leaves_pushed_one_by_one(runs: list[int], one_by_one: int) -> None:
    """`extend` hashes aligned runs level by level instead of leaf by leaf; after any mix of
    single pushes and runs of any length the root and the stack are those of single pushes."""
    by_runs, single = StreamingRoot(), StreamingRoot()
    for leaf in BIG[:one_by_one]:
        by_runs.push(leaf)
    for run in runs:
        start = by_runs.size
        if start + run > MAX:
            break
        by_runs.extend(BIG[start:start + run])
        assert (by_runs.size, by_runs.root()) == (start + run, mth(0, start + run))
    for leaf in BIG[:by_runs.size]:
        single.push(leaf)
    assert by_runs.suffixes() == single.suffixes()


def test_the_published_roots_come_out_of_runs_too() -> None:
    for size in range(len(ROOTS)):
        tree = StreamingRoot()
        tree.extend(HASHES[:size])
        assert tree.root() == ROOTS[size]


def test_inclusion_proofs_match_the_published_vectors_and_verify() -> None:
    for case in VECTORS["inclusion_proofs"]:
        index, size, expected = case["leaf_index_0_based"], case["tree_size"], unhex(case["proof_hex"])
        assert merkle.inclusion_proof(index, HASHES[:size]) == expected
        verify_inclusion(HASHES[index], index, size, expected, ROOTS[size])


def test_consistency_proofs_match_the_published_vectors_and_verify() -> None:
    for case in VECTORS["consistency_proofs"]:
        old, new, expected = case["old_size"], case["new_size"], unhex(case["proof_hex"])
        assert merkle.consistency_proof(old, HASHES[:new]) == expected
        verify_consistency(old, new, expected, ROOTS[old], ROOTS[new])


def corrupted(proof: list[bytes]) -> list[list[bytes]]:
    """Every corruption the vectors' note names: a flipped bit anywhere, truncated, extended,
    reordered."""
    variants = []
    for i, element in enumerate(proof):
        for bit in (0, 7, 255):
            flipped = bytearray(element)
            flipped[bit // 8] ^= 1 << (bit % 8)
            variants.append(proof[:i] + [bytes(flipped)] + proof[i + 1:])
    if proof:
        variants.append(proof[:-1])
        variants.append(proof[1:])
    variants.append(proof + [proof[-1] if proof else EMPTY_ROOT])
    variants.append([EMPTY_ROOT] + proof)
    if len(proof) > 1:
        variants.append(proof[::-1])
        variants.append(proof[1:] + proof[:1])
    return [v for v in variants if v != proof]


def test_inclusion_verifier_rejects_every_corrupted_variant_of_the_vectors() -> None:
    for case in VECTORS["inclusion_proofs"]:
        index, size, proof = case["leaf_index_0_based"], case["tree_size"], unhex(case["proof_hex"])
        leaf, root = HASHES[index], ROOTS[size]
        for bad in corrupted(proof):
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, bad, root)
        # A wrong size comes with that size's own root: sizes and roots travel together in a signed
        # checkpoint. (RFC 9162's algorithm cannot tell size 7 from 8 when both give the leaf the
        # same path, so a size is never taken from anywhere but beside its signed root.)
        wrong = [(leaf, index + 1, size, root), (leaf, index, size + 1, ROOTS[size + 1] if size < 8 else root),
                 (leaf, index, size - 1, ROOTS[size - 1]), (leaf, index, size, ROOTS[size - 1]),
                 (root, index, size, leaf), (leaf, size, size, root), (leaf, -1, size, root),
                 (HASHES[(index + 1) % size], index, size, root)]
        for w_leaf, w_index, w_size, w_root in wrong:
            if (w_leaf, w_index, w_size, w_root) == (leaf, index, size, root):
                continue
            with pytest.raises(ProofError):
                verify_inclusion(w_leaf, w_index, w_size, proof, w_root)


def test_consistency_verifier_rejects_every_corrupted_variant_of_the_vectors() -> None:
    for case in VECTORS["consistency_proofs"]:
        old, new, proof = case["old_size"], case["new_size"], unhex(case["proof_hex"])
        for bad in corrupted(proof):
            with pytest.raises(ProofError):
                verify_consistency(old, new, bad, ROOTS[old], ROOTS[new])
        wrong = [(old + 1, new, ROOTS[old], ROOTS[new]), (old - 1, new, ROOTS[old], ROOTS[new]),
                 (old + 1, new, ROOTS[old + 1], ROOTS[new]), (old - 1, new, ROOTS[old - 1], ROOTS[new]),
                 (old, new - 1, ROOTS[old], ROOTS[new - 1]), (old, new, ROOTS[new], ROOTS[old]),
                 (old, new, ROOTS[old], ROOTS[new - 1]), (old, new, ROOTS[old - 1], ROOTS[new]),
                 (new, old, ROOTS[new], ROOTS[old])]
        for w_old, w_new, w_old_root, w_new_root in wrong:
            if w_old_root == ROOTS[old] and w_new_root == ROOTS[new] and (w_old, w_new) == (old, new):
                continue
            with pytest.raises(ProofError):
                verify_consistency(w_old, w_new, proof, w_old_root, w_new_root)


def test_every_inclusion_proof_of_every_tree_up_to_300_leaves_verifies_and_is_short() -> None:
    for size in range(1, MAX + 1):
        root = mth(0, size)
        for index in range(size):
            ranges = inclusion_ranges(index, size)
            proof = [mth(*r) for r in ranges]
            assert len(proof) <= math.ceil(math.log2(size))
            assert root_from_inclusion(BIG[index], index, size, proof) == root


def test_every_consistency_proof_between_trees_up_to_300_leaves_verifies_within_the_bound() -> None:
    longest = 0
    for new in range(1, MAX + 1):
        for old in range(0, new + 1):
            proof = [mth(*r) for r in consistency_ranges(old, new)]
            # Issue 5's bound; RFC 9162's own is tighter: ceil(log2 n) + 1 at most.
            assert len(proof) <= 2 * math.ceil(math.log2(new)) if new > 1 else not proof
            assert len(proof) <= math.ceil(math.log2(new)) + 1
            longest = max(longest, len(proof) - math.ceil(math.log2(new)))
            verify_consistency(old, new, proof, mth(0, old), mth(0, new))
    assert longest == 1  # the RFC's worst case is reached, never exceeded


def test_one_streamed_pass_gives_every_proof_hash_and_earlier_root_of_a_tree() -> None:
    for size in (1, 2, 3, 7, 8, 9, 100, 255, 256, 257, MAX):
        wanted = {(0, m) for m in range(1, size + 1)}
        for index in range(size):
            wanted.update(inclusion_ranges(index, size))
        for old in range(size + 1):
            wanted.update(consistency_ranges(old, size))
        found = hash_ranges(iter(BIG), size, wanted)
        assert found == {r: mth(*r) for r in wanted}


def test_a_streamed_pass_refuses_a_short_stream_and_ranges_no_proof_uses() -> None:
    with pytest.raises(ProofError):
        hash_ranges(BIG[:5], 6, [(0, 6)])
    with pytest.raises(ProofError):
        hash_ranges(BIG, 7, [(1, 3)])


def test_proofs_are_refused_for_impossible_indexes_and_sizes() -> None:
    for index, size in ((0, 0), (5, 5), (-1, 3)):
        with pytest.raises(ProofError):
            inclusion_ranges(index, size)
    with pytest.raises(ProofError):
        consistency_ranges(6, 5)
    with pytest.raises(ProofError):
        verify_consistency(3, 3, [EMPTY_ROOT], ROOTS[3], ROOTS[3])
    verify_consistency(0, 5, [], EMPTY_ROOT, ROOTS[5])
    verify_consistency(4, 4, [], ROOTS[4], ROOTS[4])


def test_the_leaf_layout_is_the_documented_one_byte_for_byte() -> None:
    state = b'{"x":1}'
    leaf = encode_leaf(7, "0d3a0a5e-8b0e-4c1e-9d1b-1c6a0e0f0a01", 2, "domain.tasks:Task.TaskSubmitted",
                       hashlib.sha256(state).digest())
    expected = (
        b"\x00\x00\x00\x12kpi-ledger/leaf/v1"
        + b"\x00\x00\x00\x08" + (7).to_bytes(8, "big")
        + b"\x00\x00\x00\x24" + b"0d3a0a5e-8b0e-4c1e-9d1b-1c6a0e0f0a01"
        + b"\x00\x00\x00\x08" + (2).to_bytes(8, "big")
        + b"\x00\x00\x00\x1f" + b"domain.tasks:Task.TaskSubmitted"
        + b"\x00\x00\x00\x20" + hashlib.sha256(state).digest()
    )
    assert leaf == expected
    # Pinned forever: a checkpoint signed today must verify against this in twenty years.
    assert leaf_hash(leaf).hex() == hashlib.sha256(b"\x00" + expected).hexdigest()


@given(n=st.integers(0, 2**64 - 1), origin=st.text(), version=st.integers(0, 2**64 - 1), topic=st.text(),
       state=st.binary(max_size=300))
def test_the_log_wide_leaf_hashes_are_the_documented_layouts(n: int, origin: str, version: int, topic: str,
                                                             state: bytes) -> None:
    """`verify` and the log tree hash rows with `leaf_hashes`, not `encode_leaf`: the same bytes."""
    documented = leaf_hash(encode_leaf(n, origin, version, topic, hashlib.sha256(state).digest()))
    row = (n, origin.encode("utf-8"), version, topic.encode("utf-8"), state)
    assert leaf_hashes([row, row]) == [documented, documented]


def test_a_notifications_leaf_covers_every_field_it_is_made_of() -> None:
    from uuid import UUID

    from eventsourcing.persistence import Notification

    base = Notification(id=3, originator_id=UUID(int=9), originator_version=1, topic="domain.x:Y", state=b"{}")
    variants = [
        Notification(id=4, originator_id=UUID(int=9), originator_version=1, topic="domain.x:Y", state=b"{}"),
        Notification(id=3, originator_id=UUID(int=8), originator_version=1, topic="domain.x:Y", state=b"{}"),
        Notification(id=3, originator_id=UUID(int=9), originator_version=2, topic="domain.x:Y", state=b"{}"),
        Notification(id=3, originator_id=UUID(int=9), originator_version=1, topic="domain.x:Z", state=b"{}"),
        Notification(id=3, originator_id=UUID(int=9), originator_version=1, topic="domain.x:Y", state=b"{ }"),
    ]
    hashes = {leaf_hash_of(n) for n in [base, *variants]}
    assert len(hashes) == len(variants) + 1


def test_a_checkpoint_is_a_c2sp_signed_note_and_every_byte_of_it_is_checked() -> None:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from replay.checkpoints import CheckpointError, Signer, make_checkpoint, parse_verifier_key, verify_checkpoint

    signer = Signer("kpi.test/tan-lap", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    checkpoint = make_checkpoint(signer, 8, ROOTS[8], datetime(2026, 3, 17, 8, 0, tzinfo=UTC))
    body = f"kpi.test/tan-lap\n8\n{base64.b64encode(ROOTS[8]).decode()}\ntimestamp 2026-03-17T08:00:00Z\n"
    assert checkpoint.note.startswith(body + "\n\u2014 kpi.test/tan-lap ")
    signature = base64.b64decode(checkpoint.note.splitlines()[-1].split(" ")[-1])
    key_id = hashlib.sha256(b"kpi.test/tan-lap\n\x01" + signer.public_bytes).digest()[:4]
    assert signature[:4] == key_id  # C2SP signed-note key id for an Ed25519 key
    signer.private_key.public_key().verify(signature[4:], body.encode())
    verifier = parse_verifier_key(signer.verifier_key)
    assert signer.verifier_key == f"kpi.test/tan-lap+{key_id.hex()}+" + base64.b64encode(
        b"\x01" + signer.public_bytes).decode()
    assert verify_checkpoint(checkpoint.note, verifier).root == ROOTS[8]
    for i, char in enumerate(checkpoint.note):
        for other in {"0", "A", "a", "+", "\n"} - {char}:
            with pytest.raises(CheckpointError):
                verify_checkpoint(checkpoint.note[:i] + other + checkpoint.note[i + 1:], verifier)
    with pytest.raises(CheckpointError):
        parse_verifier_key(signer.verifier_key.replace(key_id.hex(), key_id.hex().upper()))
