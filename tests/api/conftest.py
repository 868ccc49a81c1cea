"""The API under test: the real app (FastAPI TestClient, no mocks) on SQLite and PostgreSQL.

A world per module and backend: two communes in one ledger, Xã Tân Lập (tag "", in scope)
and its twin of another province (tag "X-", out of scope for every scoped token), and one
token per role, granted through the Ledger like any other grant. The business day is fixed at
Monday 9 March 2026, inside both communes' 15-day cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import hash_token, new_token
from domain.access import AccessRole
from domain.actors import Actor
from domain.ledger import Ledger
from tests.backends import postgres_database, postgres_env, sqlite_env
from tests.commune import Commune, build_commune

TODAY = date(2026, 3, 9)
ROLES = ("official", "unit_head", "monitoring", "inspector", "appeals", "admin")


@dataclass
class World:
    client: TestClient
    ledger: Ledger
    a: Commune  # in scope
    b: Commune  # another province: out of every scoped token's reach
    tokens: dict[str, str] = field(default_factory=dict)
    access_ids: dict[str, UUID] = field(default_factory=dict)

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}
        return self.client.request(method, "/api/v1" + path, json=json, headers=headers, **kwargs)

    def grant(self, name: str, official: Actor, roles: list[AccessRole], unit_id: UUID | None) -> str:
        token = new_token()
        self.access_ids[name] = self.ledger.grant_access(
            self.a.admin, token_hash=hash_token(token), official_id=official.official_id, roles=roles,
            unit_id=unit_id,
        )
        self.tokens[name] = token
        return token


def build_world(ledger: Ledger) -> World:
    a = build_commune(ledger)
    b = build_commune(ledger, tag="X-")
    world = World(TestClient(create_app(ledger, today=lambda: TODAY)), ledger, a, b)
    r = AccessRole
    world.grant("official", a.member, [r.OFFICIAL], None)  # Phạm Thị Dung
    world.grant("unit_head", a.chairman, [r.UNIT_HEAD], a.commune_id)  # Chủ tịch UBND xã
    world.grant("dept_head", a.economy_head, [r.UNIT_HEAD], a.economy_id)  # Trưởng phòng Kinh tế
    world.grant("monitoring", a.monitoring, [r.MONITORING], a.commune_id)
    world.grant("inspector", a.admin, [r.INSPECTOR], a.province_id)
    world.grant("appeals", a.admin, [r.APPEALS], a.province_id)
    world.grant("admin", a.admin, [r.ADMIN], a.province_id)
    world.grant("wide_admin", a.admin, [r.ADMIN], None)
    world.grant("wide_inspector", a.admin, [r.INSPECTOR], None)
    world.grant("wide_appeals", a.admin, [r.APPEALS], None)
    world.grant("b_admin", b.admin, [r.ADMIN], b.province_id)
    world.grant("b_official", b.member, [r.OFFICIAL], None)
    return world


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per backend for the module (a database per test would be most of the run)."""
    if request.param == "sqlite":
        ledger = Ledger(env=sqlite_env(tmp_path_factory.mktemp("api")))
        yield build_world(ledger)
        ledger.close()
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        ledger = Ledger(env=postgres_env(url))
        yield build_world(ledger)
        ledger.close()
