"""The five services, each on its own fresh database, with a valid credential for each."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from starlette.types import ASGIApp, Message

from bench.common import free_port, start_uvicorn, stop
from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.id_registry.main import create_app as id_registry_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.main import create_app as interop_app
from services.interop_layer.settings import InteropSettings
from services.kernel.testing import serve_in_process
from services.registries.main import create_app as registries_app
from services.registries.settings import SANDBOX_API_KEY, RegistriesSettings
from services.sectoral_platform.main import create_app as sectoral_app
from services.sectoral_platform.settings import SectoralSettings
from tests.conftest import scratch_database
from tests.interop_layer.conftest import PEOPLE, catalogue
from tests.interop_layer.support import (
    ADMIN,
    EDUCATION,
    HEALTH,
    REGISTRIES,
    FakeDecider,
    FakeExchanger,
    client_headers,
    provider_app,
    serve,
)

SERVICES = ("consent", "id_registry", "interop_layer", "registries", "sectoral_platform")
ORG_KEY = "security-test-org-key"
BASIC = "Basic " + base64.b64encode(b"admin:district").decode()


@dataclass
class Service:
    """A running service: its app, an in-process client, and headers that authenticate."""

    name: str
    app: FastAPI
    client: httpx.AsyncClient
    auth: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def error_shape(name: str, path: str, body: dict[str, Any]) -> bool:
    """Whether `body` is in the documented error shape of service `name` at `path`."""
    if name == "registries" and path.startswith(("/data/", "/database/")):
        return set(body) <= {"detail", "errors"} and isinstance(body.get("detail"), str)
    if name == "registries" and path.startswith("/fhir"):
        return body.get("resourceType") == "OperationOutcome"
    if name == "sectoral_platform":
        return body.get("status") == "ERROR" and "httpStatusCode" in body
    if name == "interop_layer":
        return {"type", "message"} <= set(body)
    if name == "id_registry":
        return body.get("response") is None and bool(body.get("errors"))
    return {"type", "title", "status", "detail"} <= set(body)


def _settings(name: str, url: str, data: Path, extra: dict[str, Any]) -> Any:
    common: dict[str, Any] = {
        "service": name,
        "database_url": url,
        "data_dir": data,
        "log_format": "text",
    }
    if name == "consent":
        return ConsentSettings(**common, org_api_key=ORG_KEY, webhook_interval=3600)
    if name == "id_registry":
        return IdRegistrySettings(**common, seed_population=8, publish_events=False)
    if name == "registries":
        return RegistriesSettings(**common, outbox_enabled=False)
    if name == "sectoral_platform":
        return SectoralSettings(
            **common,
            facility_sync_on_start=False,
            subscribe_civil_events=False,
            drain_interval_seconds=0,
            aggregation_interval_seconds=0,
        )
    path = data / "catalogue.yaml"
    data.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(catalogue(extra["provider_url"])))
    return InteropSettings(
        **common,
        catalogue_path=path,
        provider_read_timeout=5.0,
        max_forward_body_bytes=extra.get("max_forward_body_bytes", 32 * 1024 * 1024),
    )


def build_app(name: str, settings: Any) -> FastAPI:
    if name == "consent":
        return consent_app(settings)
    if name == "id_registry":
        return id_registry_app(settings, run_drainer=False, configure_logs=False)
    if name == "registries":
        return registries_app(settings)
    if name == "sectoral_platform":
        return sectoral_app(settings)
    exchanger = FakeExchanger(PEOPLE, inactive={"ben"})
    decider = FakeDecider({("cons-amina", EDUCATION, "school-enrolment")})
    return interop_app(settings, token_exchanger=exchanger, decision_client=decider)


AUTH: dict[str, dict[str, str]] = {
    "consent": {"Authorization": f"ApiKey {ORG_KEY}"},
    "id_registry": dict(ADMIN),
    "interop_layer": client_headers(HEALTH),
    "registries": {"Authorization": SANDBOX_API_KEY, "Information-Mediator-Client": REGISTRIES},
    "sectoral_platform": {"Authorization": BASIC},
}


@contextlib.contextmanager
def provider() -> Iterator[str]:
    with serve(provider_app()) as url:
        yield url


@contextlib.asynccontextmanager
async def running(name: str, tmp: Path, **extra: Any) -> AsyncIterator[Service]:
    """Start service `name` on a scratch database (SQLite, or PostgreSQL under DPI_TEST_DB)."""
    with scratch_database(f"sec_{name}", tmp / f"{name}.db") as url:
        app = build_app(name, _settings(name, url, tmp / f"{name}-data", extra))
        async with serve_in_process(app) as client:
            yield Service(name, app, client, dict(AUTH[name]), extra)


@dataclass
class RawAnswer:
    """What a direct ASGI call produced, and how much of the request body the app pulled."""

    status: int
    body: bytes
    chunks_read: int

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_call(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    chunks: list[bytes],
    content_length: int | None = None,
) -> RawAnswer:
    """Call `app` over ASGI with `chunks` as the body; `content_length` None means chunked."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_length is None:
        raw_headers.append((b"transfer-encoding", b"chunked"))
    else:
        raw_headers.append((b"content-length", str(content_length).encode()))
    path_part, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_part,
        "raw_path": path_part.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    pulled = 0
    status = 0
    parts: list[bytes] = []

    async def receive() -> Message:
        nonlocal pulled
        if pulled >= len(chunks):
            return {"type": "http.disconnect"}
        pulled += 1
        return {
            "type": "http.request",
            "body": chunks[pulled - 1],
            "more_body": pulled < len(chunks),
        }

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    return RawAnswer(status, b"".join(parts), pulled)


SUBPROCESS_ENV: dict[str, dict[str, str]] = {
    "registries": {"DPI_REGISTRIES_OUTBOX_ENABLED": "false"},
    "sectoral_platform": {
        "DPI_SECTORAL_PLATFORM_FACILITY_SYNC_ON_START": "false",
        "DPI_SECTORAL_PLATFORM_SUBSCRIBE_CIVIL_EVENTS": "false",
        "DPI_SECTORAL_PLATFORM_DRAIN_INTERVAL_SECONDS": "0",
        "DPI_SECTORAL_PLATFORM_AGGREGATION_INTERVAL_SECONDS": "0",
    },
}


@dataclass
class Process:
    """A service in its own uvicorn process: a stall there cannot freeze the test itself."""

    url: str
    pid: int

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


@contextlib.contextmanager
def in_subprocess(name: str, tmp: Path) -> Iterator[Process]:
    """Service `name` under uvicorn on a loopback port, on a scratch database."""
    with scratch_database(f"sec_{name}_proc", tmp / f"{name}-proc.db") as url:
        env = {
            f"DPI_{name.upper()}_DATABASE_URL": url,
            "DPI_DATA_DIR": str(tmp / f"{name}-proc-data"),
            "DPI_LOG_FORMAT": "text",
            **SUBPROCESS_ENV.get(name, {}),
        }
        port = free_port()
        log = tmp / f"{name}-proc.log"
        process = start_uvicorn(f"services.{name}.main:app", port, env, log=log)
        try:
            yield Process(f"http://127.0.0.1:{port}", process.pid)
        finally:
            stop(process)
