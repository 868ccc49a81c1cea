"""The stored event format: UTF-8 JSON written by msgspec, decoded back *typed*.

Why this format (DESIGN "Persistence"):

- Evaluation records must stay readable for the decades they are kept, by tools that do not
  exist yet. JSON text is the most durable choice; pickles or binary formats tie the archive
  to one runtime.
- Projections and replays decode the whole log again and again. Decoding with a
  `msgspec.json.Decoder` built from each event class's type hints measured ~3x faster than the
  library's default `JSONTranscoder`, which also has no `date` (every business date here is one).
- Typed decoding gives back `date`, `datetime`, `UUID`, `Decimal`, tuples, enums and
  dataclasses as themselves, so a replayed event equals the event that was saved.
- Choose once: changing the format later means migrating stored data that is supposed to be
  immutable. Hence the strictness below: anything that would not come back identical is refused
  when *writing* (unknown types, undeclared attributes, NaN/infinite floats, which JSON would turn
  into null), never discovered years later when reading.

Every event also carries the metadata the Ledger stamps before saving: `actor`
(`domain.actors.Actor`) and `command_id` (str). Events whose class has `class_version > 1` are
upcast as by the library; upcasters then see JSON-native values (ISO strings, lists), and the
result is converted to the current types.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import typing
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol, TAggregateID
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.actors import Actor

#: Metadata keys the Ledger stamps on every event before saving, with their types.
STAMPS: dict[str, Any] = {"actor": Actor, "command_id": str}

_NOT_STATE = frozenset({"originator_id", "originator_version"})
_JSON_SCALARS = (str, int, bool, type(None))
_FLOAT_FREE = frozenset({str, int, bool, type(None), Decimal, date, datetime, UUID})
_SUPPORTED = (
    "str, int, bool, finite float, Decimal, date, datetime, time, UUID, enums, "
    "tuples/lists/sets, dicts with str keys, and dataclasses of these"
)


class Fields(msgspec.Struct, kw_only=True):
    """Base of the field sets `TypedMsgspecMapper.decode_fields` decodes into."""

    class_version: int = 1


class Stamped(Fields, kw_only=True):
    """Fields with the event's aggregate id (as `str(UUID)` writes it) and version: columns of
    the stored event, not part of its state, so whoever reads the state fills them in."""

    originator_id: str = ""
    originator_version: int = 0


_S = typing.TypeVar("_S", bound=Fields)


@cache
def _class_version(topic: str) -> int:
    return int(getattr(resolve_topic(topic), "class_version", 1))


@cache
def _fields_decoder(into: type[_S]) -> msgspec.json.Decoder[_S]:
    return msgspec.json.Decoder(into)


def fields_of(event: Any, into: type[_S]) -> _S:
    """A typed event's fields as `decode_fields` gives them (the same JSON text values)."""
    converted: _S = msgspec.convert(msgspec.to_builtins(vars(event)), into)
    return converted


class StoredEventFormatError(TypeError):
    """An event (or snapshot) holds something the stored event format cannot keep faithfully."""


@dataclasses.dataclass(frozen=True)
class _Schema:
    owner: type  # the class whose class_version and upcast_vN_vM methods apply
    typed: Any  # the TypedDict the state decodes into
    decoder: msgspec.json.Decoder[Any]
    keys: frozenset[str]
    may_hold_float: bool


