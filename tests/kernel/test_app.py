"""The kernel's app: probes, error shape, trace propagation between two in-process apps."""

import gc
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from services.kernel.app import GC_YOUNG_THRESHOLD, create_service_app
from services.kernel.errors import Conflict, NotFound
from services.kernel.http import make_client
from services.kernel.testing import serve_in_process
from services.kernel.tracing import parse_traceparent

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class Item(BaseModel):
    name: str
    count: int


def build(settings_for, service: str, router: APIRouter) -> FastAPI:
    return create_service_app(
        settings=settings_for(service), routers=[router], configure_logs=False
    )


def failing_router() -> APIRouter:
    router = APIRouter()

    @router.get("/things/{name}")
    async def get_thing(name: str) -> dict[str, str]:
        raise NotFound(f"No thing named {name!r}", code="thing-not-found")

    @router.post("/things")
    async def post_thing(item: Item) -> dict[str, str]:
        raise Conflict(f"{item.name} exists")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return router


async def test_serving_freezes_the_start_up_heap_and_restores_gc_after(settings_for):
    before = gc.get_threshold()
    app = build(settings_for, "consent", APIRouter())
    async with serve_in_process(app) as client:
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
        assert (await client.get("/healthz")).status_code == 200
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_probes_and_info(settings_for):
    app = build(settings_for, "consent", APIRouter())
    async with serve_in_process(app) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok", "service": "consent"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        info = (await client.get("/info")).json()
        assert info["memberId"] == "DPI/GOV/DPA/consent"
        assert "Consent" in info["models"]
        assert (await client.get("/openapi.json")).status_code == 200


async def test_domain_errors_render_as_problem_details(settings_for):
    app = build(settings_for, "consent", failing_router())
    async with serve_in_process(app) as client:
        response = await client.get("/things/x")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 404 and body["code"] == "thing-not-found"
        assert body["detail"] == "No thing named 'x'" and body["instance"] == "/things/x"

        conflict = await client.post("/things", json={"name": "a", "count": 1})
        assert conflict.status_code == 409 and conflict.json()["title"] == "Conflict"

        unknown_route = await client.get("/nowhere")
        assert unknown_route.status_code == 404
        assert unknown_route.headers["content-type"] == "application/problem+json"


async def test_validation_errors_name_the_field_and_leak_nothing(settings_for):
    app = build(settings_for, "consent", failing_router())
    async with serve_in_process(app) as client:
        response = await client.post("/things", json={"name": "a", "count": "many"})
        assert response.status_code == 422
        body = response.json()
        assert body["errors"][0]["loc"] == ["body", "count"]
        assert "count" in body["detail"]
        assert "Traceback" not in response.text

        bad_json = await client.post(
            "/things", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert bad_json.status_code == 422 and "Traceback" not in bad_json.text


async def test_unexpected_errors_are_500_without_internals(settings_for):
    app = build(settings_for, "consent", failing_router())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        response = await client.get("/boom")
        assert response.status_code == 500
        assert "secret internals" not in response.text
        assert response.json()["code"] == "internal-error"


async def test_traceparent_is_carried_across_two_services(settings_for):
    seen: dict[str, Any] = {}
    downstream = APIRouter()

    @downstream.get("/echo")
    async def echo(request: Request) -> dict[str, str | None]:
        seen["header"] = request.headers.get("traceparent")
        return {"ok": "yes"}

    provider = build(settings_for, "registries", downstream)
    upstream = APIRouter()

    @upstream.get("/call")
    async def call() -> dict[str, Any]:
        async with make_client(
            "http://registries", transport=httpx.ASGITransport(app=provider)
        ) as client:
            return (await client.get("/echo")).json()  # type: ignore[no-any-return]

    consumer = build(settings_for, "consent", upstream)
    async with serve_in_process(provider), serve_in_process(consumer) as client:
        response = await client.get("/call", headers={"traceparent": INCOMING})
        assert response.status_code == 200
        outgoing = parse_traceparent(seen["header"])
        assert outgoing is not None and outgoing.trace_id == TRACE_ID
        assert outgoing.span_id != "00f067aa0ba902b7"
        answered = parse_traceparent(response.headers["traceparent"])
        assert answered is not None and answered.trace_id == TRACE_ID

        fresh = await client.get("/call")
        started = parse_traceparent(fresh.headers["traceparent"])
        assert started is not None and started.trace_id != TRACE_ID
        assert parse_traceparent(seen["header"]).trace_id == started.trace_id  # type: ignore[union-attr]


async def test_malformed_traceparent_starts_a_new_trace(settings_for):
    app = build(settings_for, "consent", APIRouter())
    async with serve_in_process(app) as client:
        response = await client.get("/healthz", headers={"traceparent": "00-zz-bad-01"})
        context = parse_traceparent(response.headers["traceparent"])
        assert context is not None and len(context.trace_id) == 32


async def test_readyz_is_503_when_the_database_is_unreachable(settings_for):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_service_app(
        settings=settings_for("consent", database_url=unreachable), configure_logs=False
    )
    async with serve_in_process(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["database"]
