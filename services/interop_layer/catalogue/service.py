"""Register, replace, remove and list catalogue services; load the default catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from services.interop_layer.catalogue.models import (
    RESERVED_CODES,
    Endpoint,
    ServiceEntry,
    ServiceEntryCreate,
    ServiceEntryPublic,
)
from services.interop_layer.directory import EndpointRule, resolve_base
from services.interop_layer.errors import BadRequest, NotFound
from services.interop_layer.identifiers import service_id
from services.interop_layer.members.service import require_subsystem
from services.kernel import yamlfile

DEFAULT_CATALOGUE = Path(__file__).with_name("default_catalogue.yaml")
METHODS = frozenset({"*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_SEGMENT = re.compile(r"^(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[^{}/\\;%?#\s]+)$")


def check_endpoints(endpoints: list[Endpoint], *, consent_required: bool) -> None:
    """Endpoint paths are normalised (as requests must be); consent-gated ones name exactly the
    paths served: no `*` in the method or the path (`{name}` segments are allowed)."""
    for endpoint in endpoints:
        if endpoint.method.upper() not in METHODS:
            raise BadRequest(f"Endpoint method {endpoint.method!r} is not an HTTP method or '*'.")
        path = endpoint.path
        segments = path.split("/")[1:]
        if (
            not path.startswith("/")
            or any(seg in (".", "..") for seg in segments)
            or not all(_SEGMENT.match(seg) for seg in segments[:-1])
            or (segments[-1] and not _SEGMENT.match(segments[-1]))
        ):
            raise BadRequest(
                f"Endpoint path {path!r} is not a normalised path: '/'-separated non-empty "
                "segments, no '.' or '..', no '%', ';', '?', '#' or '\\'; `*` wildcards and "
                "whole `{name}` segments."
            )
        if consent_required and EndpointRule.of(endpoint.model_dump()).wildcard:
            raise BadRequest(
                f"A consent-required service names exactly the paths it serves: endpoint "
                f"{endpoint.method} {path} has a wildcard (use exact paths or {{name}} segments)."
            )


def load_catalogue_file(path: Path | None = None) -> dict[str, Any]:
    with (path or DEFAULT_CATALOGUE).open(encoding="utf-8") as handle:
        data: dict[str, Any] = yamlfile.safe_load(handle) or {}
    return data


def public(entry: ServiceEntry) -> ServiceEntryPublic:
    base = resolve_base(entry)
    return ServiceEntryPublic.model_validate(
        {
            **entry.model_dump(),
            "resolved_url": None if base is None else base + entry.path_prefix.rstrip("/"),
        }
    )


def upsert_service(*, session: Session, data: ServiceEntryCreate) -> ServiceEntry:
    """Register a service, or replace it when the provider already offers that code."""
    provider = require_subsystem(session=session, member_id=data.provider).id
    if data.service_code in RESERVED_CODES:
        raise BadRequest(f"Service code {data.service_code!r} is reserved by the mediator.")
    if not data.base_url and not data.upstream:
        raise BadRequest("A service needs an upstream (topology service) or a baseUrl.")
    if data.path_prefix and not data.path_prefix.startswith("/"):
        raise BadRequest("pathPrefix must start with '/'.")
    check_endpoints(data.endpoints, consent_required=data.consent_required)
    values = data.model_dump()
    values["provider"] = provider
    values["endpoints"] = [e.model_dump() for e in data.endpoints]
    entry = session.get(ServiceEntry, service_id(provider, data.service_code))
    if entry is None:
        entry = ServiceEntry(id=service_id(provider, data.service_code), **values)
    else:
        for name, value in values.items():
            setattr(entry, name, value)
    session.add(entry)
    session.commit()
    return entry


def list_services(*, session: Session, provider: str | None = None) -> list[ServiceEntry]:
    query = select(ServiceEntry).order_by(ServiceEntry.id)
    if provider:
        query = query.where(ServiceEntry.provider == provider)
    return list(session.exec(query))


def delete_service(*, session: Session, provider: str, service_code: str) -> None:
    entry = session.get(ServiceEntry, service_id(provider, service_code))
    if entry is None:
        raise NotFound(f"No service {service_code} at {provider}.")
    session.delete(entry)
    session.commit()
