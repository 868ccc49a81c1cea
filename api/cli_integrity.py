"""`kpi-ledger` subcommands for integrity: keys, checkpoints, proofs, verify, amendments, closing a
cycle with a signed checkpoint, the inspector's bundle, and the PostgreSQL application role.

`verify-bundle` is the one command that never opens a database: it reads only the file (and the
inspector's own key or old checkpoint), so an inspector runs it with no settings at all.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from api import render
from api.cli_common import find_cycle, find_official, open_ledger, parse_date, print_json
from domain.actors import Actor
from domain.cycles import CycleKind
from domain.errors import InvalidInput
from domain.ledger import Ledger
from domain.persistence import revoke_statements
from domain.roles import Role
from projections.store import ViewStore
from replay.amendments import amendments
from replay.bundle import BundleError, export_bundle, verify_bundle
from replay.certify import close_certified, sign_log
from replay.checkpoints import (
    DEFAULT_KEY_NAME,
    CheckpointError,
    CheckpointStore,
    generate_key,
    load_signer,
    load_verifier,
    parse_verifier_key,
    public_path,
)
from replay.log_tree import LogTree, catch_up
from replay.merkle import ProofError
from replay.verify import verify

Run = Callable[[argparse.Namespace, Console], int]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keygen = sub.add_parser("keygen", help="make an Ed25519 key for signing checkpoints")
    keygen.add_argument("keyfile", metavar="KEYFILE", help="private key file to create (0600); "
                        "the public key goes to KEYFILE.pub")
    keygen.add_argument("--name", default=DEFAULT_KEY_NAME,
                        help="key and log name in checkpoints, e.g. kpi.bacninh.gov.vn (default: %(default)s)")
    keygen.set_defaults(run=_guarded(cmd_keygen))

    checkpoint = sub.add_parser("checkpoint", help="sign and store a checkpoint of the log (size, root hash, time)")
    checkpoint.add_argument("--sign", required=True, metavar="KEYFILE", help="private key from `keygen`")
    checkpoint.set_defaults(run=_guarded(cmd_checkpoint))

    prove = sub.add_parser("prove", help="print an inclusion or consistency proof")
    kinds = prove.add_subparsers(dest="proof", required=True, metavar="KIND")
    inclusion = kinds.add_parser("inclusion", help="that log position N is in the tree")
    inclusion.add_argument("position", type=int, metavar="N", help="log position (notification id)")
    inclusion.add_argument("--size", type=int, help="tree size to prove against (default: all leaves)")
    inclusion.add_argument("--json", action="store_true")
    inclusion.set_defaults(run=_guarded(cmd_prove_inclusion))
    consistency = kinds.add_parser("consistency", help="that the tree of NEW leaves extends the one of OLD")
    consistency.add_argument("old", type=int, metavar="OLD_SIZE")
    consistency.add_argument("new", type=int, nargs="?", metavar="NEW_SIZE", help="default: all leaves")
    consistency.add_argument("--json", action="store_true")
    consistency.set_defaults(run=_guarded(cmd_prove_consistency))

    verify_ = sub.add_parser("verify", help="recompute the Merkle tree from the log; check every checkpoint")
    verify_.add_argument("--key", metavar="PUBLIC_KEY_FILE", help="also check the checkpoints' signatures")
    verify_.set_defaults(run=_guarded(cmd_verify))

    amend = sub.add_parser("amendments", help="events after a cycle's certification that change its scores")
    amend.add_argument("cycle", nargs="?", metavar="CYCLE")
    _cycle_options(amend)
    amend.add_argument("--json", action="store_true")
    amend.set_defaults(run=_guarded(cmd_amendments))

    close = sub.add_parser("close-cycle", help="certify a cycle: score digest plus a signed checkpoint")
    close.add_argument("cycle", nargs="?", metavar="CYCLE")
    _cycle_options(close)
    close.add_argument("--on", required=True, metavar="YYYY-MM-DD", help="the closing date")
    close.add_argument("--sign", required=True, metavar="KEYFILE")
    close.add_argument("--by", required=True, metavar="OFFICIAL", help="id or code of who closes it")
    close.add_argument("--role", default=Role.MONITORING.value, choices=[Role.MONITORING.value, Role.ADMIN.value])
    close.set_defaults(run=_guarded(cmd_close_cycle))

    export = sub.add_parser("export-bundle", help="write the inspector's bundle for a closed cycle")
    export.add_argument("cycle", nargs="?", metavar="CYCLE")
    export.add_argument("out", metavar="OUT")
    _cycle_options(export)
    keys = export.add_mutually_exclusive_group(required=True)
    keys.add_argument("--key", metavar="PUBLIC_KEY_FILE", help="the checkpoints' public key")
    keys.add_argument("--sign", metavar="KEYFILE", help="sign a new checkpoint if none covers the close")
    export.add_argument("--since-size", type=int, action="append", default=[], metavar="N",
                        help="also prove consistency from tree size N (an inspector's old checkpoint)")
    export.set_defaults(run=_guarded(cmd_export_bundle))

    check = sub.add_parser("verify-bundle", help="check an inspector's bundle offline (no database)")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--against", metavar="OLD_CHECKPOINT", help="a checkpoint kept from an earlier visit")
    check.add_argument("--key", metavar="PUBLIC_KEY_FILE", help="the key you trust (else the bundle's own)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(run=_guarded(cmd_verify_bundle))

    roles = sub.add_parser("setup-roles", help="PostgreSQL: an application role that cannot rewrite the log")
    roles.add_argument("--app-role", required=True, metavar="NAME")
    roles.add_argument("--password-env", metavar="VAR", help="take the role's password from this variable")
    roles.set_defaults(run=_guarded(cmd_setup_roles))


def _cycle_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commune", metavar="CODE", help="find the cycle by commune code ...")
    parser.add_argument("--starts", metavar="YYYY-MM-DD", help="... and first day")
    parser.add_argument("--kind", default=CycleKind.FIFTEEN_DAYS.value, choices=[k.value for k in CycleKind])


def _guarded(run: Run) -> Run:
    """Key, checkpoint and proof errors are the user's input: `error: field: reason`, exit 2."""
    def guarded(args: argparse.Namespace, console: Console) -> int:
        try:
            return run(args, console)
        except (CheckpointError, ProofError) as e:
            print(f"error: {args.command}: {e}", file=sys.stderr)
            return 2
    return guarded


