"""Who did something: stamped on every event the Ledger records.

A frozen dataclass (not a dict) so the stored-event codec decodes it back typed and the
role/official pair cannot be altered once attached to an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    official_id: UUID
    role: str


SYSTEM = Actor(official_id=UUID(int=0), role="system")
