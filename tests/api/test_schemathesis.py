"""schemathesis drives every route from the OpenAPI schema with generated input, valid and not
(NUL characters, huge numbers, wrong types, missing fields), as an administrator of the whole
ledger so requests get past authentication into the Ledger: no answer may be a 5xx, carry an
undocumented status, or break its documented schema.

SQLite only and a few examples per route: this guards the HTTP layer's contract; the storage
behaviour of each route is tested on both backends in the other API tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from domain.ledger import Ledger
from tests.api.conftest import TODAY
from tests.backends import sqlite_env
from tests.commune import build_commune

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HEADERS: dict[str, str] = {}
# Per route and mode: ~10 per route, ~350 requests. Raise it for a deeper hunt (it found the 400).
EXAMPLES = int(os.environ.get("KPI_SCHEMATHESIS_EXAMPLES", "5"))


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from api.auth import hash_token, new_token
    from domain.access import AccessRole

    ledger = Ledger(env=sqlite_env(tmp_path_factory.mktemp("schemathesis")))
    commune = build_commune(ledger)
    token = new_token()
    ledger.grant_access(commune.admin, token_hash=hash_token(token), official_id=commune.admin.official_id,
                        roles=[AccessRole.ADMIN], unit_id=None)
    HEADERS["Authorization"] = f"Bearer {token}"
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ledger, today=lambda: TODAY))
    schema.config.generation.update(with_security_parameters=False)
    yield schema
    ledger.close()


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(api_schema: Any) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
                      phases=[Phase.generate])
            def drive(case: Any) -> None:
                case.call_and_validate(headers=HEADERS, checks=CHECKS)

            try:
                drive()
            except Unsatisfiable:  # nothing to get wrong: a route without parameters (GET /access/me)
                continue
            except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collect every failure, report all
                failures.append(f"{operation.label} ({mode.value}): {e}")
    assert not failures, "\n\n".join(failures)
