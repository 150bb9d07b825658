"""The short way in: a call without a body enters its span at the entrance; a call with a body,
or while the access log is written, goes through the kernel's tracing, access log and limits."""

from __future__ import annotations

import logging

import pytest

from services.interop_layer.auth import request_headers
from services.interop_layer.routing.entrance import passed_through
from services.kernel.logs import access_log
from services.kernel.tracing import parse_traceparent
from tests.interop_layer.support import HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

BASE = f"/r1/{REGISTRIES}/echo"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def scope_with(*headers: tuple[bytes, bytes]) -> dict[bytes, bytes]:
    """The request's headers as the entrance reads them (`request_headers`)."""
    return request_headers({"type": "http", "headers": [(b"host", b"mediator"), *headers]})


def test_only_bodiless_calls_pass_through_while_no_access_log_is_written() -> None:
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        assert passed_through(scope_with())
        assert not passed_through(scope_with((b"content-length", b"0")))
        assert not passed_through(scope_with((b"content-length", b"x")))  # the limits' 400
        assert not passed_through(scope_with((b"transfer-encoding", b"chunked")))
        access_log.setLevel(logging.INFO)
        assert not passed_through(scope_with())
    finally:
        access_log.setLevel(level)


async def test_a_bodiless_call_carries_its_trace_both_ways(shared_mediator) -> None:
    _, client = shared_mediator
    incoming = f"00-{TRACE}-{PARENT}-01"
    response = await client.get(
        f"{BASE}/x?q=1", headers=client_headers(HEALTH, traceparent=incoming)
    )
    assert response.status_code == 200, response.text
    answered = parse_traceparent(response.headers["traceparent"])
    forwarded = parse_traceparent(response.json()["headers"]["traceparent"])
    assert answered is not None and forwarded is not None
    assert answered.trace_id == forwarded.trace_id == TRACE
    # the mediator's span is a child of the caller's; the provider's call a child of it
    assert len({answered.span_id, forwarded.span_id, PARENT}) == 3
    assert response.headers["traceparent"].endswith("-01")
    assert list(response.headers).count("traceparent") == 1


async def test_a_bodiless_call_without_a_trace_starts_one(shared_mediator) -> None:
    _, client = shared_mediator
    response = await client.get(f"{BASE}/x", headers=client_headers(HEALTH))
    answered = parse_traceparent(response.headers["traceparent"])
    forwarded = parse_traceparent(response.json()["headers"]["traceparent"])
    assert answered is not None and forwarded is not None
    assert answered.trace_id == forwarded.trace_id
    assert answered.span_id != forwarded.span_id


async def test_the_access_log_still_gets_its_line(shared_mediator, caplog) -> None:
    _, client = shared_mediator
    with caplog.at_level(logging.INFO, logger="dpi.access"):
        response = await client.get(f"{BASE}/x?q=3", headers=client_headers(HEALTH))
    assert response.status_code == 200
    lines = [r for r in caplog.records if r.name == "dpi.access"]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", f"{BASE}/x", 200)]
    assert "traceparent" in response.headers
