"""schemathesis against the running server's /openapi.json: generated requests to every API
operation (at least 500 in all, on SQLite and on PostgreSQL), answered without a 5xx and as
the document says (status, content type, body schema).

Integer extremes are on: every integer parameter draws from 0, -1, 2**31 and 2**63 (either
side), 10**30 half the time; the in-range ones in valid requests, the others in a few invalid
(negative) requests per operation, which must be refused without a 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from custos.server.rbac import Binding, Role
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import seed

EXAMPLES = 14  # per operation; about 45 operations
CHECKS = (not_a_server_error, response_schema_conformance, content_type_conformance)
EXTREMES = [0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]
BEYOND = {str(v) for v in (-1, 2**31, 2**63 - 1, 2**63, 10**30)}  # past every id's range
CONFIG = {
    "dictionaries": {"integer-extremes": {"values": EXTREMES}},
    "generation": {
        "dictionaries": {"integer": {"dictionary": "integer-extremes", "probability": 0.5}}
    },
}


def test_generated_requests_get_documented_answers(server: Running) -> None:
    seed(server.store)
    admin = bearer(server, "admin", Binding(Role.admin))
    auth = {"Authorization": admin.headers["Authorization"]}
    schema = schemathesis.openapi.from_url(
        f"{server.url}/openapi.json", config=SchemathesisConfig.from_dict(CONFIG)
    )
    schema.config.base_url = server.url
    calls: list[str] = []
    extremes: list[str] = []  # integer parameters sent beyond their range
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(  # valid and invalid requests, about half each
            case=st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            )
        )
        def call(case: Any) -> None:
            response = case.call(headers=auth, timeout=60)
            case.validate_response(response, checks=CHECKS)
            calls.append(f"{case.method} {case.path}")
            sent = {**(case.path_parameters or {}), **(case.query or {})}
            extremes.extend(str(v) for v in sent.values() if str(v) in BEYOND)

        call()
    print(f"schemathesis: {len(calls)} generated requests")
    assert len(calls) >= 500, len(calls)
    assert len({c for c in calls}) >= 40
    assert len(set(extremes)) >= 3, extremes  # the extremes were sent, and answered
