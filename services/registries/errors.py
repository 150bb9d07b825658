"""One renderer, three upstream shapes: GovStack `{detail}`, FHIR OperationOutcome, RFC 9457."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.kernel.errors import DomainError, problem_details
from services.kernel.fhir_outcome import OPERATION_OUTCOME, operation_outcome
from services.kernel.openapi import PROBLEM_DETAILS, ErrorShape

_DATA_PREFIXES = ("/data/", "/database/", "/databases")


def render(request: Request, error: DomainError) -> Response:
    """Render `error` in the shape the requested API documents."""
    path = request.url.path
    if path.startswith("/fhir"):
        return operation_outcome(request, error)
    if path.startswith(_DATA_PREFIXES) or path == "/databases":
        status = 400 if error.status == 422 else error.status
        body: dict[str, Any] = {"detail": error.message}
        if error.errors:
            body["errors"] = error.errors
        return JSONResponse(body, status_code=status, headers=error.headers)
    return problem_details(request, error)


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


def error_shape(path: str) -> ErrorShape:
    """The error shape of the API `path` belongs to (as `render` chooses it)."""
    if path.startswith("/fhir"):
        return OPERATION_OUTCOME
    if path.startswith(_DATA_PREFIXES) or path == "/databases":
        return DATA_ERROR
    return PROBLEM_DETAILS
