"""Access grants: who holds a token for which roles and scope, who granted it, when it ended.

Checking a presented token never reads this table (the ledger reads the grant's own short
stream by an id derived from the token's hash, so a revocation takes effect at once); this is
for the lists administrators and inspectors ask for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

from domain.access import Access
from projections.base import Positioned, ReadModel, topics_of
from projections.store import Statement, ViewStore


class AccessGrants(ReadModel):
    name = "access"
    tables: ClassVar[dict[str, str]] = {
        "access": (
            "access_id TEXT PRIMARY KEY, official_id TEXT, roles TEXT, unit_id TEXT, "
            "granted_by TEXT, granted_at TEXT, granted_position INTEGER, revoked_by TEXT, "
            "revoked_at TEXT, reason TEXT"
        ),
    }
    indexes: ClassVar[dict[str, tuple[str, str]]] = {"by_position": ("access", "granted_position")}

    topics = topics_of(Access.AccessGranted, Access.AccessRevoked)

    def apply(self, page: Sequence[Positioned]) -> list[Statement]:
        out: list[Statement] = []
        for position, e in page:
            if isinstance(e, Access.AccessGranted):
                out.append(self.s(
                    "INSERT INTO {access} VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                    (str(e.originator_id), str(e.official_id), json.dumps([r.value for r in e.roles]),
                     None if e.unit_id is None else str(e.unit_id), str(e.granted_by),
                     e.timestamp.isoformat(), position),
                ))
            elif isinstance(e, Access.AccessRevoked):
                out.append(self.s(
                    "UPDATE {access} SET revoked_by = ?, revoked_at = ?, reason = ? WHERE access_id = ?",
                    (str(e.revoked_by), e.timestamp.isoformat(), e.reason, str(e.originator_id)),
                ))
        return out


def access_grants(store: ViewStore, after: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Grants in the order they were recorded; `after` is the last access id already seen."""
    sql = "SELECT * FROM kpi_access"
    params: list[Any] = []
    if after is not None:
        sql += " WHERE granted_position > (SELECT granted_position FROM kpi_access WHERE access_id = ?)"
        params.append(after)
    if limit is not None:
        sql += f" ORDER BY granted_position LIMIT {int(limit)}"
    else:
        sql += " ORDER BY granted_position"
    rows = store.query(sql, params)
    for row in rows:
        row["roles"] = json.loads(row["roles"])
    return rows


def units_within(store: ViewStore, unit_id: str) -> set[str]:
    """A grant's reach: the unit and every unit below it, from the organisation table."""
    children: dict[str, list[str]] = {}
    for row in store.query("SELECT unit_id, parent_id FROM kpi_units"):
        if row["parent_id"] is not None:
            children.setdefault(row["parent_id"], []).append(row["unit_id"])
    reach, todo = {unit_id}, [unit_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in reach:
                reach.add(child)
                todo.append(child)
    return reach


def officials_within(store: ViewStore, units: set[str]) -> set[str]:
    """The officials whose unit is one of `units` (for filtering lists to a grant's reach)."""
    return {r["official_id"] for r in store.query("SELECT official_id, unit_id FROM kpi_officials")
            if r["unit_id"] in units}
