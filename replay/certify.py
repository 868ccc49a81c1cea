"""Certifying a cycle: the score digest and a signed checkpoint of the log, recorded together.

Used by `kpi-ledger close-cycle` and by the API's close route, so a cycle closed either way
carries the same proof. Two checkpoints are signed: the one stored in `CycleClosed` (the log as
the certified table saw it) and one just after, covering the close itself, so an inspector's
bundle can prove the certification with the public key alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.actors import Actor
from domain.ledger import Ledger
from projections.runner import Progress
from replay.checkpoints import Checkpoint, CheckpointStore, Signer, make_checkpoint
from replay.log_tree import catch_up


@dataclass(frozen=True)
class Certified:
    digest: str
    at_closing: Checkpoint
    after_closing: Checkpoint


def sign_log(ledger: Ledger, signer: Signer, now: datetime, progress: Progress | None = None) -> Checkpoint:
    """Catch the Merkle tree up, sign its whole size now, and store the checkpoint."""
    tree = catch_up(ledger, progress=progress)
    size = tree.size()
    checkpoint = make_checkpoint(signer, size, tree.root(size), now)
    CheckpointStore(tree.store).add(checkpoint, now)
    return checkpoint


def close_certified(
    ledger: Ledger, actor: Actor, cycle_id: UUID, on: date, signer: Signer, now: datetime,
    command_id: str | None = None, progress: Progress | None = None,
) -> Certified:
    ledger.get_cycle(cycle_id).check_open()
    at_closing = sign_log(ledger, signer, now, progress)
    digest = ledger.close_cycle(actor, cycle_id=cycle_id, on=on, checkpoint=at_closing.note, command_id=command_id)
    return Certified(digest, at_closing, sign_log(ledger, signer, now))
