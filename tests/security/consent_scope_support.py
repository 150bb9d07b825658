"""A mediator on loopback with the default catalogue, a fake health API behind it, raw requests."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.interop_layer.main import create_app
from services.interop_layer.settings import InteropSettings
from services.kernel.testing import serve_on_loopback
from tests.interop_layer.support import EDUCATION, FakeDecider, FakeExchanger, client_headers

HEALTH = "DPI/GOV/MOH/hmis"
STATUS_SERVICE = f"/r1/{HEALTH}/immunisation-status"
PEOPLE = {"amina": {"moe-emis": "edu-amina", "moh-hmis": "hmis-amina", "dpa-consent": "c-amina"}}


def health_api() -> FastAPI:
    """Answers every `/api/...` path (as the whole DHIS2 API would) and records what it got."""
    app = FastAPI()
    app.state.seen = []

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "HEAD"])
    async def anything(request: Request, rest: str) -> JSONResponse:
        seen = {
            "path": request.url.path,
            "rawPath": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "subject": request.headers.get("x-dpi-subject"),
        }
        app.state.seen.append(seen)
        return JSONResponse({"served": seen})

    return app


@dataclass
class Stack:
    mediator: str
    health: FastAPI
    decider: FakeDecider


@contextmanager
def consent_stack(settings_for: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The mediator (default catalogue and rights) in front of the fake health API; one
    child (amina) has consent for education's `school-enrolment` purpose."""
    health = health_api()
    decider = FakeDecider({("c-amina", EDUCATION, "school-enrolment")})
    with ExitStack() as stack:
        health_url = stack.enter_context(serve_on_loopback(health))
        monkeypatch.setenv("DPI_SECTORAL_PLATFORM_URL", health_url)
        settings = settings_for("interop_layer", cls=InteropSettings)
        app = create_app(settings, token_exchanger=FakeExchanger(PEOPLE), decision_client=decider)
        yield Stack(stack.enter_context(serve_on_loopback(app)), health, decider)


def about(subject: str, x_road_id: str, purpose: str = "school-enrolment") -> dict[str, str]:
    return client_headers(
        EDUCATION, **{"X-DPI-Subject": subject, "X-DPI-Purpose": purpose, "X-Road-Id": x_road_id}
    )


def raw_get(base_url: str, target: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A GET with the request target sent byte for byte (HTTP clients normalise `..` away)."""
    host, port = base_url.removeprefix("http://").split(":")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {"raw": body.decode("latin-1")}
    return status, parsed if isinstance(parsed, dict) else {"value": parsed}
