"""Rebuilding read models without ever showing users a half-built table.

A rebuild fills shadow tables (their own tracking rows, so a killed rebuild resumes where it
stopped) while the live tables keep serving. When the shadow has caught up, every cycle's
score digest in it must equal the digest the scoring fold computes straight from the log at
the same position; only then, in one transaction, do the shadow's rows replace the live ones
and the live tracking position move to the shadow's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from domain.ledger import Ledger
from projections.accountability import Accountability
from projections.approvals import Approvals
from projections.base import ReadModel
from projections.diary import Diary
from projections.runner import DEFAULT_PAGE, Progress, Runner
from projections.scores import Scores
from projections.store import Statement, ViewStore

MODELS: dict[str, type[ReadModel]] = {
    m.name: m for m in (Accountability, Approvals, Diary, Scores)
}


class RebuildMismatch(RuntimeError):
    """The rebuilt scores disagree with a fold of the log: nothing was swapped in."""


@dataclass(frozen=True)
class Rebuilt:
    name: str
    position: int
    rows: int


def select(names: Sequence[str] | None) -> list[type[ReadModel]]:
    if not names:
        return list(MODELS.values())
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown projection {unknown[0]!r}; choose from {', '.join(MODELS)}")
    return [MODELS[n] for n in names]


def live_runner(ledger: Ledger, names: Sequence[str] | None = None, page: int = DEFAULT_PAGE) -> Runner:
    store = ViewStore(ledger.recorder)
    return Runner(ledger, [cls(store) for cls in select(names)], page=page)


def rebuild(
    ledger: Ledger, names: Sequence[str] | None = None, page: int = 10_000,
    progress: Progress | None = None,
) -> list[Rebuilt]:
    store = ViewStore(ledger.recorder)
    shadows = [cls(store, shadow=True) for cls in select(names)]
    runner = Runner(ledger, shadows, page=page)
    runner.catch_up(progress=progress)
    for shadow in shadows:
        if isinstance(shadow, Scores):
            check_scores_against_log(ledger, shadow)
    return swap_in(store, shadows)


def check_scores_against_log(ledger: Ledger, scores: Scores) -> None:
    position = scores.position()
    for row in scores.store.query(scores.q("SELECT cycle_id, policy_version, digest FROM {cycle_scores}")):
        fresh = ledger.score_cycle(UUID(row["cycle_id"]), row["policy_version"], up_to=position)
        if fresh.digest() != row["digest"]:
            raise RebuildMismatch(
                f"cycle {row['cycle_id']}: rebuilt digest {row['digest'][:12]} differs from the "
                f"log's {fresh.digest()[:12]} at position {position}; live tables left as they were"
            )


def swap_in(store: ViewStore, shadows: Sequence[ReadModel]) -> list[Rebuilt]:
    """One transaction: live rows := shadow rows, live position := shadow position, shadow gone.

    Both positions are read under their locks, so a live runner's page cannot commit in
    between (it finds its position moved and starts again from the swapped-in one).
    """
    for shadow in shadows:
        type(shadow)(store).create_tables()
    done = []
    with store.transaction() as cursor:
        for shadow in shadows:
            live = type(shadow)(store)
            store.lock_position(cursor, live.tracking_name)
            position = store.lock_position(cursor, shadow.tracking_name)
            statements = []
            for logical in shadow.tables:
                statements += [
                    Statement(f"DELETE FROM {live.table(logical)}"),
                    Statement(f"INSERT INTO {live.table(logical)} SELECT * FROM {shadow.table(logical)}"),
                ]
            store.execute(cursor, statements + shadow.drop_tables())
            store.reset_tracking(cursor, live.tracking_name, position)
            store.reset_tracking(cursor, shadow.tracking_name, None)
            done.append((live, position))
    return [Rebuilt(live.name, position, live.count()) for live, position in done]
