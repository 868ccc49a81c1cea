"""Bitemporal replay: a cycle's score table as the ledger knew it at a log position or a time.

Every event has two times (DESIGN "Time"). Cycle membership follows business dates, which the
scoring fold already applies; "as known at" follows recording order, the notification id. So a
replay is nothing but the one scoring fold (`domain.scoring.CycleFold`) fed the log up to a
position. It never reads the stored scores: those are what an inspector wants checked against
the log, not what the check may rely on.

Reading only what a cycle needs: the fold ignores every event that is not its cycle's, so at
province scale (~100 communes) a full scan decodes ~100 times what it uses. `projections.log_scopes`
indexes the log by who needs each event (the cycle, its commune's people, everyone); a replay
reads, in one query, the events at the positions listed for its cycle, its commune and everyone
up to where the index has got, then the log's tail after that exactly as a full scan would. The
index only says which positions to read: the events are still read from the log and folded
here, and `full_scan=True` ignores the index, for an inspector who does not trust it. Extra
events are harmless (the fold ignores them); a missing one is not, hence the tail, and two more
things the query reads: the past of anyone posted anywhere in the tail (the index has not yet
filed it under their new commune) and every scoring event of the aggregates a what-if names (so
`without` and proposals see them exactly as a full scan does).

What-ifs ride on the same single read, in memory, writing nothing: events named in `without`
are dropped as they stream past, proposed events (`replay.whatif`) are filed after the log's
as the next versions of their aggregates *as known at the position*, and `policy` names
another published version to read the table out with.

From a recording time to a position (`position_at`): binary search over notification ids, one
single-row read and one decode per step, so ~25 reads for a province's log instead of a scan
that decodes millions of events. It takes recording order as the truth and assumes event
timestamps do not decrease along it, which holds for one writer. With concurrent writers the
library stamps an event when it is created, before the insert lock orders the commits, so two
neighbours may be out of order by the few milliseconds in between; the search then lands on
one side of that pair. The replay always names the exact position it used, and a position is
the handle to quote when that matters.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import get_topic

from domain.cycles import Cycle
from domain.errors import InvalidInput, NotFound
from domain.ledger import Ledger
from domain.org import Official
from domain.persistence import LogRow, log_rows
from domain.score_lines import event_id_of
from domain.scoring import CycleFold, OfficialScore, ScoreTable
from projections.log_scopes import TOPICS, LogScopes, indexed_rows, replay_scopes
from projections.store import SQLITE_TRACKING_TABLE, TRACKING_TABLE
from replay.whatif import Stream, build_events, parse_event_ids, parse_proposals

KnownAt = int | datetime | None
PAGE = 5_000
ARRIVALS = tuple(get_topic(c) for c in (Official.OfficialEnrolled, Official.OfficialTransferred))


@dataclass(frozen=True)
class Replay:
    """One replayed cycle: its table (each row's contributions are its lineage) and what it reflects."""

    table: ScoreTable
    position: int  # the last log position folded in (0: nothing recorded yet)
    recorded_at: datetime | None  # when the last notification at or before `position` was recorded
    known_at: datetime | None  # the recording time asked for, when a time (not a position) was
    policy_version: str  # the version the table was read out with
    pinned_version: str  # the cycle's own version
    added: tuple[Aggregate.Event, ...] = ()  # proposed events filed after the log's (what-if)
    removed: tuple[str, ...] = ()  # event ids left out (what-if)

    @property
    def cycle_id(self) -> UUID:
        return self.table.cycle_id

    @property
    def is_what_if(self) -> bool:
        return bool(self.added or self.removed) or self.policy_version != self.pinned_version

    def row(self, official_id: UUID) -> OfficialScore | None:
        return next((r for r in self.table.rows if r.official_id == official_id), None)


def replay(
    ledger: Ledger,
    cycle_id: UUID,
    known_at: KnownAt = None,
    policy: str | None = None,
    extra_events: Sequence[Mapping[str, Any] | Aggregate.Event] = (),
    without: Sequence[str] = (),
    full_scan: bool = False,
) -> Replay:
    """The cycle as known at `known_at` (a position, a recording time, or None for now).

    `extra_events` are proposed corrections: entries as in a `--with` file (validated, then made
    into domain events numbered at the position) or ready-made domain events, used as given.
    `without` lists event ids ("originator_id:version") to leave out; each must be in the log
    at the position, among the events that score, or the replay is refused naming it.
    `full_scan` reads the whole log up to the position instead of what the index lists; the
    result is the same.
    """
    skip = parse_event_ids(without)
    proposals = parse_proposals([e for e in extra_events if not isinstance(e, Aggregate.Event)], cycle_id)
    ready = tuple(e for e in extra_events if isinstance(e, Aggregate.Event))
    position, recorded_at, asked = resolve(ledger, known_at)

    fold = CycleFold(cycle_id)
    watched = {p.aggregate_id for p in proposals}
    streams: dict[UUID, Stream] = {}
    removed: set[str] = set()
    pinned: str | None = None
    named = watched | {UUID(event_id.rpartition(":")[0]) for event_id in skip}
    for event in scoring_events(ledger, cycle_id, position, named, full_scan) if position else ():
        if event.originator_id in watched:
            known = streams.get(event.originator_id)
            streams[event.originator_id] = Stream(
                known.created if known else type(event), event.originator_version
            )
        if skip and event_id_of(event) in skip:
            removed.add(event_id_of(event))
            continue
        if isinstance(event, Cycle.CycleOpened) and event.originator_id == cycle_id:
            pinned = event.policy_version
        fold.apply(event)

    if pinned is None:
        raise NotFound("cycle_id", f"cycle {cycle_id} is not opened as known at position {position}")
    missing = [event_id for event_id in skip if event_id not in removed]
    if missing:
        raise NotFound(
            "without",
            f"no scoring event {missing[0]} is recorded at or before position {position}",
        )
    moment = asked or recorded_at
    if moment is None:  # cannot happen: the cycle's opening was read, so the position has a time
        raise NotFound("known_at", f"nothing is recorded at or before position {position}")
    added = ready + tuple(build_events(proposals, streams, cycle_id, moment, position))
    for event in added:
        fold.apply(event)
    version = policy or pinned
    params = ledger.policies().get(version).params
    return Replay(
        table=fold.table(params, version),
        position=position,
        recorded_at=recorded_at,
        known_at=asked,
        policy_version=version,
        pinned_version=pinned,
        added=added,
        removed=skip,
    )


def scoring_events(
    ledger: Ledger, cycle_id: UUID, position: int, named: Collection[UUID] = (), full_scan: bool = False,
) -> Iterator[Any]:
    """In log order up to `position`, every scoring event the cycle's fold needs (and some it
    will ignore), plus every scoring event of the `named` aggregates: see the module doc."""
    indexed = 0 if full_scan else min(position, index_position(ledger))
    if indexed:
        newcomers = {row.originator_id for row in log_tail(ledger, indexed, position, ARRIVALS)}
        scopes = replay_scopes(cycle_id, commune_of(ledger, cycle_id)) + [str(p) for p in newcomers]
        for row in indexed_rows(ledger.recorder, scopes, indexed, named):
            yield ledger.decode(row)
    for row in log_tail(ledger, indexed, position, TOPICS):
        yield ledger.decode(row)


def index_position(ledger: Ledger) -> int:
    """How far the index has got; 0 when it was never built (or cannot be read)."""
    kind = type(ledger.recorder).__module__
    if kind not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        return 0  # a log in memory (tests): no read models, no index
    tracking, mark = (TRACKING_TABLE, "%s") if _is_postgres(ledger) else (SQLITE_TRACKING_TABLE, "?")
    try:
        with ledger.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                f"SELECT notification_id FROM {tracking} WHERE application_name = {mark}", (LogScopes.name,)
            )
            row = cursor.fetchone()
    except PersistenceError:
        return 0
    return int(row["notification_id"]) if row else 0


