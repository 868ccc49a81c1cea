"""The canonical leaf of the log's Merkle tree: one notification, as bytes, stable forever.

Every checkpoint ever signed depends on these bytes, so the layout below never changes; a
different layout would need a new tag and a new tree.

Layout (version 1). Each field is `u32 big-endian length || bytes`, in this order:

    1. tag                b"kpi-ledger/leaf/v1"
    2. notification id    u64 big-endian (8 bytes): the entry's position in the log
    3. originator id      UTF-8 text of the stream id (a UUID as 36 lowercase hex-and-hyphen chars)
    4. originator version u64 big-endian (8 bytes)
    5. topic              UTF-8 text, e.g. b"domain.tasks:Task.TaskSubmitted"
    6. state digest       SHA-256 of the stored state bytes (32 bytes)

The Merkle leaf hash is then SHA-256(0x00 || leaf) (RFC 6962). The recorded time, the actor and
the command id are inside the state, so they are covered too. The stream id is taken as text, not
as the backend's storage form (SQLite keeps 32 hex digits, PostgreSQL a native uuid), so the same
log gives the same tree on either database.

Why the state enters as its digest rather than whole: an inspector's bundle must prove that the
entries it leaves out (officials' diary entries, personal records that do not affect scores) are
what it says they are. With the digest in the leaf, a bundle can show an omitted entry's position,
stream, version and kind, and prove them, without disclosing a word of what it says. Binding is
unchanged: changing any state byte changes the digest and so the leaf.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from replay.merkle import leaf_hash

TAG = b"kpi-ledger/leaf/v1"


_TAG_FIELD = struct.pack(">I", len(TAG)) + TAG
_NUMBER = struct.Struct(">IQ")  # a length-prefixed u64 field: length 8, then the number
_LENGTH = struct.Struct(">I")


def encode_leaf(notification_id: int, originator_id: str, originator_version: int, topic: str,
                state_digest: bytes) -> bytes:
    """The leaf bytes (layout above) from the entry's parts; `state_digest` = SHA-256(state)."""
    if len(state_digest) != 32:
        raise ValueError("state_digest must be the 32-byte SHA-256 of the stored state")
    origin, kind = originator_id.encode("utf-8"), topic.encode("utf-8")
    return b"".join((
        _TAG_FIELD,
        _NUMBER.pack(8, notification_id),
        _LENGTH.pack(len(origin)), origin,
        _NUMBER.pack(8, originator_version),
        _LENGTH.pack(len(kind)), kind,
        _LENGTH.pack(32), state_digest,
    ))


def state_digest(state: bytes) -> bytes:
    return hashlib.sha256(state).digest()


def leaf_of(notification: Any) -> bytes:
    """The leaf bytes of a library `Notification` (id, originator_id, originator_version, topic,
    state), exactly as stored."""
    return encode_leaf(
        notification.id, str(notification.originator_id), notification.originator_version,
        notification.topic, state_digest(stored_bytes(notification.state)),
    )


def stored_bytes(state: Any) -> bytes:
    """The state column as bytes. A row rewritten by hand in SQLite may come back as TEXT (a
    BLOB concatenated with anything becomes TEXT): its UTF-8 bytes are what it now says."""
    return state.encode("utf-8") if isinstance(state, str) else bytes(state)


def leaf_hash_of(notification: Any) -> bytes:
    return leaf_hash(leaf_of(notification))
