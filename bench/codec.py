"""Stored-event decoding speed: the typed msgspec mapper against the library's default mapper.

Records the demo commune into a temporary SQLite file and reads its events once. The same events
are encoded twice: by `domain.codec.TypedMsgspecMapper` (what the ledger stores) and by the
library's default `Mapper` + `JSONTranscoder`, given the transcodings it needs for `date`,
dataclasses and enums. Then both are timed decoding back to domain events (the work every
rebuild and replay does), with the plain `json.loads` of the same states as a floor. Prints
medians of repeated runs and ratios.

    .venv/bin/python -m bench.codec [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding

from api.demo_commune import record_demo_commune
from domain.actors import Actor
from domain.ledger import Ledger
from domain.persistence import ledger_env
from domain.policy import PolicyParams


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def dataclass_transcoding(cls: type) -> Transcoding:
    class AsDict(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> dict[str, Any]:
            return {f.name: getattr(obj, f.name) for f in fields(obj)}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    return AsDict()


def default_mapper(enums: set[type[Enum]]) -> Mapper[Any]:
    """The library's own path, made able to store what our events hold."""
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(),
                        dataclass_transcoding(Actor), dataclass_transcoding(PolicyParams)):
        transcoder.register(transcoding)
    for enum in enums:
        class EnumAsValue(Transcoding):
            type = enum
            name = enum.__qualname__

            def encode(self, obj: Any, _e: Any = enum) -> Any:
                return obj.value

            def decode(self, data: Any, _e: Any = enum) -> Any:
                return _e(data)

        transcoder.register(EnumAsValue())
    return Mapper(transcoder=transcoder)


def median_rate(work: Callable[[], object], count: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(env=ledger_env({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"}))
        record_demo_commune(ledger)
        notes = ledger.recorder.select_notifications(start=1, limit=1_000_000)
        events = [ledger.mapper.to_domain_event(n) for n in notes]
        ledger.close()
    enums = {type(v) for e in events for v in vars(e).values() if isinstance(v, Enum)}
    default = default_mapper(enums)
    ours = ledger.mapper
    typed_stored = [ours.to_stored_event(e) for e in events]
    default_stored = [default.to_stored_event(e) for e in events]
    n = len(events)
    rates = {
        "typed msgspec mapper": median_rate(lambda: [ours.to_domain_event(s) for s in typed_stored], n, args.repeat),
        "library Mapper + JSONTranscoder": median_rate(
            lambda: [default.to_domain_event(s) for s in default_stored], n, args.repeat),
        "json.loads of the states only (floor)": median_rate(
            lambda: [json.loads(s.state) for s in default_stored], n, args.repeat),
    }
    reference = rates["library Mapper + JSONTranscoder"]
    print(f"decoding {n} stored events of the demo commune to domain events, median of {args.repeat} runs")
    for name, rate in rates.items():
        print(f"  {name:40s} {rate:12,.0f} events/s   {rate / reference:5.2f}x the library's default mapper")



if __name__ == "__main__":
    main()
