"""A database outage met before the request body was read (a route's dependency, or a service's
own middleware ahead of the kernel's error handlers): the client still sending a large body gets
the 503 in the service's error shape, not a connection reset, through a real uvicorn server."""

from __future__ import annotations

import json
import socket

import psycopg
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy.exc import OperationalError
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kernel.app import create_service_app
from services.kernel.testing import serve_on_loopback

CHUNK = b"x" * 65_536
CHUNKS = 96  # 6 MiB: far more than the socket buffers hold, so the client is still sending


def unreachable() -> OperationalError:
    return OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def outage() -> None:
    raise unreachable()


class OutageMiddleware:
    """A service middleware that meets the outage before the app reads anything."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/guarded":
            raise unreachable()
        await self.app(scope, receive, send)


def build(settings_for) -> FastAPI:
    router = APIRouter()

    @router.post("/upload", dependencies=[Depends(outage)])
    async def upload(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @router.post("/guarded")
    async def guarded(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    settings = settings_for("consent").model_copy(update={"max_body_bytes": 64 * 1024 * 1024})
    app = create_service_app(settings=settings, routers=[router], configure_logs=False)
    app.add_middleware(OutageMiddleware)
    return app


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer with a Content-Length, read off `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65_536)
        assert chunk, f"the server closed the connection: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65_536)
        assert chunk, "the server closed the connection within its answer"
        rest += chunk
    return int(status_line.split()[1]), headers, rest[:length]


@pytest.mark.parametrize("path", ["/upload", "/guarded"])
def test_an_outage_before_the_body_is_read_answers_503_to_a_client_still_sending(
    settings_for, path: str
) -> None:
    with serve_on_loopback(build(settings_for)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {CHUNKS * len(CHUNK)}"
                "\r\n\r\n"
            )
            sock.sendall(head.encode() + CHUNK)
            status, headers, content = read_answer(sock)  # answered before the body was read
            assert status == 503, content
            assert json.loads(content)["code"] == "database-unavailable"
            assert headers["retry-after"] == "1"
            assert headers.get("connection") != "close"
            # the client goes on sending: the connection stays, and serves the next request
            sock.sendall(CHUNK * (CHUNKS - 1))
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            status, _, content = read_answer(sock)
            assert status == 200, content
