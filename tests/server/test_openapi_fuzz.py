"""schemathesis against the running server's /openapi.json: generated requests to every API
operation (at least 500 in all, on SQLite and on PostgreSQL), answered without a 5xx and as
the document says (status, content type, body schema)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from custos.server.rbac import Binding, Role
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import seed

EXAMPLES = 14  # per operation; about 45 operations
CHECKS = (not_a_server_error, response_schema_conformance, content_type_conformance)


def test_generated_requests_get_documented_answers(server: Running) -> None:
    seed(server.store)
    admin = bearer(server, "admin", Binding(Role.admin))
    auth = {"Authorization": admin.headers["Authorization"]}
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    schema.config.base_url = server.url
    calls: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            response = case.call(headers=auth, timeout=60)
            case.validate_response(response, checks=CHECKS)
            calls.append(f"{case.method} {case.path}")

        call()
    print(f"schemathesis: {len(calls)} generated requests")
    assert len(calls) >= 500, len(calls)
    assert len({c for c in calls}) >= 40
