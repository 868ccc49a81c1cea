"""The stored event format gives back exactly what was saved, typed, and refuses what it can't."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.cryptography import AESCipher
from eventsourcing.domain import Aggregate, Snapshot, event
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import Environment
from hypothesis import given
from hypothesis import strategies as st

from domain.actors import SYSTEM, Actor
from domain.codec import Fields, Stamped, StoredEventFormatError, TypedMsgspecMapper, fields_of
from domain.persistence import id_text


class Kind(str, Enum):
    HARD = "hard"
    SOFT = "soft"


@dataclass(frozen=True)
class Product:
    name: str
    quantity: int


class Sample(Aggregate):
    """Annotated so snapshots decode typed too."""

    due_on: date
    amount: Decimal
    note: str | None
    tags: tuple[str, ...]

    @event("Recorded")
    def __init__(
        self,
        due_on: date,
        at: datetime,
        ref: UUID,
        amount: Decimal,
        note: str | None,
        tags: tuple[str, ...],
        kind: Kind,
        product: Product,
    ) -> None:
        self.due_on = due_on
        self.amount = amount
        self.note = note
        self.tags = tags

    @event("Noted")
    def add_note(self, note: str | None, ratio: float) -> None:
        self.note = note


def stamp(evt: Any, actor: Actor, command_id: str) -> Any:
    object.__setattr__(evt, "actor", actor)
    object.__setattr__(evt, "command_id", command_id)
    return evt


def round_trip(mapper: TypedMsgspecMapper[UUID], evt: Any) -> Any:
    return mapper.to_domain_event(mapper.to_stored_event(evt))


zones = st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(minutes=-150))])
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4)
texts = st.text(max_size=30)
actors = st.builds(Actor, official_id=st.uuids(), role=st.sampled_from(["official", "approver"]))
products = st.builds(Product, name=texts, quantity=st.integers(0, 10_000))


@given(
    due_on=st.dates(),
    at=st.datetimes(timezones=zones),
    ref=st.uuids(),
    amount=decimals,
    note=st.none() | texts,
    tags=st.lists(texts, max_size=4).map(tuple),
    kind=st.sampled_from(Kind),
    product=products,
    actor=actors,
    command_id=texts,
)
def test_events_round_trip_typed(
    due_on: date,
    at: datetime,
    ref: UUID,
    amount: Decimal,
    note: str | None,
    tags: tuple[str, ...],
    kind: Kind,
    product: Product,
    actor: Actor,
    command_id: str,
) -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(due_on, at, ref, amount, note, tags, kind, product)
    sample.add_note(None, 0.25)
    for original in sample.collect_events():
        stamp(original, actor, command_id)
        copy = round_trip(mapper, original)
        assert type(copy) is type(original)
        assert vars(copy) == vars(original)
        for key, value in vars(original).items():
            assert type(vars(copy)[key]) is type(value), key


def test_stored_state_is_readable_utf8_json() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 8, 20),
        datetime(2025, 8, 20, 9, tzinfo=UTC),
        UUID(int=1),
        Decimal("1.50"),
        "Báo cáo tháng 8",
        ("xã",),
        Kind.HARD,
        Product("báo cáo", 2),
    )
    evt = stamp(sample.collect_events()[0], SYSTEM, "cmd-1")
    stored = mapper.to_stored_event(evt)
    text = stored.state.decode("utf-8")
    assert "Báo cáo tháng 8" in text  # not \u-escaped
    state = json.loads(text)
    assert state["due_on"] == "2025-08-20"
    assert state["amount"] == "1.50"
    assert state["actor"] == {"official_id": str(UUID(int=0)), "role": "system"}
    assert state["command_id"] == "cmd-1"
    assert "originator_id" not in state and "originator_version" not in state


def test_unstamped_events_round_trip() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    evt = sample.collect_events()[0]
    assert vars(round_trip(mapper, evt)) == vars(evt)


def test_unknown_type_is_refused_naming_the_attribute() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    evt = sample.collect_events()[0]
    object.__setattr__(evt, "product", object())
    with pytest.raises(StoredEventFormatError, match="'product'"):
        mapper.to_stored_event(evt)


def test_undeclared_attribute_is_refused() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    evt = sample.collect_events()[0]
    object.__setattr__(evt, "stray", 1)
    with pytest.raises(StoredEventFormatError, match="stray"):
        mapper.to_stored_event(evt)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_float_is_refused(bad: float) -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    sample.add_note("n", bad)
    with pytest.raises(StoredEventFormatError, match="finite"):
        mapper.to_stored_event(sample.collect_events()[1])


def test_snapshot_round_trips_typed() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 3, 4),
        datetime(2025, 3, 4, tzinfo=UTC),
        uuid4(),
        Decimal("2.25"),
        "n",
        ("a", "b"),
        Kind.HARD,
        Product("x", 1),
    )
    snapshot = Snapshot.take(sample)
    copy = round_trip(mapper, snapshot)
    assert vars(copy) == vars(snapshot)
    restored = copy.mutate(None)
    assert restored.due_on == date(2025, 3, 4)
    assert restored.tags == ("a", "b")
    assert restored.amount == Decimal("2.25")


def test_snapshot_of_unannotated_typed_attribute_is_refused() -> None:
    class Loose(Aggregate):
        @event("Made")
        def __init__(self, on: date) -> None:
            self.on = on
            self.plain = [1, "a"]

    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    with pytest.raises(StoredEventFormatError, match="'on'"):
        mapper.to_stored_event(Snapshot.take(Loose(date(2025, 1, 1))))


class Versioned(Aggregate):
    class Started(Aggregate.Created):
        on: date
        hours: Decimal
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["hours"] = "8"


def test_old_class_version_is_upcast_then_typed() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    versioned = Versioned._create(Versioned.Started, on=date(2025, 5, 1), hours=Decimal("7.5"))
    stored = mapper.to_stored_event(versioned.collect_events()[0])
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["hours"]  # as a version-1 class wrote it
    v1 = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode()
    )
    copy: Any = mapper.to_domain_event(v1)
    assert copy.hours == Decimal("8")
    assert copy.on == date(2025, 5, 1)
    assert "class_version" not in vars(copy)


def test_compressor_and_cipher_still_apply() -> None:
    key = AESCipher.create_key(32)
    cipher = AESCipher(Environment(env={"CIPHER_KEY": key}))
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper(
        compressor=ZlibCompressor(), cipher=cipher
    )
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    evt = stamp(sample.collect_events()[0], SYSTEM, "c")
    stored = mapper.to_stored_event(evt)
    assert b"command_id" not in stored.state
    assert vars(mapper.to_domain_event(stored)) == vars(evt)


def test_corrupt_state_raises_library_error() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(
        date(2025, 1, 1),
        datetime(2025, 1, 1, tzinfo=UTC),
        uuid4(),
        Decimal(1),
        None,
        (),
        Kind.SOFT,
        Product("x", 1),
    )
    stored = mapper.to_stored_event(sample.collect_events()[0])
    bad = stored.state.replace(b'"2025-01-01"', b'"not a date"', 1)
    with pytest.raises(MapperDeserialisationError):
        mapper.to_domain_event(StoredEvent(stored.originator_id, 1, stored.topic, bad))


class SampleFields(Fields):
    due_on: str
    amount: str
    note: str | None
    ref: str


class VersionedFields(Fields):
    on: str
    hours: str


class StampedFields(Stamped):
    due_on: str


def test_stamped_fields_carry_the_aggregate_id_as_text_and_its_version_on_every_path() -> None:
    """The id and version are columns of the stored event, not its state: `decode_fields`, a
    typed event's fields and a runner reading raw rows (`id_text`) all give `str(UUID)`."""
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    sample = Sample(date(2025, 1, 2), datetime(2025, 1, 1, tzinfo=UTC), uuid4(), Decimal(1), None, (),
                    Kind.SOFT, Product("x", 1))
    stored = mapper.to_stored_event(sample.collect_events()[0])
    want = StampedFields(due_on="2025-01-02", originator_id=str(sample.id), originator_version=1)
    assert mapper.decode_fields(stored, StampedFields) == want
    assert fields_of(mapper.to_domain_event(stored), StampedFields) == want
    assert {id_text(sample.id.hex), id_text(sample.id), id_text(str(sample.id))} == {str(sample.id)}