@contextmanager
def _ledger() -> Iterator[Ledger]:
    ledger = open_ledger()
    try:
        yield ledger
    finally:
        ledger.close()


@contextmanager
def _bar(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """Progress on stderr, so stdout stays what the command prints (a note, JSON) for redirecting."""
    errors = Console(stderr=True, width=console.width)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=errors, transient=True, disable=not errors.is_terminal) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------ keys, checkpoints


def cmd_keygen(args: argparse.Namespace, console: Console) -> int:
    path = Path(args.keyfile)
    if path.exists():
        raise InvalidInput("KEYFILE", f"{path} exists; refusing to overwrite a signing key")
    signer = generate_key(path, args.name)
    console.print(f"private key: {path} (keep it secret)\npublic key:  {public_path(path)}", highlight=False)
    print(signer.verifier_key)
    return 0


def sign_checkpoint(ledger: Ledger, keyfile: str, console: Console) -> Any:
    with _bar(console, "Merkle tree") as update:
        return sign_log(ledger, load_signer(Path(keyfile)), _now(), progress=update)


def cmd_checkpoint(args: argparse.Namespace, console: Console) -> int:
    with _ledger() as ledger:
        checkpoint = sign_checkpoint(ledger, args.sign, console)
    sys.stdout.write(checkpoint.note)
    return 0


def cmd_prove_inclusion(args: argparse.Namespace, console: Console) -> int:
    with _ledger() as ledger:
        tree = catch_up(ledger)
        size = tree.size() if args.size is None else args.size
        index = tree.index_of(args.position)
        proofs = tree.proofs(size, inclusions=[index])
    proof = proofs.inclusion[index]
    if args.json:
        print_json({"position": args.position, "leaf_index": index, "tree_size": size, "root": _b64(proofs.root),
                    "proof": [_b64(p) for p in proof]})
        return 0
    console.print(f"position {args.position} = leaf {index} of a tree of {size}\nroot {_b64(proofs.root)}",
                  highlight=False)
    for p in proof:
        print(_b64(p))
    return 0


