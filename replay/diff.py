"""The difference between two replays of a cycle: who scores differently, and exactly why.

"Why did my score change between the 20th and now?", "what does policy v2 do to us?", "what
would this correction change?" all compare two replays. Because every score is the sum of its
lines (`Contribution`), the lines present in one replay and not in the other explain the whole
difference, to the cent: sum(added) − sum(removed) = after − before. Lines are matched by
(event id, component, delta, note) as a multiset, so a line re-priced by another policy shows
as its old amount removed and its new one added, and derived lines (a clamp, a head's line for
a member's score, the cap) come along whenever what they derive from moved.

Only officials whose figures (components, total, rating) differ are listed; lines that moved
without changing any figure explain nothing anyone disputes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from domain.errors import InvalidInput
from domain.score_lines import Contribution, Rating
from domain.scoring import OfficialScore
from replay.timetravel import Replay

COMPONENTS = ("task", "unit", "discipline", "conduct", "approval", "clamp")
LineKey = tuple[str | None, str, Decimal, str]


@dataclass(frozen=True)
class Figures:
    task: Decimal
    unit: Decimal
    discipline: Decimal
    conduct: Decimal
    approval: Decimal
    clamp: Decimal
    total: Decimal
    rating: Rating

    @classmethod
    def of(cls, row: OfficialScore) -> Figures:
        return cls(row.task, row.unit, row.discipline, row.conduct, row.approval, row.clamp,
                   row.total, row.rating)


@dataclass(frozen=True)
class Change:
    """One official's before and after (None: not scored on that side) and the lines between."""

    official_id: UUID
    code: str
    full_name: str
    before: Figures | None
    after: Figures | None
    removed: tuple[Contribution, ...]  # in the first replay, not in the second
    added: tuple[Contribution, ...]  # in the second replay, not in the first

    @property
    def delta(self) -> Decimal:
        before = self.before.total if self.before else Decimal(0)
        after = self.after.total if self.after else Decimal(0)
        return after - before

    @property
    def event_ids(self) -> tuple[str, ...]:
        """The recorded (or proposed) events behind the difference, in line order."""
        return tuple(dict.fromkeys(c.event_id for c in (*self.removed, *self.added) if c.event_id))


@dataclass(frozen=True)
class Diff:
    a: Replay
    b: Replay
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def official_ids(self) -> frozenset[UUID]:
        return frozenset(c.official_id for c in self.changes)


def line_key(c: Contribution) -> LineKey:
    return (c.event_id, c.component, c.delta, c.note)


def diff(a: Replay, b: Replay) -> Diff:
    """Per official whose figures differ between `a` and `b`: before, after, and the lines."""
    if a.cycle_id != b.cycle_id:
        raise InvalidInput("b", f"replays of different cycles ({a.cycle_id}, {b.cycle_id}) do not compare")
    before = {r.official_id: r for r in a.table.rows}
    after = {r.official_id: r for r in b.table.rows}
    changes: list[Change] = []
    for official_id in dict.fromkeys([*before, *after]):
        old, new = before.get(official_id), after.get(official_id)
        old_figures = Figures.of(old) if old else None
        new_figures = Figures.of(new) if new else None
        if old_figures == new_figures:
            continue
        old_lines = old.contributions if old else ()
        new_lines = new.contributions if new else ()
        either = new or old
        assert either is not None  # one side has the official, or they would not be listed
        changes.append(Change(
            official_id=official_id,
            code=either.code,
            full_name=either.full_name,
            before=old_figures,
            after=new_figures,
            removed=_missing_from(old_lines, new_lines),
            added=_missing_from(new_lines, old_lines),
        ))
    return Diff(a, b, tuple(changes))


def _missing_from(lines: Iterable[Contribution], other: Iterable[Contribution]) -> tuple[Contribution, ...]:
    """The lines of `lines` that `other` lacks, counting repeats (a multiset difference)."""
    available = Counter(line_key(c) for c in other)
    out: list[Contribution] = []
    for c in lines:
        key = line_key(c)
        if available[key]:
            available[key] -= 1
        else:
            out.append(c)
    return tuple(out)
