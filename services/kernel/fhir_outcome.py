"""FHIR R4's error shape, for every service that serves FHIR: an OperationOutcome, in XML when
the client asked for XML (`_format` or `Accept`), so an XML client can read why it was refused."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.kernel.errors import BadRequest, DomainError
from services.kernel.openapi import ErrorShape

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
XML_FORMATS = {"xml", "text/xml", "application/xml", FHIR_XML}
_ANY_JSON = {"*/*", "application/*", *JSON_FORMATS}
# what every FHIR interaction takes and a JSON-only server may ignore (R4 http.html#parameters)
FORMAT_PARAMETERS = frozenset({"_format", "_pretty"})

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


def _accepted(request: Request) -> set[str]:
    header = request.headers.get("accept", "")
    return {part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()}


def wants_xml(request: Request) -> bool:
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt:
        return fmt in XML_FORMATS
    accepted = _accepted(request)
    return bool(accepted & XML_FORMATS) and not accepted & _ANY_JSON


def require_json(request: Request) -> None:
    """This server writes JSON only: a request for XML (`Accept` or `_format`) is refused 406,
    its OperationOutcome itself XML; a `_format` that is no FHIR format is refused 400."""
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt and fmt not in JSON_FORMATS | XML_FORMATS:
        raise BadRequest(f"_format={fmt!r} is not a FHIR format; this server writes JSON.")
    if wants_xml(request):
        raise DomainError(
            "this server writes FHIR JSON only (application/fhir+json); XML is not supported.",
            code="not-supported",
            status_code=406,
        )


def refuse_read_parameters(request: Request, allowed: frozenset[str] = frozenset()) -> None:
    """A read (or `metadata`) takes `_format`/`_pretty` and `allowed`; any other parameter, e.g.
    `_summary` or `_elements`, which FHIR defines for every read, is refused naming it, as this
    server's searches refuse what they do not support."""
    for name in request.query_params:
        if name not in FORMAT_PARAMETERS and name not in allowed:
            raise BadRequest(
                f"unsupported parameter {name!r} for this read; supported: "
                f"{', '.join(sorted(FORMAT_PARAMETERS | allowed))}."
            )


def operation_outcome(request: Request, error: DomainError) -> Response:
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


def outcome_xml(outcome: dict[str, Any]) -> bytes:
    root = ElementTree.Element("OperationOutcome", xmlns="http://hl7.org/fhir")
    for issue in outcome["issue"]:
        node = ElementTree.SubElement(root, "issue")
        for name in ("severity", "code", "diagnostics"):
            ElementTree.SubElement(node, name, value=str(issue[name]))
    text: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return text