def cmd_prove_consistency(args: argparse.Namespace, console: Console) -> int:
    with _ledger() as ledger:
        tree = catch_up(ledger)
        new = tree.size() if args.new is None else args.new
        proofs = tree.proofs(new, consistencies=[args.old])
    proof = proofs.consistency[args.old]
    if args.json:
        print_json({"old_size": args.old, "new_size": new, "old_root": _b64(proofs.roots[args.old]),
                    "new_root": _b64(proofs.root), "proof": [_b64(p) for p in proof]})
        return 0
    console.print(f"tree {args.old} root {_b64(proofs.roots[args.old])}\n"
                  f"tree {new} root {_b64(proofs.root)}", highlight=False)
    for p in proof:
        print(_b64(p))
    return 0


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    verifier = load_verifier(Path(args.key)) if args.key else None
    with _ledger() as ledger, _bar(console, "verify") as update:
        report = verify(ledger, verifier, progress=update)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if report.problem is not None:
        where = f"position {report.problem.position}: " if report.problem.position is not None else ""
        print(f"verify FAILED: {where}{report.problem.reason}", file=sys.stderr)
        return 1
    console.print(f"verify OK: {report.entries} log entries, {report.leaves} stored leaves and "
                  f"{report.checkpoints} checkpoint(s) agree", highlight=False)
    return 0


# ------------------------------------------------------------------------------ cycles


def cmd_amendments(args: argparse.Namespace, console: Console) -> int:
    with _ledger() as ledger:
        cycle_id = find_cycle(ledger, args, args.cycle)
        found = amendments(ledger, cycle_id)
    if args.json:
        print_json({
            "cycle_id": str(found.cycle_id), "close_position": found.close_position,
            "certified_digest": found.certified_digest, "reproduced": found.reproduced,
            "amendments": [{
                "position": a.position, "event_id": a.event_id, "topic": a.topic, "recorded_at": a.recorded_at,
                "actor": a.actor,
                "changes": [{"official_id": str(c.official_id), "code": c.code, "full_name": c.full_name,
                             "before_total": _text(c.before_total), "after_total": _text(c.after_total),
                             "before_rating": c.before_rating, "after_rating": c.after_rating}
                            for c in a.changes],
            } for a in found.amendments],
        })
        return 0
    if not found.reproduced:
        console.print("warning: the log at the close position no longer gives the certified digest; "
                      "run `kpi-ledger verify`", highlight=False)
    console.print(f"Cycle {found.cycle_id}, certified at position {found.close_position}: "
                  f"{len(found.amendments)} amendment(s)", highlight=False)
    for a in found.amendments:
        console.print(f"  position {a.position}  {a.topic.rsplit(':', 1)[-1]}  {a.event_id}  {a.recorded_at}",
                      highlight=False)
        for c in a.changes:
            console.print(f"    {c.code} {c.full_name}: {_text(c.before_total)} {c.before_rating} -> "
                          f"{_text(c.after_total)} {c.after_rating}", highlight=False)
    return 0


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def cmd_close_cycle(args: argparse.Namespace, console: Console) -> int:
    on = parse_date("--on", args.on)
    with _ledger() as ledger:
        cycle_id = find_cycle(ledger, args, args.cycle)
        actor = Actor(find_official(ledger, args.by), args.role)
        with _bar(console, "Merkle tree") as update:
            done = close_certified(ledger, actor, cycle_id, on, load_signer(Path(args.sign)), _now(), progress=update)
    console.print(f"closed cycle {cycle_id}\ncertified digest {done.digest}\n"
                  f"checkpoint at closing: size {done.at_closing.size}, root {done.at_closing.root_b64}\n"
                  f"checkpoint after closing: size {done.after_closing.size}, root {done.after_closing.root_b64}",
                  highlight=False)
    return 0


# ------------------------------------------------------------------------------ bundles


def cmd_export_bundle(args: argparse.Namespace, console: Console) -> int:
    signer = load_signer(Path(args.sign)) if args.sign else None
    public = signer.verifier_key if signer else load_verifier(Path(args.key)).text
    with _ledger() as ledger:
        cycle_id = find_cycle(ledger, args, args.cycle)
        with _bar(console, "bundle") as update:
            data = export_bundle(ledger, cycle_id, public_key=public, signer=signer, since_sizes=args.since_size,
                                 now=_now(), step=lambda what, done, total: update(done, total))
    Path(args.out).write_bytes(data)
    console.print(f"wrote {args.out} ({len(data)} bytes)", highlight=False)
    return 0


