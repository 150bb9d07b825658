"""Metaservice answers: `listClients` as X-Road's XML, one service's OpenAPI description."""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import yaml

from services.interop_layer.directory import ServiceTarget

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_IDENTIFIER_KEYS = (
    ("xroad_instance", "xRoadInstance"),
    ("member_class", "memberClass"),
    ("member_code", "memberCode"),
    ("subsystem_code", "subsystemCode"),
)
XML_NAMESPACES = (
    'xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"'
)


def wants_xml(accept: str) -> bool:
    """The first of JSON or XML the client lists in `Accept` (JSON when it lists neither)."""
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ("application/json", "*/*"):
            return False
        if media in ("application/xml", "text/xml"):
            return True
    return False


def clients_xml(members: list[dict[str, Any]]) -> bytes:
    """`listClients` as X-Road's `xrd:clientList` (xroad.xsd)."""
    items = []
    for member in members:
        ident = member["id"]
        parts = "".join(
            f"<id:{tag}>{escape(ident[key])}</id:{tag}>"
            for key, tag in _IDENTIFIER_KEYS
            if key in ident
        )
        items.append(
            f"<xrd:member><xrd:id id:objectType={quoteattr(ident['object_type'])}>{parts}"
            f"</xrd:id><xrd:name>{escape(member['name'])}</xrd:name></xrd:member>"
        )
    body = "".join(items)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<xrd:clientList {XML_NAMESPACES}>{body}</xrd:clientList>"
    ).encode()


def parse_document(content: bytes, media: str) -> dict[str, Any] | None:
    """The provider's OpenAPI document (JSON or YAML), or None when it is neither."""
    try:
        data = yaml.safe_load(content) if "yaml" in media else json.loads(content)
    except (ValueError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("paths"), dict) else None


def one_service(document: dict[str, Any], target: ServiceTarget, prefix: str) -> dict[str, Any]:
    """The provider's document cut to the service's endpoints, paths relative to the service.

    `prefix` is the service's path on the provider: a document path outside it, or an operation
    no endpoint rule of the service matches, is left out. The server is the service's r1 URL.
    """
    paths: dict[str, Any] = {}
    for path, item in document["paths"].items():
        if not isinstance(item, dict) or not str(path).startswith(prefix):
            continue
        relative = str(path)[len(prefix) :] or "/"
        if not relative.startswith("/"):
            continue
        kept = {
            key: value
            for key, value in item.items()
            if key.lower() not in _METHODS or target.offers(key.upper(), relative)
        }
        if any(key.lower() in _METHODS for key in kept):
            paths[relative] = kept
    servers = [{"url": f"/r1/{target.provider}/{target.service_code}"}]
    return {**document, "servers": servers, "paths": paths}
