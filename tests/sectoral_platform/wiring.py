"""Real id_registry, interop_layer and consent apps on loopback (the mediator needs sockets)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.id_registry.main import create_app as id_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.main import create_app as interop_app
from services.interop_layer.settings import InteropSettings
from services.kernel.testing import serve_on_loopback
from services.registries.main import create_app as registries_app
from services.registries.settings import RegistriesSettings

ID_ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


@dataclass
class Dpi:
    id_registry: str
    interop_layer: str
    consent: str | None
    registries: str | None = None


@contextmanager
def serve_on_port(app: Any, port: int, deadline: float = 10.0) -> Iterator[str]:
    """Like the kernel's `serve_on_loopback`, on a port chosen beforehand (the registries
    resolve the mediator's URL at start, before the mediator itself can start)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    limit = time.monotonic() + deadline
    while not server.started:
        if time.monotonic() > limit or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def dead_url() -> str:
    """A loopback URL nobody listens on (the ID system 'down')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def dpi(
    settings_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    *,
    consent: bool = False,
    registries: bool = False,
    platform_url: str | None = None,
) -> Iterator[Dpi]:
    """The foundational services the platform talks to, wired by `DPI_<NAME>_URL`."""
    with ExitStack() as stack:
        if platform_url is not None:
            monkeypatch.setenv("DPI_SECTORAL_PLATFORM_URL", platform_url)
        ids = settings_for(
            "id_registry",
            IdRegistrySettings,
            seed_population=6,
            publish_events=False,
            subscribe_civil_events=False,
        )
        id_url = stack.enter_context(
            serve_on_loopback(id_app(ids, run_drainer=False, configure_logs=False))
        )
        monkeypatch.setenv("DPI_ID_REGISTRY_URL", id_url)
        consent_url = None
        if consent:
            consent_url = stack.enter_context(
                serve_on_loopback(consent_app(settings_for("consent", ConsentSettings)))
            )
            monkeypatch.setenv("DPI_CONSENT_URL", consent_url)
        mediator_url = dead_url()  # a free port, taken by the mediator below
        monkeypatch.setenv("DPI_INTEROP_LAYER_URL", mediator_url)
        registries_url = None
        if registries:
            settings = settings_for("registries", RegistriesSettings, outbox_interval=0.1)
            registries_url = stack.enter_context(serve_on_loopback(registries_app(settings)))
            monkeypatch.setenv("DPI_REGISTRIES_URL", registries_url)
        port = int(mediator_url.rsplit(":", 1)[1])
        mediator = stack.enter_context(
            serve_on_port(interop_app(settings_for("interop_layer", InteropSettings)), port)
        )
        yield Dpi(id_url, mediator, consent_url, registries_url)
