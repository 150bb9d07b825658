"""Security schemes in a service's OpenAPI document: which credential each operation takes.

Declared per operation (OpenAPI `security`), so "Authorize" in `/docs` and a client generated
from the document know what to send. An operation's requirements follow from the credential
checks its route depends on (the kernel's admin and mediator checks, a service's own), or from
its path where a route checks credentials by hand. A header a scheme covers is no longer listed
as a plain parameter of that operation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.kernel.credentials import (
    ADMIN_KEY_HEADER,
    CLIENT_KEY_HEADER,
    MEDIATOR_KEY_HEADER,
    require_admin,
    require_mediator,
)

Requirement = dict[str, list[str]]
Alternatives = tuple[Requirement, ...]  # any one of them will do

ADMIN_KEY, ADMIN_BEARER, MEDIATOR_KEY = "adminKey", "adminBearer", "mediatorKey"
X_ROAD_CLIENT, CLIENT_KEY = "xRoadClient", "clientKey"


def header_key(name: str, description: str) -> dict[str, Any]:
    """An API key sent in header `name`."""
    return {"type": "apiKey", "in": "header", "name": name, "description": description}


def http(scheme: str, description: str) -> dict[str, Any]:
    """HTTP authentication (`basic`, `bearer`) in `Authorization`."""
    return {"type": "http", "scheme": scheme, "description": description}


def one(*names: str) -> Requirement:
    """A requirement: every named scheme at once."""
    return {name: [] for name in names}


KERNEL_SCHEMES: dict[str, dict[str, Any]] = {
    ADMIN_KEY: header_key(
        ADMIN_KEY_HEADER, "The sandbox admin key (`DPI_ADMIN_KEY`; `dpi-admin` by default)."
    ),
    ADMIN_BEARER: http("bearer", "The sandbox admin key as a bearer token (`dpi-admin`)."),
    MEDIATOR_KEY: header_key(
        MEDIATOR_KEY_HEADER,
        "The interoperability layer's own key: only the mediator calls these operations.",
    ),
}
MEDIATOR_CLIENT_SCHEMES: dict[str, dict[str, Any]] = {
    X_ROAD_CLIENT: header_key(
        "X-Road-Client",
        "The calling client subsystem, `INSTANCE/CLASS/MEMBER/SUBSYSTEM` (e.g. "
        "`DPI/GOV/MOH/hmis`); `X-GovStack-Client` and `Information-Mediator-Client` are aliases.",
    ),
    CLIENT_KEY: header_key(
        CLIENT_KEY_HEADER,
        "That client's key: the sandbox derives one per subsystem (`dpi env` prints them), or "
        "`POST /admin/keys` issues one.",
    ),
}
ADMIN: Alternatives = (one(ADMIN_KEY), one(ADMIN_BEARER))
MEDIATOR: Alternatives = (one(MEDIATOR_KEY),)
MEDIATOR_CLIENT: Alternatives = (one(X_ROAD_CLIENT, CLIENT_KEY),)


@dataclass(frozen=True)
class Security:
    """Schemes, and which operations take them: by the checks they depend on, or by path.

    `by_path` keys are `METHOD /path` or `/path` (every method), as in the document."""

    schemes: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    by_dependency: Mapping[Callable[..., Any], Alternatives] = field(default_factory=dict)
    by_path: Mapping[str, Alternatives] = field(default_factory=dict)


KERNEL = Security(
    schemes=KERNEL_SCHEMES,
    by_dependency={require_admin: ADMIN, require_mediator: MEDIATOR},
)


def declare(document: dict[str, Any], app: FastAPI, security: Security | None) -> None:
    """Add each operation's `security` and the schemes they name to `document`, in place."""
    checks = {**KERNEL.by_dependency, **(security.by_dependency if security else {})}
    schemes = {**KERNEL.schemes, **(security.schemes if security else {})}
    by_path = security.by_path if security else {}
    used: set[str] = set()
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        item = document.get("paths", {}).get(route.path_format)
        if item is None:
            continue
        found = [checks[call] for call in _calls(route.dependant) if call in checks]
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            chosen = by_path.get(f"{method} {route.path_format}") or by_path.get(route.path_format)
            alternatives = chosen if chosen is not None else _all_of(found)
            if not alternatives:
                continue
            operation["security"] = [dict(r) for r in alternatives]
            names = {name for requirement in alternatives for name in requirement}
            used |= names
            _drop_covered_headers(operation, [schemes[name] for name in names])
    if used:
        declared = document.setdefault("components", {}).setdefault("securitySchemes", {})
        for name in sorted(used):
            declared.setdefault(name, schemes[name])


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route as served: FastAPI 0.165 includes routers lazily, and a route's context
    (its path with the router's prefix, the router's dependencies) is what the document shows."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:  # routers included eagerly: the app's routes are the served ones
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _all_of(found: list[Alternatives]) -> Alternatives:
    """Checks a route makes one after another: each of them must pass."""
    unique: list[Alternatives] = []
    for alternatives in found:
        if alternatives not in unique:
            unique.append(alternatives)
    if not unique:
        return ()
    return tuple(
        {name: [] for requirement in choice for name in requirement}
        for choice in itertools.product(*unique)
    )


def _drop_covered_headers(operation: dict[str, Any], schemes: list[dict[str, Any]]) -> None:
    covered = {
        "authorization" if scheme["type"] == "http" else str(scheme["name"]).lower()
        for scheme in schemes
        if scheme["type"] == "http" or scheme.get("in") == "header"
    }
    parameters = [
        p
        for p in operation.get("parameters", [])
        if not (p.get("in") == "header" and str(p.get("name", "")).lower() in covered)
    ]
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