def cmd_verify_bundle(args: argparse.Namespace, console: Console) -> int:
    """Offline: reads files only; never `open_ledger`, never the environment's database settings."""
    try:
        data = Path(args.file).read_bytes()
        against = Path(args.against).read_text() if args.against else None
        pinned = parse_verifier_key(Path(args.key).read_text()) if args.key else None
    except OSError as e:
        raise InvalidInput("FILE", f"cannot read {e.filename}: {e.strerror}") from None
    try:
        result = verify_bundle(data, against=against, pinned=pinned)
    except (BundleError, CheckpointError) as e:
        if args.json:
            print_json({"ok": False, "error": str(e)})
        print(f"verify-bundle FAILED: {e}", file=sys.stderr)
        return 1
    if args.json:
        print_json({"ok": True, "cycle_id": str(result.cycle_id), "digest": result.digest,
                    "policy_version": result.policy_version, "tree_size": result.checkpoint.size,
                    "entries": result.entries, "omitted": result.omitted,
                    "against_size": result.against.size if result.against else None, "notes": result.notes,
                    "scores": render.table_json(result.table)})
        return 0
    console.print(render.score_table(result.table, f"cycle {result.cycle_id}, policy {result.policy_version}"))
    console.print(
        f"verify-bundle OK: signature; {result.entries - result.omitted} disclosed entries proven by inclusion and "
        f"{result.omitted} withheld ones by the prefix root; re-scored digest {result.digest} equals the certified one"
        + (f"; the log extends your checkpoint of size {result.against.size}" if result.against else ""),
        highlight=False,
    )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    return 0


# ------------------------------------------------------------------------------ PostgreSQL role


def app_role_statements(schema: str, events_table: str, evidence_tables: list[str], role: str,
                        database: str) -> list[str]:
    """Privileges for the application's role: everything it needs, nothing that rewrites history.

    The library's insert lock (`LOCK TABLE ... IN EXCLUSIVE MODE`, which keeps notification ids
    committing in order) is refused on PostgreSQL to a role without UPDATE, DELETE or TRUNCATE on
    the table; TRUNCATE is the one granted, because the table's BEFORE TRUNCATE trigger refuses
    it and only the owner may disable that trigger.
    """
    q = _quote
    statements = [
        f"GRANT CONNECT ON DATABASE {q(database)} TO {q(role)};",
        f"GRANT USAGE, CREATE ON SCHEMA {q(schema)} TO {q(role)};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {q(schema)} TO {q(role)};",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {q(schema)} TO {q(role)};",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {q(schema)} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q(role)};",
    ]
    for table in (events_table, *evidence_tables):
        statements += revoke_statements(f"{schema}.{table}", role)
    statements.append(f"GRANT TRUNCATE ON TABLE {q(schema)}.{q(events_table)} TO {q(role)};")
    return statements


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def setup_app_role(ledger: Ledger, role: str, password: str | None = None) -> list[str]:
    """Create (or update) the application role on the ledger's PostgreSQL database, as its owner."""
    if not type(ledger.recorder).__module__.startswith("eventsourcing.postgres"):
        raise InvalidInput("--app-role", "SQLite has no roles: its triggers are the guard, and the file's "
                                         "permissions decide who may open it")
    from psycopg import sql

    store = ViewStore(ledger.recorder)
    LogTree(store, ledger.recorder).create_tables()
    CheckpointStore(store)
    datastore: Any = store.datastore
    with datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT current_database() AS db")
        database = cursor.fetchone()["db"]
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        statement = sql.SQL(verb + " ROLE {} LOGIN").format(sql.Identifier(role))
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        cursor.execute(statement)
        events_table: str = ledger.recorder.events_table_name  # type: ignore[attr-defined]
        statements = app_role_statements(datastore.schema, events_table, ["kpi_merkle_leaves", "kpi_checkpoints"],
                                         role, database)
        for text in statements:
            cursor.execute(text)
    return statements


def cmd_setup_roles(args: argparse.Namespace, console: Console) -> int:
    password = os.environ.get(args.password_env) if args.password_env else None
    if args.password_env and not password:
        raise InvalidInput("--password-env", f"{args.password_env} is not set")
    with _ledger() as ledger:
        statements = setup_app_role(ledger, args.app_role, password)
    for text in statements:
        console.print(text, highlight=False)
    console.print(f"role {args.app_role}: appends and reads; UPDATE, DELETE and TRUNCATE of the log refused. "
                  "Connect the application as it with CREATE_TABLE=n.", highlight=False)
    return 0
