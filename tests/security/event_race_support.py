"""Subscribers that come up late on ports reserved in advance, and a mediator on loopback."""

from __future__ import annotations

import socket

from fastapi import FastAPI, Request, Response

from services.kernel.credentials import mediator_key

HEALTH = "DPI/GOV/MOH/hmis"
NIA = "DPI/GOV/NIA/id-registry"
REGISTRIES = "DPI/GOV/CRVS/registries"
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


def free_port() -> int:
    """A loopback port nobody listens on yet (the subscriber takes it later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def subscriber_app(*paths: str) -> FastAPI:
    """Accepts PUSH deliveries that carry the mediator's key on `paths`, recording each."""
    app = FastAPI()
    app.state.received = []

    async def receive(request: Request) -> Response:
        if request.headers.get("x-dpi-mediator-key") != mediator_key():
            return Response(status_code=401)
        app.state.received.append(await request.json())
        return Response(status_code=204)

    for path in paths:
        app.add_api_route(path, receive, methods=["POST"])
    return app
