"""The consent service's error shape: RFC 9457 problem details (the spec defines none).

The spec documents `400 bad input parameter` for bad input, so request validation failures are
400 here rather than the kernel's 422.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import Request
from fastapi.responses import Response

from services.kernel.errors import DomainError, problem_details
from services.kernel.fhir_outcome import OPERATION_OUTCOME, operation_outcome
from services.kernel.openapi import PROBLEM_DETAILS, ErrorShape

ERROR_SHAPE = replace(PROBLEM_DETAILS, validation_status=400)


def render_error(request: Request, error: DomainError) -> Response:
    if request.url.path.startswith("/fhir"):  # FHIR's own shape on the FHIR routes
        return operation_outcome(request, error)
    if error.status == 422:
        error.status = 400
    return problem_details(request, error)


def error_shape(path: str) -> ErrorShape:
    """The error shape of the API `path` belongs to (as `render_error` chooses it)."""
    return OPERATION_OUTCOME if path.startswith("/fhir") else ERROR_SHAPE