class TypedMsgspecMapper(Mapper[TAggregateID]):
    """`Mapper` with msgspec JSON state; keeps the library's id, version, cipher, compressor rules.

    The library passes a transcoder; it is kept (the base class expects one) but not used.
    """

    def __init__(
        self,
        transcoder: Transcoder | None = None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder or JSONTranscoder(), compressor=compressor, cipher=cipher)
        self._encoder = msgspec.json.Encoder(order="deterministic")
        self._by_topic: dict[str, tuple[type, _Schema | None, Any]] = {}

    def to_stored_event(self, domain_event: DomainEventProtocol[TAggregateID]) -> StoredEvent:
        cls = type(domain_event)
        topic = get_topic(cls)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version

        schema = _event_schema(cls)
        undeclared = event_state.keys() - schema.keys
        if undeclared:
            msg = (
                f"{topic} has attributes {sorted(undeclared)} that its class does not declare; "
                "declare them as fields so they decode back typed (undeclared keys would be lost)"
            )
            raise StoredEventFormatError(msg)
        if issubclass(cls, CanSnapshotAggregate):
            _check_snapshot_state(event_state["topic"], event_state["state"])
        if schema.may_hold_float:
            _check_finite(event_state, topic)

        stored_state = self._encode(event_state, topic)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=stored_state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[TAggregateID]:
        topic = stored_event.topic
        known = self._by_topic.get(topic)
        if known is None:
            known = self._by_topic[topic] = self._topic_plan(topic, type(stored_event.originator_id))
        cls, schema, id_convertor = known
        stored_state = stored_event.state
        try:
            if self.cipher:
                stored_state = self.cipher.decrypt(stored_state)
            if self.compressor:
                stored_state = self.compressor.decompress(stored_state)
            if schema is None:
                event_state = _decode_snapshot(cls, stored_state)
            else:
                event_state = _decode_state(schema, stored_state)
        except Exception as e:
            msg = (
                f"Failed to deserialise state of stored event with "
                f"topic '{topic}', "
                f"originator_id '{stored_event.originator_id}' and "
                f"originator_version {stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e

        event_state["originator_id"] = id_convertor(stored_event.originator_id)
        event_state["originator_version"] = stored_event.originator_version
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return cast("DomainEventProtocol[TAggregateID]", domain_event)  # str: no runtime cost

    def decode_fields(self, stored_event: Any, into: type[_S]) -> _S:
        """Only the fields `into` (a `msgspec.Struct`) names, as the JSON holds them (ISO text,
        not dates and UUIDs): for a read model that copies an event's values into columns, typing
        them first and printing them back costs several times the rest of its work. Falls back
        to the typed decode (and its upcasters) for a state written by an older class_version."""
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        try:
            fields: _S | None = _fields_decoder(into).decode(state)
        except msgspec.ValidationError:  # an older class_version may lack a field, say
            fields = None
        if fields is not None and fields.class_version == _class_version(stored_event.topic):
            if isinstance(fields, Stamped):
                fields.originator_id = str(stored_event.originator_id)
                fields.originator_version = stored_event.originator_version
            return fields
        return fields_of(self.to_domain_event(stored_event), into)

    def fields_reader(self, topic: str, into: type[_S]) -> Callable[[bytes], _S | None]:
        """`decode_fields`' fast path for the events of one topic, its lookups done once: a
        rebuild reads every diary entry of a province through it. It takes the stored state
        alone (the caller stamps `Stamped` fields), and gives None where only `decode_fields`
        can read it (encrypted or compressed, or an older class_version)."""
        if self.cipher or self.compressor:
            return lambda state: None
        decode, version = _fields_decoder(into).decode, _class_version(topic)

        def read(state: bytes) -> _S | None:
            try:
                fields = decode(state)
            except msgspec.ValidationError:
                return None
            return fields if fields.class_version == version else None

        return read

    def _topic_plan(self, topic: str, id_type: type) -> tuple[type, _Schema | None, Any]:
        """What decoding a topic needs, worked out once: a province's rebuild decodes millions of
        events of a few dozen kinds, and looking these up per event cost more than the JSON."""
        cls = resolve_topic(topic)
        schema = None if issubclass(cls, CanSnapshotAggregate) else _event_schema(cls)
        return cls, schema, find_id_convertor(cls, cast(Hashable, id_type))

    def _encode(self, state: dict[str, Any], topic: str) -> bytes:
        try:
            return self._encoder.encode(state)
        except (TypeError, ValueError, OverflowError) as e:
            for key, value in state.items():
                try:
                    self._encoder.encode(value)
                except (TypeError, ValueError, OverflowError) as inner:
                    msg = (
                        f"cannot store attribute {key!r} of {topic} "
                        f"(a {type(value).__qualname__}): {inner}. Supported: {_SUPPORTED}"
                    )
                    raise StoredEventFormatError(msg) from e
            msg = f"cannot store {topic}: {e}. Supported: {_SUPPORTED}"
            raise StoredEventFormatError(msg) from e


def _decode_state(schema: _Schema, raw: bytes, *, keep_undeclared: bool = False) -> dict[str, Any]:
    """Typed decode in one pass; the slow path only for states written by an older class_version."""
    current = getattr(schema.owner, "class_version", 1)
    state: dict[str, Any] | None
    try:
        state = schema.decoder.decode(raw)
    except msgspec.ValidationError:
        if current == 1:
            raise
        state = None
    if state is not None and state.pop("class_version", 1) == current:
        if keep_undeclared:
            plain: dict[str, Any] = msgspec.json.decode(raw)
            for key in plain.keys() - schema.keys:
                state[key] = plain[key]
        return state

    plain = msgspec.json.decode(raw)
    from_version = plain.pop("class_version", 1)
    while from_version < current:
        getattr(schema.owner, f"upcast_v{from_version}_v{from_version + 1}")(plain)
        from_version += 1
    state = msgspec.convert(plain, schema.typed)
    if keep_undeclared:
        for key in plain.keys() - schema.keys:
            state[key] = plain[key]
    return state


def _decode_snapshot(cls: type, raw: bytes) -> dict[str, Any]:
    event_state = _decode_state(_event_schema(cls, raw_state=True), raw)
    aggregate_cls = resolve_topic(event_state["topic"])
    state = _decode_state(
        _aggregate_schema(aggregate_cls), event_state["state"], keep_undeclared=True
    )
    class_version = getattr(aggregate_cls, "class_version", 1)
    if class_version > 1:  # already upcast here; stops Snapshot.mutate from doing it again
        state["class_version"] = class_version
    event_state["state"] = state
    return event_state


def _check_snapshot_state(aggregate_topic: str, state: dict[str, Any]) -> None:
    schema = _aggregate_schema(resolve_topic(aggregate_topic))
    for key in state.keys() - schema.keys:
        if not _is_json_native(state[key]):
            msg = (
                f"cannot snapshot {aggregate_topic}: attribute {key!r} holds a "
                f"{type(state[key]).__qualname__} but has no class-level type annotation, so it "
                f"would decode back as plain JSON; annotate it on the aggregate class"
            )
            raise StoredEventFormatError(msg)


@cache
def _event_schema(cls: type, *, raw_state: bool = False) -> _Schema:
    fields = dict(STAMPS)
    fields.update({k: v for k, v in _instance_hints(cls).items() if k not in _NOT_STATE})
    fields["class_version"] = int
    if raw_state:  # a snapshot's aggregate state is decoded by the aggregate's own schema
        fields["state"] = msgspec.Raw
    return _build_schema(cls, cls, fields)


@cache
def _aggregate_schema(cls: type) -> _Schema:
    fields: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}
    fields.update(_instance_hints(cls))
    fields["class_version"] = int
    return _build_schema(cls, cls, fields)


