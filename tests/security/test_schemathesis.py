"""Every service answers as its own OpenAPI document says: schemathesis fuzzes each operation
in-process (derandomized, bounded), with the sandbox's credentials and without any, and checks
for server errors, undocumented statuses and content types, and responses off their schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from schemathesis import GenerationMode

from tests.conftest import scratch_database
from tests.security import contracts_support as support
from tests.security.contracts_services import SERVICES

AUTHENTICATED_EXAMPLES = 8
ANONYMOUS_EXAMPLES = 3


@pytest.fixture
def service_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    wiring = SERVICES[request.param]
    with scratch_database(f"contracts_{wiring.name}", tmp_path / "service.db") as url:
        try:
            yield wiring.build(url, tmp_path / "data")
        finally:
            support.stop_all()


@pytest.mark.parametrize("service_app", sorted(SERVICES), indirect=True)
def test_service_keeps_its_openapi_contract(service_app: FastAPI, request: pytest.FixtureRequest):
    name = request.node.callspec.params["service_app"]
    schema = support.load(service_app)
    findings = support.fuzz(
        schema, headers=SERVICES[name].credentials, max_examples=AUTHENTICATED_EXAMPLES
    )
    findings += support.fuzz(
        schema, max_examples=ANONYMOUS_EXAMPLES, modes=(GenerationMode.POSITIVE,)
    )
    broken = support.without_hardening_todo(findings)
    assert not broken, f"{name} breaks its OpenAPI contract:\n{support.report(broken)}"
