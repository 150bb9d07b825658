"""Absolute links (Bundle `next`, `fullUrl`, Data API `next`) as the caller reached us.

Behind the mediator (`X-Road-Service: DPI/GOV/CRVS/registries/<code>`) links point back through
the mediator, so a sector that pages or syncs never bypasses it.
"""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.requests import Request

from services.kernel.runtime import runtime_of
from services.kernel.topology import service_url
from services.registries.runtime import RegistriesRuntime


def public_base(request: Request, prefix: str) -> str:
    """The base that `prefix` (e.g. `/fhir`) is reached at by this request's caller."""
    service = request.headers.get("x-road-service", "")
    if service.count("/") == 4 and all(service.split("/")):
        configured = runtime_of(request.app, RegistriesRuntime).settings.mediator_url
        mediator = configured or service_url("interop_layer")
        return f"{mediator.rstrip('/')}/r1/{service}"
    return str(request.base_url).rstrip("/") + prefix


def public_url(request: Request, prefix: str, url: URL | None = None) -> str:
    """`url` (default: the request's own) under the public base."""
    target = url or request.url
    path = target.path.removeprefix(prefix)
    query = f"?{target.query}" if target.query else ""
    return f"{public_base(request, prefix)}{path}{query}"