def _build_schema(owner: type, cls: type, fields: dict[str, Any]) -> _Schema:
    typed = typing.TypedDict(f"{cls.__qualname__}State", fields, total=False)  # type: ignore[misc]
    try:
        decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(typed)
    except (TypeError, ValueError) as e:
        msg = f"{cls.__module__}.{cls.__qualname__} has a field type msgspec cannot decode: {e}"
        raise StoredEventFormatError(msg) from e
    may_hold_float = any(_may_hold_float(tp, set()) for tp in fields.values())
    return _Schema(owner, typed, decoder, frozenset(fields), may_hold_float)


def _instance_hints(cls: type) -> dict[str, Any]:
    """Type hints of instance attributes, resolving names of enclosing classes too."""
    module = sys.modules.get(cls.__module__)
    localns: dict[str, Any] = {}
    outer: Any = module
    for part in cls.__qualname__.split(".")[:-1]:
        outer = getattr(outer, part, None)
        if not isinstance(outer, type):
            break
        localns.update(vars(outer))
    try:
        hints = typing.get_type_hints(cls, localns=localns)
    except (NameError, TypeError) as e:
        msg = f"cannot resolve the type annotations of {cls.__module__}.{cls.__qualname__}: {e}"
        raise StoredEventFormatError(msg) from e
    return {
        name: tp
        for name, tp in hints.items()
        if typing.get_origin(tp) is not ClassVar
        and tp is not ClassVar
        and not isinstance(tp, dataclasses.InitVar)
    }


def _may_hold_float(tp: Any, seen: set[int]) -> bool:
    if tp is float or tp is Any or isinstance(tp, typing.TypeVar):
        return True
    if id(tp) in seen:
        return False
    seen.add(id(tp))
    if hasattr(tp, "__supertype__"):  # typing.NewType
        return _may_hold_float(tp.__supertype__, seen)
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Literal:
        return any(type(a) is float for a in args)
    if args:
        return any(_may_hold_float(a, seen) for a in args if a is not Ellipsis)
    if tp in (list, tuple, set, frozenset, dict):  # unparametrised: anything inside
        return True
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return any(_may_hold_float(t, seen) for t in _instance_hints(tp).values())
    return False


def _check_finite(value: Any, where: str) -> None:
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            msg = f"cannot store {where}: {value!r} is not a finite float (JSON would store null)"
            raise StoredEventFormatError(msg)
    elif kind in _FLOAT_FREE:
        return
    elif isinstance(value, dict):
        for item in value.values():
            _check_finite(item, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_finite(item, where)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _check_finite(getattr(value, field.name), where)


def _is_json_native(value: Any) -> bool:
    """True when plain JSON decoding gives back an equal value of the same type."""
    if type(value) in _JSON_SCALARS:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(_is_json_native(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_json_native(v) for k, v in value.items())
    return False
