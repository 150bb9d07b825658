"""Fixtures for the consent service: a running app, its credentials, a registered person."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.consent.main import create_app
from services.consent.seed import CASH_TRANSFER_ID, SCHOOL_ENROLMENT_ID
from services.consent.settings import ConsentSettings
from services.kernel.credentials import mediator_key
from services.kernel.testing import serve_in_process
from tests.conftest import scratch_database

ORG_KEY = "test-org-key"
ORG = {"Authorization": f"ApiKey {ORG_KEY}"}
MEDIATOR = {"X-DPI-Mediator-Key": mediator_key()}
EDUCATION = "DPI/GOV/MOE/emis"
HEALTH = "DPI/GOV/MOH/hmis"
SOCIAL = "DPI/GOV/MSP/spmis"
RECORD = "/service/individual/record"


@dataclass
class Consent:
    """A running consent service and helpers to act as organisation, person and mediator."""

    client: httpx.AsyncClient
    app: Any

    async def individual(self, token: str) -> dict[str, Any]:
        response = await self.client.post(
            "/service/individual/", json={"individual": {"externalId": token}}, headers=ORG
        )
        assert response.status_code == 200, response.text
        individual: dict[str, Any] = response.json()["individual"]
        return individual

    async def consent(
        self, token: str, agreement: str = SCHOOL_ENROLMENT_ID, **artefact: Any
    ) -> dict[str, Any]:
        body = {"consentArtefact": artefact} if artefact else None
        response = await self.client.post(
            f"{RECORD}/data-agreement/{agreement}/",
            headers={**ORG, "X-ConsentBB-IndividualId": token},
            json=body,
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def update(self, token: str, record_id: str, **fields: Any) -> httpx.Response:
        return await self.client.put(
            f"{RECORD}/consent-record/{record_id}/",
            headers={**ORG, "X-ConsentBB-IndividualId": token},
            json={"consentRecord": fields},
        )

    async def decide(self, token: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "subject": token,
            "dataConsumer": EDUCATION,
            "dataProvider": HEALTH,
            "purpose": "school-enrolment",
            "dataCategories": ["immunisation-status"],
            **overrides,
        }
        response = await self.client.post("/v1/decisions", json=body, headers=MEDIATOR)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def module_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fresh database per test module (creating one per test is slow on PostgreSQL);
    tests in a module use their own tokens and agreements, so they do not interfere."""
    with scratch_database("consent", tmp_path_factory.mktemp("consent-db") / "consent.db") as url:
        yield url


@pytest.fixture(scope="module")
def consent_settings(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> ConsentSettings:
    return ConsentSettings(
        database_url=module_database,
        data_dir=tmp_path_factory.mktemp("consent-data"),
        log_format="text",
        org_api_key=ORG_KEY,
        webhook_interval=3600,
    )


@pytest.fixture(scope="module")
async def consent(consent_settings: ConsentSettings) -> AsyncIterator[Consent]:
    app = create_app(consent_settings)
    async with serve_in_process(app) as client:
        yield Consent(client=client, app=app)


__all__ = ["CASH_TRANSFER_ID", "SCHOOL_ENROLMENT_ID"]
