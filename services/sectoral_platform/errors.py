"""DHIS2 WebMessage errors: typed domain errors carrying DHIS2 error codes, one renderer."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from services.kernel.errors import DomainError
from services.kernel.openapi import ErrorShape
from services.sectoral_platform.dhis2.web import json_response

HTTP_STATUS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# DHIS2 has no code for "parameter defined but not implemented": E2038 ("Field not supported") is
# the closest of its ErrorCode enum; every refusal of an unimplemented DHIS2 feature carries it
NOT_IMPLEMENTED = "E2038"


class Dhis2Error(DomainError):
    """An error rendered as a WebMessage, optionally with an error code and a `response`."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 409,
        error_code: str | None = None,
        response: dict[str, Any] | None = None,
        status: str = "ERROR",
    ) -> None:
        super().__init__(message, status_code=status_code, code=error_code)
        self.error_code = error_code
        self.response = response
        self.web_status = status


def bad_request(message: str, error_code: str | None = None) -> Dhis2Error:
    return Dhis2Error(message, status_code=400, error_code=error_code)


def conflict(message: str, error_code: str | None = None) -> Dhis2Error:
    return Dhis2Error(message, status_code=409, error_code=error_code)


def not_implemented(message: str) -> Dhis2Error:
    return Dhis2Error(message, status_code=409, error_code=NOT_IMPLEMENTED)


def not_found(message: str, error_code: str | None = "E1005") -> Dhis2Error:
    return Dhis2Error(message, status_code=404, error_code=error_code)


def web_message(
    status_code: int,
    message: str | None,
    *,
    status: str = "OK",
    error_code: str | None = None,
    response: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "httpStatus": HTTP_STATUS.get(status_code, "Error"),
        "httpStatusCode": status_code,
        "status": status,
    }
    if message is not None:
        body["message"] = message
    if error_code:
        body["errorCode"] = error_code
    if response is not None:
        body["response"] = response
    return body


def render_web_message(request: Request, error: DomainError) -> Response:
    """The service's one error renderer: every failure becomes a DHIS2 WebMessage."""
    if isinstance(error, Dhis2Error):
        body = web_message(
            error.status,
            error.message,
            status=error.web_status,
            error_code=error.error_code,
            response=error.response,
        )
    else:
        code = error.code if error.code.startswith("E") and error.code[1:].isdigit() else None
        body = web_message(error.status, error.message, status="ERROR", error_code=code)
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="DHIS2"')
    return json_response(body, status_code=error.status, headers=headers)


ERROR_SHAPE = ErrorShape(
    name="WebMessage",
    # DHIS2 answers 409 Conflict (with an E-code) for bad values on any endpoint
    statuses=(400, 401, 403, 409, 413),
    schema={
        "type": "object",
        "description": "DHIS2 WebMessage",
        "required": ["httpStatus", "httpStatusCode", "status"],
        "properties": {
            "httpStatus": {"type": "string"},
            "httpStatusCode": {"type": "integer"},
            "status": {"type": "string"},
            "message": {"type": "string"},
            "errorCode": {"type": "string"},
            "response": {"type": "object"},
        },
    },
)
