"""Signed checkpoints: the log's size and root hash at a moment, signed with Ed25519.

Format: a C2SP signed note (c2sp.org/signed-note) holding a C2SP checkpoint (c2sp.org/
tlog-checkpoint), the format Certificate Transparency's successors use, so an inspector can check
one with any signed-note tool, not only ours:

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, base64>\\n
    timestamp <RFC 3339 UTC>\\n
    \\n
    — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>\\n

The signature covers the body (the first four lines, newlines included). The key id is the first
four bytes of SHA-256(key name || 0x0A || 0x01 || public key), 0x01 naming Ed25519. Public keys
travel as the note verifier-key string `<name>+<key id hex>+<base64(0x01 || public key)>`.

Key files: the private key is PKCS#8 PEM (mode 0600) preceded by a `key-name:` line, which PEM
readers skip; the public key goes next to it as `<file>.pub`. Checkpoints made by the CLI are
kept in `kpi_checkpoints` (the ledger's database, not its event log: a checkpoint enters the log
only inside a `CycleClosed`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from projections.store import Statement, ViewStore
from replay.merkle import HASH_SIZE

DEFAULT_KEY_NAME = "kpi-ledger"
ED25519 = b"\x01"
DASH = "\u2014"
_NAME = re.compile(r"^[^\s+]+$")
TABLE = "kpi_checkpoints"


class CheckpointError(ValueError):
    """A checkpoint, note or key that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    timestamp: datetime | None
    note: str  # the whole signed note, as signed

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode()


# ------------------------------------------------------------------------------ keys


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def check_key_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.name, self.public_bytes)

    def sign(self, body: str) -> str:
        signature = self.private_key.sign(body.encode())
        blob = base64.b64encode(key_id(self.name, self.public_bytes) + signature).decode()
        return f"{body}\n{DASH} {self.name} {blob}\n"


def verifier_key(name: str, public_key: bytes) -> str:
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    text: str  # the verifier-key string it was parsed from

    def verify(self, body: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, body)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("a public key reads <name>+<key id hex>+<base64 key>")
    name, hex_id, encoded = parts
    check_key_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise CheckpointError("the public key's id or key is not hex/base64") from None
    if len(raw) != 33 or raw[:1] != ED25519:
        raise CheckpointError("the public key is not an Ed25519 note key")
    if key_id(name, raw[1:]) != wanted:
        raise CheckpointError("the public key's id does not match its name and key")
    canonical = verifier_key(name, raw[1:])
    if canonical != text.strip():
        raise CheckpointError(f"the public key is not written canonically (expected {canonical})")
    return Verifier(name, wanted, Ed25519PublicKey.from_public_bytes(raw[1:]), canonical)


def generate_key(path: Path, name: str = DEFAULT_KEY_NAME) -> Signer:
    """Write a new private key to `path` (0600, refused if it exists) and the public key to
    `path.pub`; returns the signer."""
    check_key_name(name)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    text = f"key-name: {name}\n{pem}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    signer = Signer(name, private)
    public_path(path).write_text(signer.verifier_key + "\n")
    return signer


def public_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def load_signer(path: Path) -> Signer:
    try:
        text = path.read_text()
    except OSError as e:
        raise CheckpointError(f"cannot read key file {path}: {e.strerror}") from None
    name_line = next((line for line in text.splitlines() if line.startswith("key-name:")), None)
    name = check_key_name(name_line.split(":", 1)[1].strip()) if name_line else DEFAULT_KEY_NAME
    try:
        private = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path} holds no unencrypted private key: {e}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise CheckpointError(f"{path} holds a {type(private).__name__}, not an Ed25519 key")
    return Signer(name, private)


def load_verifier(path: Path) -> Verifier:
    try:
        return parse_verifier_key(path.read_text())
    except OSError as e:
        raise CheckpointError(f"cannot read public key {path}: {e.strerror}") from None


# ------------------------------------------------------------------------------ notes


