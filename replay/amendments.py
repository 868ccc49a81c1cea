"""Amendments: events recorded after a cycle was certified that change a certified score.

A closed cycle's `CycleClosed` names the log position its table was computed at. Nothing stops a
later event from still counting for that cycle (a sanction dated inside it, a late objective-cause
confirmation, a transfer back-dated into it): corrections are new events, never edits. Inspectors
need exactly those listed (DESIGN "Replay and integrity").

How: the one scoring fold (`domain.scoring.CycleFold`) is folded once up to the close position,
then later events are applied one at a time and the table is read out again after each one that
the fold kept; an event that changes any official's figures (the digest's fields: components,
total, rating) is an amendment, listed with every change it made. Only the event types the fold
reads (`domain.scoring.FOLDED_EVENTS`) are decoded at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.cycles import Cycle
from domain.errors import InvalidInput
from domain.scoring import FOLDED_EVENTS, CycleFold, OfficialScore, ScoreTable

PAGE = 5_000

#: Topics of the only events the scoring fold reads; the rest of the log (diaries, receipts,
#: access grants) cannot change a score, so it is skipped undecoded.
FOLDED_TOPICS = frozenset(get_topic(cls) for cls in FOLDED_EVENTS)


@dataclass(frozen=True)
class Change:
    official_id: UUID
    code: str
    full_name: str
    before_total: Decimal | None  # None: the official was not scored before
    after_total: Decimal | None
    before_rating: str | None
    after_rating: str | None


@dataclass(frozen=True)
class Amendment:
    position: int
    event_id: str  # "<stream>:<version>"
    topic: str
    recorded_at: str
    actor: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Amendments:
    cycle_id: UUID
    close_position: int
    certified_digest: str
    reproduced: bool  # the fold at the close position gives the certified digest
    amendments: tuple[Amendment, ...]


def latest_close(ledger: Any, cycle_id: UUID) -> Cycle.CycleClosed:
    closes = [e for e in ledger.events.get(cycle_id) if isinstance(e, Cycle.CycleClosed)]
    if not closes:
        raise InvalidInput("cycle", f"cycle {cycle_id} has never been closed: nothing is certified yet")
    closed: Cycle.CycleClosed = closes[-1]
    return closed


def amendments(ledger: Any, cycle_id: UUID) -> Amendments:
    closed = latest_close(ledger, cycle_id)
    cycle = ledger.get_cycle(cycle_id)
    version = cycle.policy_version
    params = ledger.policies().get(version).params
    fold = CycleFold(cycle_id)
    for event in ledger.read_events(topics=sorted(FOLDED_TOPICS), up_to=closed.log_position):
        fold.apply(event)
    table = fold.table(params, version)
    reproduced = table.digest() == closed.table_digest
    found: list[Amendment] = []
    token = _token(fold)
    for notification in _after(ledger.recorder, closed.log_position):
        if notification.topic not in FOLDED_TOPICS:
            continue
        event = ledger.decode(notification)
        fold.apply(event)
        now = _token(fold)
        if now == token:  # the fold kept nothing of it: the table cannot have changed
            continue
        token = now
        after = fold.table(params, version)
        changes = _changes(table, after)
        if changes:
            actor = getattr(event, "actor", None)
            found.append(Amendment(
                position=notification.id,
                event_id=f"{event.originator_id}:{event.originator_version}",
                topic=notification.topic,
                recorded_at=event.timestamp.isoformat(),
                actor=f"{actor.role} {actor.official_id}" if actor is not None else "",
                changes=tuple(changes),
            ))
        table = after
    return Amendments(cycle_id, closed.log_position, closed.table_digest, reproduced, tuple(found))


def _after(recorder: Any, position: int) -> Iterator[Any]:
    start = position + 1
    while True:
        batch = recorder.select_notifications(start=start, limit=PAGE)
        yield from batch
        if len(batch) < PAGE:
            return
        start = batch[-1].id + 1


def _figures(row: OfficialScore) -> tuple[Any, ...]:
    return (row.task, row.unit, row.discipline, row.conduct, row.approval, row.clamp, row.total, row.rating)


def _changes(before: ScoreTable, after: ScoreTable) -> list[Change]:
    old = {r.official_id: r for r in before.rows}
    new = {r.official_id: r for r in after.rows}
    changes = []
    for oid in sorted(old.keys() | new.keys(), key=str):
        a, b = old.get(oid), new.get(oid)
        if a is not None and b is not None and _figures(a) == _figures(b):
            continue
        either = b or a
        assert either is not None
        changes.append(Change(
            official_id=oid, code=either.code, full_name=either.full_name,
            before_total=a.total if a else None, after_total=b.total if b else None,
            before_rating=a.rating.value if a else None, after_rating=b.rating.value if b else None,
        ))
    return changes


def _token(fold: CycleFold) -> tuple[int, ...]:
    """A cheap fingerprint of what the fold has filed: sizes of its containers, two levels deep,
    and the identity of anything else. Equal before and after an event means the fold ignored it.
    """
    out: list[int] = []
    for value in vars(fold).values():
        if isinstance(value, dict):
            out += (len(value), sum(len(v) if hasattr(v, "__len__") else 1 for v in value.values()))
        elif isinstance(value, list | set | tuple):
            out.append(len(value))
        else:
            out.append(id(value))
    return tuple(out)
