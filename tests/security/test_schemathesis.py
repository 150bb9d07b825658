"""Every service answers as its own OpenAPI document says: schemathesis fuzzes each operation
in-process (derandomized, bounded), with the sandbox's credentials and without any, and checks
for server errors, undocumented statuses and content types, and responses off their schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from schemathesis import GenerationMode

from tests.conftest import scratch_database
from tests.security import contracts_support as support
from tests.security.contracts_services import SERVICES

POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# cases per operation: valid requests with credentials, invalid ones, and valid ones without
# credentials (these mostly meet the auth check, so one each is enough)
POSITIVE_EXAMPLES = 6
NEGATIVE_EXAMPLES = 3
ANONYMOUS_EXAMPLES = 1


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
    credentials = SERVICES[name].credentials
    findings = support.fuzz(
        schema, headers=credentials, max_examples=POSITIVE_EXAMPLES, modes=[POSITIVE]
    )
    findings += support.fuzz(
        schema, headers=credentials, max_examples=NEGATIVE_EXAMPLES, modes=[NEGATIVE]
    )
    findings += support.fuzz(schema, max_examples=ANONYMOUS_EXAMPLES, modes=[POSITIVE])
    broken = sorted(set(findings), key=support.Finding.key)
    assert not broken, f"{name} breaks its OpenAPI contract:\n{support.report(broken)}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_path_parameter_and_kernel_error_is_declared(name: str, tmp_path: Path):
    """Also what fuzzing cannot see: a parameter only in the path template (pub/sub rooms)."""
    document = SERVICES[name].build(f"sqlite:///{tmp_path}/unused.db", tmp_path).openapi()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert set(re.findall(r"{([^}:]+)", path)) <= declared, (method, path)
            assert {"400", "401", "403", "413"} <= set(operation["responses"]), (method, path)