def make_checkpoint(signer: Signer, size: int, root: bytes, at: datetime, origin: str | None = None) -> Checkpoint:
    if len(root) != HASH_SIZE:
        raise CheckpointError("a root hash is 32 bytes")
    origin = check_key_name(origin or signer.name)
    stamp = at.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntimestamp {stamp}\n"
    return parse_checkpoint(signer.sign(body))


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(body, [(key name, key id || signature)]) of a signed note; structure only, no crypto."""
    if not note.endswith("\n"):
        raise CheckpointError("a signed note ends with a newline")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("a signed note has a blank line between its text and signatures")
    body, block = note[: cut + 1], note[cut + 2:]
    signatures = []
    for line in block.splitlines():
        match = re.fullmatch(DASH + r" (\S+) (\S+)", line)
        if not match:
            raise CheckpointError(f"not a signature line: {line[:60]!r}")
        try:
            blob = base64.b64decode(match.group(2), validate=True)
        except binascii.Error:
            raise CheckpointError("a signature is not base64") from None
        if base64.b64encode(blob).decode() != match.group(2):  # unused bits set: one spelling only
            raise CheckpointError("a signature is not canonical base64")
        if len(blob) < 5:
            raise CheckpointError("a signature is too short")
        signatures.append((match.group(1), blob))
    if not signatures:
        raise CheckpointError("the note carries no signature")
    return body, signatures


def parse_checkpoint(note: str) -> Checkpoint:
    """The checkpoint's fields (signature not checked: see `verify_checkpoint`)."""
    body, _ = split_note(note)
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has an origin, a size and a root hash line")
    origin, size_text, root_text, *extensions = lines
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("the checkpoint's root hash is not base64") from None
    if len(root) != HASH_SIZE:
        raise CheckpointError("the checkpoint's root hash is not 32 bytes")
    timestamp = None
    for line in extensions:
        if line.startswith("timestamp "):
            try:
                timestamp = datetime.strptime(line.removeprefix("timestamp "), "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=UTC
                )
            except ValueError:
                raise CheckpointError(f"bad timestamp line {line!r}") from None
    return Checkpoint(origin, int(size_text), root, timestamp, note)


def verify_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """The checkpoint, once a signature by `verifier`'s key is found valid; else `CheckpointError`."""
    checkpoint = parse_checkpoint(note)
    body, signatures = split_note(note)
    for name, blob in signatures:
        if name == verifier.name and blob[:4] == verifier.key_id:
            if verifier.verify(body.encode(), blob[4:]):
                return checkpoint
            raise CheckpointError(f"the signature by {name} does not verify: the checkpoint was altered")
    raise CheckpointError(f"the checkpoint is not signed by the key {verifier.name}+{verifier.key_id.hex()}")


# ------------------------------------------------------------------------------ storage


class CheckpointStore:
    """Checkpoints the CLI signed, in the ledger's database (never updated, only added)."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        store.run_ddl([Statement(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (size BIGINT NOT NULL, root BLOB NOT NULL, "
            "note TEXT PRIMARY KEY, created_at TEXT NOT NULL)"
        )])

    def add(self, checkpoint: Checkpoint, created_at: datetime) -> None:
        self.store.run([Statement(
            f"INSERT INTO {TABLE} (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (checkpoint.size, checkpoint.root, checkpoint.note, created_at.astimezone(UTC).isoformat()),
        )])

    def all(self) -> list[tuple[Checkpoint, bytes]]:
        """Every stored checkpoint, oldest size first, with the root column stored beside it."""
        rows = self.store.query(f"SELECT size, root, note FROM {TABLE} ORDER BY size, created_at")
        return [(parse_checkpoint(r["note"]), bytes(r["root"])) for r in rows]

    def latest(self, min_size: int = 0) -> Checkpoint | None:
        rows = self.store.query(
            f"SELECT note FROM {TABLE} WHERE size >= ? ORDER BY size DESC, created_at DESC LIMIT 1", (min_size,)
        )
        return parse_checkpoint(rows[0]["note"]) if rows else None

    def sizes(self) -> list[int]:
        return [int(r["size"]) for r in self.store.query(f"SELECT DISTINCT size FROM {TABLE} ORDER BY size")]
