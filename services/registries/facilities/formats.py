"""FHIR's formats: this server writes JSON only. A request for XML (`Accept` or `_format`) is
refused with 406, and its OperationOutcome is itself XML, so an XML client can read it."""

from __future__ import annotations

from fastapi import Request

from services.kernel.errors import BadRequest, DomainError
from services.registries.errors import JSON_FORMATS, XML_FORMATS, wants_xml


def require_json(request: Request) -> None:
    fmt = request.query_params.get("_format", "").split(";")[0].strip().lower()
    if fmt and fmt not in JSON_FORMATS | XML_FORMATS:
        raise BadRequest(f"_format={fmt!r} is not a FHIR format; this server writes JSON.")
    if wants_xml(request):
        raise DomainError(
            "this server writes FHIR JSON only (application/fhir+json); XML is not supported.",
            code="not-supported",
            status_code=406,
        )
