"""The server's CapabilityStatement: every directory type, its search parameters and links."""

from __future__ import annotations

from typing import Any

from services.registries.facilities import links, search

_TYPES = {
    "_id": "token",
    "_lastUpdated": "date",
    "identifier": "token",
    "name": "string",
    "type": "token",
    "status": "token",
    "active": "token",
    "service-type": "token",
    "role": "token",
}
_RESULT = {"_count", "_summary", "_include", "_revinclude"}


def _resource(kind: str) -> dict[str, Any]:
    params = [
        {"name": name, "type": "reference" if (kind, name) in links.REFERENCES else _TYPES[name]}
        for name in search.supported(kind)
        if name not in _RESULT
    ]
    return {
        "type": kind,
        "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "history-type"}],
        "searchParam": params,
        "searchInclude": sorted(f"{s}:{p}" for s, p in links.REFERENCES if s == kind),
        "searchRevInclude": sorted(
            f"{s}:{p}" for (s, p), (_, target) in links.REFERENCES.items() if target == kind
        ),
    }


def statement(base: str, software_version: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "kind": "instance",
        "software": {"name": "DPI Sandbox registries", "version": software_version},
        "implementation": {"description": "Facility registry (mCSD)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "instantiates": [
            "https://profiles.ihe.net/ITI/mCSD/CapabilityStatement/IHE.mCSD.Directory",
            "https://profiles.ihe.net/ITI/mCSD/CapabilityStatement/IHE.mCSD.Directory.UpdateOption",
        ],
        "rest": [
            {"mode": "server", "resource": [_resource(kind) for kind in links.RESOURCE_TYPES]}
        ],
    }
