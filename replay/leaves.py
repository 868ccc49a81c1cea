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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

from replay.merkle import LEAF_PREFIX, leaf_hash

TAG = b"kpi-ledger/leaf/v1"


_TAG_FIELD = struct.pack(">I", len(TAG)) + TAG
_NUMBER = struct.Struct(">IQ")  # a length-prefixed u64 field: length 8, then the number
_LENGTH = struct.Struct(">I")

# The same layout cut at its variable parts, for `leaf_hashes`.
_UP_TO_ID = LEAF_PREFIX + _TAG_FIELD + _LENGTH.pack(8)  # RFC 6962's leaf prefix first: hashed as is
_ID_AND_ORIGIN_LENGTH = struct.Struct(">QI")
_VERSION_AND_TOPIC_LENGTH = struct.Struct(">IQI")  # 8, the version, the topic's length
_DIGEST_LENGTH = _LENGTH.pack(32)

Row = tuple[int, bytes, int, bytes, bytes]
"""A log entry as `leaf_hashes` takes it: (notification id, the stream id's text as UTF-8, its
version, the topic as UTF-8, the state as stored)."""


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


def leaf_hashes(rows: Iterable[Row]) -> list[bytes]:
    """The leaf hash of each row: `leaf_hash(encode_leaf(...))`, byte for byte, with the layout's
    fixed parts joined in advance and no call per row but SHA-256's, because `verify` and the
    log-tree projection hash every entry of the log."""
    sha, join = hashlib.sha256, b"".join
    head, middle = _ID_AND_ORIGIN_LENGTH.pack, _VERSION_AND_TOPIC_LENGTH.pack
    return [
        sha(join((_UP_TO_ID, head(n, len(origin)), origin, middle(8, version, len(topic)), topic, _DIGEST_LENGTH,
                  sha(state).digest()))).digest()
        for n, origin, version, topic, state in rows
    ]


# ------------------------------------------------------------------------ the log, read raw

_HEX = b"0123456789abcdef"
_UUID_GROUPS = struct.Struct("8s4s4s4s12s")


def read_rows(recorder: Any, start: int, limit: int, stop: int | None = None) -> list[Row]:
    """Up to `limit` log entries from position `start` (to `stop` at most), as `leaf_hashes` takes them.

    Why plain SQL rather than the library's `select_notifications`: that builds a `Notification`
    and a `UUID` per row, which costs more than hashing the row. Each backend is asked for bytes
    as stored, in one call: SQLite for BLOBs (a state hand-edited into TEXT comes back as its
    UTF-8 bytes, as `stored_bytes` would give it), PostgreSQL in its binary protocol with the uuid
    as its canonical text. SQLite keeps the stream id as the 32 hex digits the library writes;
    once a whole page is seen to hold only those, each is cut into the 36-char form, and a page
    with any other spelling (only a hand edit makes one) is read through `UUID` as the library
    reads it, so the leaf is the same on either database either way.
    """
    table, until = recorder.events_table_name, () if stop is None else (stop,)
    if _is_postgres(recorder):
        position = "notification_id"
        sql = (f"SELECT {position}, convert_to(originator_id::text, 'UTF8'), originator_version, "
               f"convert_to(topic, 'UTF8'), state FROM {_quoted(recorder.datastore.schema)}.{_quoted(table)} ")
    else:
        position = "rowid"
        sql = ("SELECT rowid, CAST(originator_id AS BLOB), originator_version, CAST(topic AS BLOB), "
               f"CAST(state AS BLOB) FROM {table} ")
    sql += f"WHERE {position} >= ?" + (f" AND {position} <= ?" if until else "") + f" ORDER BY {position} LIMIT ?"
    found = fetch_tuples(recorder.datastore, sql, (start, *until, limit))
    if _is_postgres(recorder):
        return cast(list[Row], found)  # the SELECT above gives exactly a Row
    origins = [row[1] for row in found]
    if not b"".join(origins).translate(None, _HEX) and set(map(len, origins)) <= {32}:
        dashed, groups = b"-".join, _UUID_GROUPS.unpack
        return [(n, dashed(groups(origin)), version, topic, state) for n, origin, version, topic, state in found]
    as_read = _library_text(recorder.datastore.originator_id_type)
    return [(n, as_read(origin), version, topic, state) for n, origin, version, topic, state in found]


def _library_text(originator_id_type: str) -> Callable[[bytes], bytes]:
    """The stream id's text as the library's `select_notifications` would give it."""
    def as_read(stored: bytes) -> bytes:
        text = stored.decode("utf-8")
        return (str(UUID(text)) if originator_id_type == "uuid" else text).encode("utf-8")
    return as_read


@contextmanager
def _tuple_cursor(datastore: Any) -> Iterator[Any]:
    """A read-only cursor on the ledger's database whose rows are plain tuples (the library's
    make a `sqlite3.Row` or a dict per row, which costs as much as hashing it)."""
    with datastore.transaction(commit=False) as cursor:
        if hasattr(cursor, "sqlite_cursor"):
            cursor = cursor.sqlite_cursor
            cursor.row_factory = None
        else:
            from psycopg.rows import tuple_row

            cursor.row_factory = tuple_row
        yield cursor


def fetch_tuples(datastore: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows of a query on the ledger's database (`?` placeholders) as plain tuples; PostgreSQL's
    in its binary protocol, so a BYTEA column comes back as bytes without a hex round trip."""
    with _tuple_cursor(datastore) as cursor:
        if _is_postgres(datastore):
            cursor.execute(sql.replace("?", "%s"), params, binary=True)
        else:
            cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _is_postgres(recorder_or_datastore: Any) -> bool:
    return type(recorder_or_datastore).__module__.startswith("eventsourcing.postgres")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
