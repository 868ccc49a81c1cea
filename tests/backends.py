"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

A fresh database per test (not shared tables) because event tables are immutable by design:
tests cannot clean up after themselves by deleting rows.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from domain.persistence import ledger_env

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def postgres_server_url() -> str:
    return os.environ.get("KPI_TEST_POSTGRES") or DEFAULT_SERVER


def postgres_unreachable_reason(server_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return str(e).strip() or type(e).__name__
    return None


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create `kpi_test_<hex>` on the server, yield its URL, then drop it (closing its sessions)."""
    name = f"kpi_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        parts = urlsplit(server_url)
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return ledger_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}"})


def postgres_env(database_url: str) -> dict[str, str]:
    return ledger_env({"DATABASE_URL": database_url})


def backend_of(env: dict[str, str]) -> str:
    return "postgres" if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres" else "sqlite"


def connect_direct(env: dict[str, str]) -> Any:
    """A plain DB-API connection to the env's database, outside the library (autocommit)."""
    if backend_of(env) == "postgres":
        return psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            autocommit=True,
        )
    return sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