def test_decode_fields_gives_the_json_values_of_the_typed_event_even_through_cipher() -> None:
    """A read model that copies values to columns gets the same text the typed event prints as."""
    key = AESCipher.create_key(32)
    cipher = AESCipher(Environment(env={"CIPHER_KEY": key}))
    for mapper in (TypedMsgspecMapper(), TypedMsgspecMapper(compressor=ZlibCompressor(), cipher=cipher)):
        ref = uuid4()
        sample = Sample(date(2025, 1, 2), datetime(2025, 1, 1, tzinfo=UTC), ref, Decimal("7.50"), None, (),
                        Kind.SOFT, Product("x", 1))
        stored = mapper.to_stored_event(stamp(sample.collect_events()[0], SYSTEM, "c"))
        fields = mapper.decode_fields(stored, SampleFields)
        assert fields == SampleFields(due_on="2025-01-02", amount="7.50", note=None, ref=str(ref))
        assert fields == fields_of(mapper.to_domain_event(stored), SampleFields)
        fast = mapper.fields_reader(stored.topic, SampleFields)(stored.state)
        assert fast == (None if mapper.cipher else fields)  # None: only `decode_fields` reads it


def test_decode_fields_of_an_old_class_version_goes_through_the_upcaster() -> None:
    mapper: TypedMsgspecMapper[UUID] = TypedMsgspecMapper()
    versioned = Versioned._create(Versioned.Started, on=date(2025, 5, 1), hours=Decimal("7.5"))
    stored = mapper.to_stored_event(versioned.collect_events()[0])
    state = json.loads(stored.state)
    state.pop("class_version")
    del state["hours"]  # as a version-1 class wrote it
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    assert mapper.decode_fields(v1, VersionedFields) == VersionedFields(on="2025-05-01", hours="8")
    assert mapper.decode_fields(stored, VersionedFields).hours == "7.5"
    read = mapper.fields_reader(stored.topic, VersionedFields)  # what a runner reads them with
    assert read(v1.state) is None  # left to `decode_fields`, which upcasts
    fields = read(stored.state)
    assert fields is not None and fields.hours == "7.5"
