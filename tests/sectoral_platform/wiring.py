"""Real id_registry, interop_layer and consent apps on loopback (the mediator needs sockets)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.id_registry.main import create_app as id_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.config import InteropSettings
from services.interop_layer.main import create_app as interop_app
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
        registries_url = None
        if registries:
            settings = settings_for("registries", RegistriesSettings, outbox_enabled=False)
            registries_url = stack.enter_context(serve_on_loopback(registries_app(settings)))
            monkeypatch.setenv("DPI_REGISTRIES_URL", registries_url)
        mediator = stack.enter_context(
            serve_on_loopback(interop_app(settings_for("interop_layer", InteropSettings)))
        )
        monkeypatch.setenv("DPI_INTEROP_LAYER_URL", mediator)
        yield Dpi(id_url, mediator, consent_url, registries_url)
