"""Fixtures for the ID system: an app on a fresh database with an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine

from services.id_registry.base import Base
from services.id_registry.main import create_app
from services.id_registry.settings import DEFAULT_MISP_LICENSE_KEY, IdRegistrySettings
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES, scratch_database

ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}
MISP = DEFAULT_MISP_LICENSE_KEY


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def shared_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """On PostgreSQL, one database for these tests, emptied before each app: creating and
    dropping a database per test costs seconds there."""
    if not USE_POSTGRES:
        yield None
        return
    with scratch_database("id_registry", tmp_path_factory.mktemp("id") / "id.db") as url:
        yield url


_schema_ready: set[str] = set()


def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        if url not in _schema_ready:
            Base.metadata.create_all(engine)
            _schema_ready.add(url)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
    finally:
        engine.dispose()


@pytest.fixture
def make_app(settings_for, clock, shared_postgres, tmp_path) -> Callable[..., FastAPI]:
    """A fresh app on an empty database (each call empties it again)."""

    def make(**overrides: Any) -> FastAPI:
        options = {"seed_population": 8, "publish_events": True, **overrides}
        publisher = options.pop("publisher", None)
        run_drainer = options.pop("run_drainer", False)
        if shared_postgres is None:
            settings = settings_for("id_registry", IdRegistrySettings, **options)
        else:
            _empty(shared_postgres)
            settings = IdRegistrySettings(
                service="id_registry",
                database_url=shared_postgres,
                data_dir=tmp_path / "data",
                log_format="text",
                **options,
            )
        return create_app(
            settings,
            clock=clock,
            publisher=publisher,
            run_drainer=run_drainer,
            configure_logs=False,
        )

    return make


@pytest.fixture
async def client(make_app) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(make_app()) as http:
        yield http


def ida_path(kind: str, partner: str = "moh-hmis", key: str | None = None) -> str:
    return f"/idauthentication/v1/{kind}/{MISP}/{partner}/{key or partner + '-sandbox-key'}"


def envelope(
    individual_id: str,
    *,
    kind: str = "auth",
    id_type: str = "UIN",
    txn: str = "1234567890",
    otp: str | None = None,
    demographics: dict[str, Any] | None = None,
    consent: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"mosip.identity.{kind}",
        "version": "1.0",
        "requestTime": "2026-03-01T09:00:00.000Z",
        "transactionID": txn,
        "individualId": individual_id,
        "individualIdType": id_type,
    }
    if kind == "otp":
        body["otpChannel"] = ["PHONE", "EMAIL"]
    else:
        body["consentObtained"] = consent
        request: dict[str, Any] = {"timestamp": "2026-03-01T09:00:00.000Z"}
        if otp is not None:
            request["otp"] = otp
        if demographics is not None:
            request["demographics"] = demographics
        body["request"] = request
    body.update(extra)
    return body


async def people(client: httpx.AsyncClient, limit: int = 8) -> list[dict[str, Any]]:
    response = await client.get("/v1/identities", params={"limit": limit}, headers=ADMIN)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def demo_of(person: dict[str, Any]) -> dict[str, Any]:
    """The demographics block that matches a person as the admin API shows them."""
    identity = person["identity"]
    return {"name": identity["fullName"], "dob": identity["dateOfBirth"]}


async def auth(client: httpx.AsyncClient, body: dict[str, Any], **path: Any) -> dict[str, Any]:
    kind = body["id"].rsplit(".", 1)[1]
    response = await client.post(ida_path(kind, **path), json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def send_otp(
    client: httpx.AsyncClient,
    individual_id: str,
    *,
    id_type: str = "UIN",
    txn: str = "1234567890",
    partner: str = "moh-hmis",
) -> str:
    """Request an OTP and read it back from the admin outbox."""
    result = await auth(
        client, envelope(individual_id, kind="otp", id_type=id_type, txn=txn), partner=partner
    )
    assert result["errors"] is None, result
    outbox = await client.get(
        "/v1/mock/otp-outbox", params={"individualId": individual_id, "limit": 1}, headers=ADMIN
    )
    return outbox.json()[0]["otp"]  # type: ignore[no-any-return]


def codes(result: dict[str, Any]) -> list[str]:
    return [item["errorCode"] for item in result["errors"] or []]
