"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is skipped on a developer's machine when the server is down, but under CI=true its
absence fails the run: a suite that silently skips its production backend proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.backends import (
    postgres_database,
    postgres_env,
    postgres_server_url,
    postgres_unreachable_reason,
    running_in_ci,
    sqlite_env,
)

# CI replays a fixed set of examples (a submission must not fail on a newly drawn one);
# developers' runs keep drawing new examples and find what CI would otherwise stumble on.
settings.register_profile("ci", max_examples=50, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if running_in_ci() else "dev"))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server URL, once it is known to answer."""
    url = postgres_server_url()
    reason = postgres_unreachable_reason(url)
    if reason is not None:
        if running_in_ci():
            pytest.fail(f"PostgreSQL at {url} unreachable: {reason}; CI requires it")
        pytest.skip(f"PostgreSQL at {url} unreachable: {reason} (set KPI_TEST_POSTGRES)")
    return url


@pytest.fixture
def pg_env(postgres_server: str) -> Iterator[dict[str, str]]:
    """Env for `Ledger(env=...)` on a fresh PostgreSQL database, dropped afterwards."""
    with postgres_database(postgres_server) as url:
        yield postgres_env(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Env for `Ledger(env=...)` on a fresh database of each backend."""
    if request.param == "sqlite":
        return sqlite_env(tmp_path)
    env: dict[str, str] = request.getfixturevalue("pg_env")
    return env