def commune_of(ledger: Ledger, cycle_id: UUID) -> UUID | None:
    """The commune of the cycle, from its opening (None: no such cycle, the replay will say)."""
    first = ledger.recorder.select_events(cycle_id, limit=1)
    opened = ledger.mapper.to_domain_event(first[0]) if first else None
    return opened.unit_id if isinstance(opened, Cycle.CycleOpened) else None


def log_tail(ledger: Ledger, after: int, up_to: int, topics: Sequence[str]) -> Iterator[LogRow]:
    """The log's entries of `topics` after `after`, up to `up_to`, a page at a time."""
    start = after + 1
    while start <= up_to:
        rows = log_rows(ledger.recorder, start, up_to, PAGE, topics)
        yield from rows
        if len(rows) < PAGE:
            return
        start = rows[-1].id + 1


def _is_postgres(ledger: Ledger) -> bool:
    return type(ledger.recorder).__module__.startswith("eventsourcing.postgres")


def resolve(ledger: Ledger, known_at: KnownAt) -> tuple[int, datetime | None, datetime | None]:
    """(position, its recording time, the time asked for) for a position, a time or now."""
    head = ledger.recorder.max_notification_id() or 0
    if known_at is None:
        return head, recorded_time(ledger, head), None
    if isinstance(known_at, datetime):
        moment = known_at if known_at.tzinfo else known_at.replace(tzinfo=UTC)
        position = position_at(ledger, moment, head)
        return position, recorded_time(ledger, position), moment
    if isinstance(known_at, bool) or not isinstance(known_at, int):
        raise InvalidInput("known_at", f"a log position or a recording time, not {known_at!r}")
    if known_at < 0:
        raise InvalidInput("known_at", "a log position is 0 or more")
    if known_at > head:
        raise InvalidInput("known_at", f"position {known_at} is beyond the end of the log ({head})")
    return known_at, recorded_time(ledger, known_at), None


def position_at(ledger: Ledger, moment: datetime, head: int | None = None) -> int:
    """The last position recorded at or before `moment` (0 when none was): see the module doc.

    Invariant: `low` is 0 or a notification stamped at or before `moment`; `high` is past the
    head or a notification stamped after it; ids between them are probed, gaps skipped.
    """
    if head is None:
        head = ledger.recorder.max_notification_id() or 0
    low, high = 0, head + 1
    while high - low > 1:
        middle = (low + high) // 2
        found = ledger.recorder.select_notifications(start=middle, limit=1, stop=high - 1)
        if not found:
            high = middle  # nothing recorded in [middle, high): the boundary lies below
            continue
        if ledger.decode(found[0]).timestamp <= moment:
            low = found[0].id
        else:
            high = found[0].id
    return low


def recorded_time(ledger: Ledger, position: int) -> datetime | None:
    """When the last notification at or before `position` was recorded (ids may have gaps)."""
    window = 16
    while position > 0:
        start = max(1, position - window + 1)
        found = ledger.recorder.select_notifications(start=start, limit=window, stop=position)
        if found:
            stamped: datetime = ledger.decode(found[-1]).timestamp
            return stamped
        position, window = start - 1, window * 4
    return None
