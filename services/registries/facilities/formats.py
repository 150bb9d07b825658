"""FHIR's formats: this server writes JSON only. A request for XML (`Accept` or `_format`) is
refused with 406, and its OperationOutcome is itself XML, so an XML client can read it."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from fastapi import Request

from services.kernel.errors import BadRequest, DomainError

FHIR_XML = "application/fhir+xml"
_JSON = {"json", "application/json", "application/fhir+json"}
_XML = {"xml", "text/xml", "application/xml", FHIR_XML}
_ANY_JSON = {"*/*", "application/*", *_JSON}


def _accepted(request: Request) -> set[str]:
    header = request.headers.get("accept", "")
    return {part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()}


def wants_xml(request: Request) -> bool:
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt:
        return fmt in _XML
    accepted = _accepted(request)
    return bool(accepted & _XML) and not accepted & _ANY_JSON


def require_json(request: Request) -> None:
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt and fmt not in _JSON | _XML:
        raise BadRequest(f"_format={fmt!r} is not a FHIR format; this server writes JSON.")
    if wants_xml(request):
        raise DomainError(
            "this server writes FHIR JSON only (application/fhir+json); XML is not supported.",
            code="not-supported",
            status_code=406,
        )


def outcome_xml(outcome: dict[str, Any]) -> bytes:
    root = ElementTree.Element("OperationOutcome", xmlns="http://hl7.org/fhir")
    for issue in outcome["issue"]:
        node = ElementTree.SubElement(root, "issue")
        for name in ("severity", "code", "diagnostics"):
            ElementTree.SubElement(node, name, value=str(issue[name]))
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text
