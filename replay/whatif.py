"""Proposed corrections for a what-if replay, made into real domain events, in memory only.

An appeals reviewer asks "what if this sanction were revoked, this task approved without
errors, this result reported?". The answer must come from the same fold as every other score,
so a proposal becomes the very event the Ledger would record: the right nested class of the
right aggregate, numbered as that aggregate's next version *as known at the replay position*
(so the fold files it after what was known, exactly where a real correction would land) and
stamped with the replay's time and a "what-if" actor, so its lines say where they came from.
Nothing here saves anything: the events exist only in the replay that asked for them.

A proposal is one JSON object, as in a `--with` file (a list of them):

    {"type": "SanctionRevoked", "aggregate": "<sanction id>", "reason": "...", "occurred_on": "2026-03-11"}

Every field of the event class is required except the free texts (`comment`, `note`,
`evidence`, `criterion`), `points` and `major_errors`. A `SanctionImposed` creates a sanction:
its `aggregate` may be left out (a stable id is derived). A `ConductAssessed` may name the
`official_id` instead of the assessment; an official not yet assessed in the cycle is then
given the assessment's opening event too. Entries are checked before the log is read; each
refusal names the entry and field (`with[2].occurred_on`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.actors import Actor
from domain.discipline import ConductAssessment, Sanction, conduct_id
from domain.errors import Conflict, InvalidInput, NotFound
from domain.targets import Target
from domain.tasks import Task

WHAT_IF = Actor(official_id=UUID(int=0), role="what-if")

# Proposable event -> the event that creates its aggregate (itself, for a creation event).
CREATED_BY: dict[type[Aggregate.Event], type[Aggregate.Event]] = {
    Sanction.SanctionImposed: Sanction.SanctionImposed,
    Sanction.SanctionRevoked: Sanction.SanctionImposed,
    Task.TaskSubmitted: Task.TaskAssigned,
    Task.TaskApproved: Task.TaskAssigned,
    Task.TaskReturned: Task.TaskAssigned,
    Task.TaskReassigned: Task.TaskAssigned,
    Task.ObjectiveCauseConfirmed: Task.TaskAssigned,
    ConductAssessment.ConductAssessed: ConductAssessment.ConductAssessmentStarted,
    Target.TargetResultReported: Target.TargetSet,
}
SUPPORTED = {cls.__name__: cls for cls in CREATED_BY}
OWNER: dict[type[Aggregate.Event], type[Aggregate]] = {
    Sanction.SanctionImposed: Sanction,
    Task.TaskAssigned: Task,
    ConductAssessment.ConductAssessmentStarted: ConductAssessment,
    Target.TargetSet: Target,
}
_BASE = {"originator_id", "originator_version", "timestamp", "originator_topic", "originator_id_type"}
_ASSESSED = ConductAssessment.ConductAssessed
_DEFAULTS: dict[str, Any] = {
    "comment": "", "note": "", "evidence": "", "criterion": "", "points": None, "major_errors": 0,
}


@dataclass(frozen=True)
class Proposal:
    index: int
    cls: type[Aggregate.Event]
    aggregate_id: UUID
    fields: dict[str, Any]
    official_id: UUID | None = None  # a ConductAssessed addressed by official


@dataclass(frozen=True)
class Stream:
    """What the replay knew of an aggregate at its position: how it began, how far it got."""

    created: type
    version: int


def load_entries(path: str | Path) -> list[Any]:
    """The proposals of a `--with` file: a JSON list of objects."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInput("--with", f"cannot read {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInput("--with", f"{path} is not JSON: {e}") from None
    if not isinstance(data, list):
        raise InvalidInput("--with", f"{path} must hold a JSON list of proposed events")
    return data


def parse_event_ids(ids: Sequence[str]) -> tuple[str, ...]:
    """Event ids as `Contribution.event_id` writes them ("originator_id:version"), normalised."""
    out: list[str] = []
    for i, text in enumerate(ids):
        aggregate, _, version = str(text).strip().rpartition(":")
        try:
            number = int(version)
            normal = f"{UUID(aggregate)}:{number}"
        except ValueError:
            raise InvalidInput(
                f"without[{i}]", f"{text!r} is not an event id: expected ORIGINATOR_ID:VERSION"
            ) from None
        if number < 1:
            raise InvalidInput(f"without[{i}]", f"{text!r}: versions start at 1")
        out.append(normal)
    return tuple(dict.fromkeys(out))


def parse_proposals(entries: Sequence[Any], cycle_id: UUID) -> list[Proposal]:
    """Check every entry's shape and field types; the log is not needed for that."""
    return [_parse(i, entry, cycle_id) for i, entry in enumerate(entries)]


def _parse(i: int, entry: Any, cycle_id: UUID) -> Proposal:
    at = f"with[{i}]"
    if not isinstance(entry, Mapping):
        raise InvalidInput(at, 'each proposed event is an object: {"type": ..., "aggregate": ..., fields}')
    name = entry.get("type")
    cls = SUPPORTED.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidInput(f"{at}.type", f"{name!r} cannot be proposed; choose from {', '.join(SUPPORTED)}")
    addressing = ("type", "aggregate", "official_id") if cls is _ASSESSED else ("type", "aggregate")
    hints = {k: v for k, v in typing.get_type_hints(cls).items() if k not in _BASE}
    unknown = [k for k in entry if k not in hints and k not in addressing]
    if unknown:
        raise InvalidInput(f"{at}.{unknown[0]}", f"{name} has no such field; its fields: {', '.join(hints)}")
    fields: dict[str, Any] = {}
    for field, hint in hints.items():
        if field not in entry:
            if field not in _DEFAULTS:
                raise InvalidInput(f"{at}.{field}", f"missing: {name} needs {', '.join(hints)}")
            fields[field] = _DEFAULTS[field]
            continue
        fields[field] = _value(f"{at}.{field}", entry[field], hint)
    if "aggregate" in entry:
        return Proposal(i, cls, _value(f"{at}.aggregate", entry["aggregate"], UUID), fields)
    if cls is _ASSESSED and "official_id" in entry:
        official_id = _value(f"{at}.official_id", entry["official_id"], UUID)
        return Proposal(i, cls, conduct_id(official_id, cycle_id), fields, official_id)
    if cls is Sanction.SanctionImposed:
        text = json.dumps(entry, sort_keys=True, default=str)
        return Proposal(i, cls, uuid5(NAMESPACE_URL, f"kpi-ledger:what-if:{cycle_id}:{i}:{text}"), fields)
    whose = OWNER[CREATED_BY[cls]].__name__
    also = " (or official_id)" if cls is _ASSESSED else ""
    raise InvalidInput(f"{at}.aggregate", f"missing: the id of the {whose} concerned{also}")


def _value(at: str, raw: Any, hint: Any) -> Any:
    try:
        value = msgspec.convert(raw, hint, strict=True)
    except msgspec.ValidationError as e:
        raise InvalidInput(at, f"{raw!r} is not valid here: {e}") from None
    if isinstance(value, int | Decimal) and not isinstance(value, bool) and value < 0:
        raise InvalidInput(at, "must not be negative")
    return value


def build_events(
    proposals: Sequence[Proposal],
    streams: Mapping[UUID, Stream],
    cycle_id: UUID,
    moment: datetime,
    position: int,
) -> list[Aggregate.Event]:
    """The proposals as domain events, numbered after what `streams` knew at `position`."""
    known = dict(streams)
    out: list[Aggregate.Event] = []
    for p in proposals:
        at = f"with[{p.index}].aggregate"
        creation = CREATED_BY[p.cls]
        owner = OWNER[creation].__name__
        stream = known.get(p.aggregate_id)
        if p.cls is creation:
            if stream is not None:
                raise Conflict(at, f"{p.aggregate_id} is already recorded; a {p.cls.__name__} creates a new {owner}")
        elif stream is None and p.official_id is not None:
            # Not yet assessed in the cycle: open the assessment as the Ledger would.
            start = ConductAssessment.ConductAssessmentStarted
            fields = {"official_id": p.official_id, "cycle_id": cycle_id}
            out.append(_event(start, p.aggregate_id, 1, moment, p.index, fields, ConductAssessment))
            stream = Stream(start, 1)
        elif stream is None:
            raise NotFound(at, f"no {owner} {p.aggregate_id} is recorded at or before position {position}")
        elif stream.created is not creation:
            actual = stream.created.__qualname__.split(".")[0]
            raise InvalidInput(at, f"{p.aggregate_id} is a {actual}, not a {owner}: {p.cls.__name__} is a {owner}'s")
        version = stream.version + 1 if stream else 1
        out.append(_event(p.cls, p.aggregate_id, version, moment, p.index, p.fields, OWNER[creation]))
        known[p.aggregate_id] = Stream(creation, version)
    return out


def _event(
    cls: type[Aggregate.Event], aggregate_id: UUID, version: int, moment: datetime, index: int,
    fields: dict[str, Any], owner: type,
) -> Aggregate.Event:
    extra = {"originator_topic": get_topic(owner)} if issubclass(cls, Aggregate.Created) else {}
    event = cls(
        originator_id=aggregate_id, originator_version=version, timestamp=moment, **extra, **fields
    )
    object.__setattr__(event, "actor", WHAT_IF)
    object.__setattr__(event, "command_id", f"what-if:{index}")
    return event


def describe(event: Aggregate.Event) -> str:
    """One line for a header: type, event id and business date."""
    day = getattr(event, "occurred_on", None)
    return f"{type(event).__name__} {event.originator_id}:{event.originator_version}" + (
        f" ({day.isoformat()})" if day is not None else ""
    )
