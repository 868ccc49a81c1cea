"""DATABASE_URL and friends map onto the library's variables; the stored format is pinned."""

from __future__ import annotations

import pytest

from domain.persistence import MAPPER_TOPIC, ledger_env, revoke_statements


def test_postgres_url_maps_every_part() -> None:
    env = ledger_env({"DATABASE_URL": "postgresql://kpi%40app:s%3Acret@db.local:6543/ledger_hn"})
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert env["POSTGRES_DBNAME"] == "ledger_hn"
    assert env["POSTGRES_HOST"] == "db.local"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "kpi@app"
    assert env["POSTGRES_PASSWORD"] == "s:cret"
    assert env["MAPPER_TOPIC"] == MAPPER_TOPIC
    assert env["CREATE_TABLE"] == "y"


def test_postgres_url_without_password_or_port() -> None:
    env = ledger_env({"DATABASE_URL": "postgres://postgres@127.0.0.1/kpi"})
    assert env["POSTGRES_PASSWORD"] == ""  # the library requires the key to exist
    assert env["POSTGRES_PORT"] == "5432"


def test_database_url_wins_over_library_variables() -> None:
    env = ledger_env(
        {
            "DATABASE_URL": "sqlite:////var/lib/kpi/ledger.sqlite3",
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "MAPPER_TOPIC": "eventsourcing.persistence:Mapper",
        }
    )
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == "/var/lib/kpi/ledger.sqlite3"
    assert env["MAPPER_TOPIC"] == MAPPER_TOPIC


def test_relative_sqlite_url() -> None:
    assert ledger_env({"DATABASE_URL": "sqlite:///data/l.sqlite3"})["SQLITE_DBNAME"] == (
        "data/l.sqlite3"
    )


def test_library_variables_pass_through() -> None:
    given = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "x",
        "POSTGRES_HOST": "h",
        "POSTGRES_USER": "u",
        "POSTGRES_PASSWORD": "p",
        "POSTGRES_POOL_SIZE": "9",
        "HOME": "/root",
    }
    env = ledger_env(given)
    library = {k: v for k, v in given.items() if k != "HOME"}
    assert {k: env[k] for k in library} == library
    assert "HOME" not in env
    assert env["MAPPER_TOPIC"] == MAPPER_TOPIC


def test_default_is_an_embedded_sqlite_file() -> None:
    assert ledger_env({})["SQLITE_DBNAME"] == "./kpi-ledger.sqlite3"
    assert ledger_env({})["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert ledger_env({"KPI_LEDGER_DB": "/tmp/k.sqlite3"})["SQLITE_DBNAME"] == "/tmp/k.sqlite3"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/kpi",
        "sqlite://relative.db",
        "sqlite:///",
        "postgresql://u@h/db?sslmode=require",
        "postgresql://h/db",
        "postgresql://u@h:port/db",
        "postgresql://u@h:5432/",
        "ledger.sqlite3",
    ],
)
def test_bad_database_url_is_refused_by_name(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        ledger_env({"DATABASE_URL": url})


def test_revoke_statements_quote_names() -> None:
    assert revoke_statements("public.ledger_events", "kpi_app") == [
        'REVOKE UPDATE, DELETE, TRUNCATE ON TABLE "public"."ledger_events" FROM "kpi_app";'
    ]
