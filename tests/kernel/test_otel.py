"""Spans reach an OTLP/HTTP collector through the OpenTelemetry SDK, with the sandbox's trace ids;
with export off, nothing of it runs."""

from __future__ import annotations

import gzip
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sqlalchemy import text

from services.kernel import otel
from services.kernel.app import create_service_app
from services.kernel.db import SessionDep
from services.kernel.http import make_client, make_sync_client
from services.kernel.testing import serve_in_process, serve_on_loopback

pytestmark = pytest.mark.anyio
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SERVER, CLIENT = 2, 3  # OTLP's span kinds
LICENCE, API_KEY = "misp-licence-key-0001", "moh-hmis-secret-api-key"


def collector(received: list[dict[str, Any]]) -> FastAPI:
    """A tiny OTLP/HTTP receiver (protobuf, as the SDK's exporter sends)."""
    app = FastAPI()

    @app.post("/v1/traces")
    async def traces(request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    received.append(
                        {
                            "service": attributes.get("service.name"),
                            "name": span.name,
                            "kind": span.kind,
                            "traceId": span.trace_id.hex(),
                            "spanId": span.span_id.hex(),
                            "parentSpanId": span.parent_span_id.hex(),
                            "attributes": {a.key: str(a.value) for a in span.attributes},
                        }
                    )
        return Response(ExportTraceServiceRequest().SerializeToString())

    return app


def wait_for(received: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)


async def test_server_client_and_database_spans_share_the_trace(settings_for, monkeypatch):
    received: list[dict[str, Any]] = []
    downstream = APIRouter()

    @downstream.get("/echo")
    async def echo() -> dict[str, str]:
        return {"ok": "yes"}

    provider = create_service_app(
        settings=settings_for("registries"), routers=[downstream], configure_logs=False
    )
    upstream = APIRouter()

    @upstream.get("/call/{item}")
    async def call(item: str, session: SessionDep) -> dict[str, Any]:
        session.connection().execute(text("SELECT 1"))
        transport = httpx.ASGITransport(app=provider)
        async with make_client("http://registries", transport=transport) as client:
            return (await client.get("/echo")).json()  # type: ignore[no-any-return]

    consumer = create_service_app(
        settings=settings_for("consent"), routers=[upstream], configure_logs=False
    )
    with serve_on_loopback(collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        async with serve_in_process(consumer) as client:
            assert otel.exporter() is not None
            headers = {"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
            response = await client.get("/call/x", headers=headers)
            assert response.status_code == 200
        wait_for(received, 4)
    assert {s["traceId"] for s in received} == {TRACE_ID}
    assert {s["service"] for s in received} == {"consent"}
    server = next(s for s in received if s["kind"] == SERVER and s["name"] == "GET /call/{item}")
    client_span = next(s for s in received if s["kind"] == CLIENT and s["name"] == "GET")
    provider_span = next(s for s in received if s["name"] == "GET /echo")
    database = next(s for s in received if "db.statement" in s["attributes"])
    assert server["parentSpanId"] == "b7ad6b7169203331"
    assert response.headers["traceparent"] == f"00-{TRACE_ID}-{server['spanId']}-01"
    assert client_span["parentSpanId"] == server["spanId"]
    assert provider_span["parentSpanId"] == client_span["spanId"]
    assert database["parentSpanId"] == server["spanId"]
    assert "SELECT 1" in database["attributes"]["db.statement"]
    assert otel.exporter() is None


async def test_exported_spans_show_no_key(settings_for, monkeypatch):
    received: list[dict[str, Any]] = []
    router = APIRouter()

    @router.post("/idauthentication/v1/auth/{licence}/{partner}/{key}")
    async def auth(licence: str, partner: str, key: str) -> dict[str, str]:
        return {"partner": partner}

    app = create_service_app(
        settings=settings_for("id_registry"), routers=[router], configure_logs=False
    )
    path = f"/idauthentication/v1/auth/{LICENCE}/moh-hmis/{API_KEY}"
    with serve_on_loopback(collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        async with serve_in_process(app) as client:
            assert (await client.post(path)).status_code == 200
            transport = httpx.ASGITransport(app=app)
            async with make_client("http://id-registry", transport=transport) as caller:
                assert (await caller.post(path)).status_code == 200
            answer = httpx.MockTransport(lambda request: httpx.Response(200))
            with make_sync_client("http://id-registry", transport=answer) as sync_caller:
                assert sync_caller.post(path).status_code == 200
        wait_for(received, 4)
    assert len([s for s in received if s["kind"] == CLIENT]) == 2
    for span in received:
        assert API_KEY not in str(span) and LICENCE not in str(span)


async def test_no_exporter_and_no_thread_without_the_environment(settings_for, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    app = create_service_app(settings=settings_for("consent"), configure_logs=False)
    async with serve_in_process(app) as client:
        response = await client.get(
            "/healthz", headers={"traceparent": f"00-{TRACE_ID}-{'1' * 16}-01"}
        )
        assert response.status_code == 200
        assert response.headers["traceparent"].startswith(f"00-{TRACE_ID}-")
        assert otel.exporter() is None
        assert not [t for t in threading.enumerate() if "otel" in t.name.lower()]
