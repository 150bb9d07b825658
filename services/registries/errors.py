"""One renderer, three upstream shapes: GovStack `{detail}`, FHIR OperationOutcome, RFC 9457."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.kernel.errors import DomainError, problem_details
from services.kernel.openapi import PROBLEM_DETAILS, ErrorShape

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
XML_FORMATS = {"xml", "text/xml", "application/xml", FHIR_XML}
_ANY_JSON = {"*/*", "application/*", *JSON_FORMATS}


def _accepted(request: Request) -> set[str]:
    header = request.headers.get("accept", "")
    return {part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()}


def wants_xml(request: Request) -> bool:
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt:
        return fmt in XML_FORMATS
    accepted = _accepted(request)
    return bool(accepted & XML_FORMATS) and not accepted & _ANY_JSON


_DATA_PREFIXES = ("/data/", "/database/", "/databases")

_ISSUE_CODES = {
    400: "invalid",
    401: "security",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    422: "invalid",
    503: "transient",  # the database is unavailable: try again
}


def render(request: Request, error: DomainError) -> Response:
    """Render `error` in the shape the requested API documents."""
    path = request.url.path
    if path.startswith("/fhir"):
        return _operation_outcome(request, error)
    if path.startswith(_DATA_PREFIXES) or path == "/databases":
        status = 400 if error.status == 422 else error.status
        body: dict[str, Any] = {"detail": error.message}
        if error.errors:
            body["errors"] = error.errors
        return JSONResponse(body, status_code=status, headers=error.headers)
    return problem_details(request, error)


def _operation_outcome(request: Request, error: DomainError) -> Response:
    status = 400 if error.status == 422 else error.status
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error" if status < 500 else "fatal",
                "code": _ISSUE_CODES.get(status, "exception"),
                "diagnostics": error.message,
            }
        ],
    }
    if wants_xml(request):
        body = outcome_xml(outcome)
        return Response(body, status, headers=error.headers, media_type=FHIR_XML)
    return JSONResponse(outcome, status_code=status, headers=error.headers, media_type=FHIR_JSON)


DATA_ERROR = ErrorShape(
    name="DataError",
    validation_status=400,
    schema={
        "type": "object",
        "description": "GovStack Digital Registries error",
        "required": ["detail"],
        "properties": {
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
)
OPERATION_OUTCOME = ErrorShape(
    name="OperationOutcome",
    media_type=FHIR_JSON,
    validation_status=400,
    schema={
        "type": "object",
        "description": "FHIR R4 OperationOutcome",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {"type": "array", "items": {"type": "object"}},
        },
    },
)


def error_shape(path: str) -> ErrorShape:
    """The error shape of the API `path` belongs to (as `render` chooses it)."""
    if path.startswith("/fhir"):
        return OPERATION_OUTCOME
    if path.startswith(_DATA_PREFIXES) or path == "/databases":
        return DATA_ERROR
    return PROBLEM_DETAILS


def outcome_xml(outcome: dict[str, Any]) -> bytes:
    root = ElementTree.Element("OperationOutcome", xmlns="http://hl7.org/fhir")
    for issue in outcome["issue"]:
        node = ElementTree.SubElement(root, "issue")
        for name in ("severity", "code", "diagnostics"):
            ElementTree.SubElement(node, name, value=str(issue[name]))
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text
