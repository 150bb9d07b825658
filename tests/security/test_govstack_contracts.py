"""Consent and registries answer as the GovStack building blocks' own OpenAPI documents say:
schemathesis generates requests from those documents (for every operation the service also
serves) and checks each answer against the document's response schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.consent.seed import POLICY_ID, SCHOOL_ENROLMENT_ID
from tests.conftest import scratch_database
from tests.security import contracts_support as support
from tests.security.contracts_services import SERVICES
from tests.security.contracts_support import Finding

# ../shared beside the repository (as CI lays it); a worktree elsewhere may point at it
SHARED = Path(
    os.environ.get("DPI_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
)
GOVSTACK = SHARED / "contracts" / "govstack"
CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 6
PEOPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "primaryKey": True, "personalId": True},
        "firstName": {"type": "string", "minLength": 1},
        "lastName": {"type": "string"},
    },
    "required": ["firstName", "lastName"],
}


def govstack_document(name: str) -> dict[str, Any]:
    path = GOVSTACK / name
    if not path.exists():
        pytest.skip(
            f"GovStack contracts absent (../shared beside the repo, or DPI_SHARED_DIR): {path}"
        )
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    _nullable(loaded)
    return loaded


def _nullable(node: Any) -> None:
    """The documents' Swagger-2 style `x-nullable: true` read as OpenAPI 3's `nullable`."""
    if isinstance(node, dict):
        if node.get("x-nullable") is True:
            node["nullable"] = True
        for value in node.values():
            _nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable(value)


@pytest.fixture
def app_for(tmp_path: Path) -> Iterator[Any]:
    with scratch_database("govstack", tmp_path / "service.db") as url:

        def build(name: str) -> FastAPI:
            return SERVICES[name].build(url, tmp_path / "data")

        try:
            yield build
        finally:
            support.stop_all()


def check(app: FastAPI, document: dict[str, Any], **options: Any) -> list[Finding]:
    """Fuzz `document`'s operations that `app` serves too, against `app`."""
    served = support.labels(support.load(app).raw_schema)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    return support.fuzz(
        schema,
        base_url=f"http://{asgi.HOST}",
        checks=CHECKS,
        max_examples=EXAMPLES,
        only=served & support.labels(document),
        **options,
    )


def seed_consent(app: Any) -> dict[str, str]:
    """A person with a consent record: the ids the fuzzer's reads then find."""
    org = SERVICES["consent"].credentials
    with asgi.get_client(app) as client:
        person = client.post(
            "/service/individual/",
            json={"individual": {"externalId": "contracts-person"}},
            headers=org,
        ).json()["individual"]
        record = client.post(
            f"/service/individual/record/data-agreement/{SCHOOL_ENROLMENT_ID}/",
            headers={**org, "X-ConsentBB-IndividualId": person["id"]},
        )
        assert record.status_code == 200, record.text
        body = record.json()
    return {
        "individualId": person["id"],
        "dataAgreementId": SCHOOL_ENROLMENT_ID,
        "policyId": POLICY_ID,
        "consentRecordId": body["consentRecord"]["id"],
        "revisionId": body["revision"]["id"],
    }


def seed_registries(app: Any) -> dict[str, str]:
    headers = SERVICES["registries"].credentials
    body = {"code": "PPL", "name": "people", "version": "1.0", "group_name": "Test"}
    with asgi.get_client(app) as client:
        created = client.post(
            "/database/modify", json={**body, "schema": PEOPLE_SCHEMA}, headers=headers
        )
        assert created.status_code == 200, created.text
        for n in range(3):
            record = {"id": f"P{n}", "firstName": f"Person{n}", "lastName": "Doe"}
            response = client.post(
                "/data/people/1.0/create", json={"write": {"content": record}}, headers=headers
            )
            assert response.status_code == 200, response.text
    return {"registryName": "people", "versionNumber": "1.0", "ID": "P0", "uuid": "P0"}


def test_consent_answers_as_the_govstack_consent_document(app_for):
    document = govstack_document("consent-openapi.yaml")
    app = app_for("consent")
    ids = seed_consent(app)
    headers = {**SERVICES["consent"].credentials, "X-ConsentBB-IndividualId": ids["individualId"]}
    found = check(app, document, headers=headers, path_parameters=ids)
    found = sorted(set(found), key=support.Finding.key)
    assert not found, "consent breaks the GovStack document:\n" + support.report(found)


def test_registries_answer_as_the_govstack_data_document(app_for):
    document = govstack_document("registries-data-openapi.yaml")
    app = app_for("registries")
    ids = seed_registries(app)
    found = check(app, document, headers=SERVICES["registries"].credentials, path_parameters=ids)
    found = sorted(set(found), key=support.Finding.key)
    assert not found, "registries break the GovStack document:\n" + support.report(found)
