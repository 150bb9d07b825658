"""MOSIP error codes and the one renderer turning domain errors into MOSIP's `errors[]` envelope."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, ClassVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.kernel.errors import DomainError
from services.kernel.openapi import ErrorShape
from services.kernel.time import iso_millis_z

# code -> (errorMessage, actionMessage); messages follow MOSIP IDA 1.2's catalogue.
CATALOGUE: dict[str, tuple[str, str | None]] = {
    "IDA-OTA-003": ("OTP has expired", "Please regenerate OTP and try again after sometime"),
    "IDA-OTA-004": ("OTP is invalid", "Please provide correct OTP value"),
    "IDA-OTA-005": ("Input transactionID does not match transactionID of OTP Request", None),
    "IDA-OTA-008": ("OTP Notification Channel not provided", None),
    "IDA-MLC-001": ("Request to be received at MOSIP within the allowed time", None),
    "IDA-MLC-002": ("Invalid UIN", "Please retry with the correct UIN"),
    "IDA-MLC-003": ("UIN has been deactivated", "Your UIN status is not active"),
    "IDA-MLC-004": ("Invalid VID", "Please retry with correct VID"),
    "IDA-MLC-005": ("VID is expired, used or revoked", "Please regenerate VID and try again"),
    "IDA-MLC-006": ("Missing Input Parameter", None),
    "IDA-MLC-007": ("Request could not be processed. Please try again", None),
    "IDA-MLC-008": ("No authentication type selected", None),
    "IDA-MLC-009": ("Invalid Input Parameter", None),
    "IDA-MLC-010": ("VID corresponding to a deactivated UIN", None),
    "IDA-MLC-012": ("Individual's Consent is not available", None),
    "IDA-MLC-014": ("Phone/Email not registered. Individual has to register and try again", None),
    "IDA-MLC-018": ("Individual ID not available in database", None),
    "IDA-MLC-022": ("UIN is deactivated/blocked", None),
    "IDA-DEA-001": ("Demographic data did not match", "Please re-enter your demographic data"),
    "IDA-DEA-003": ("Demographic data not available in database", None),
    "IDA-MPA-001": ("Digital signature verification failed", None),
    "IDA-MPA-002": ("Invalid certificate in digital signature", None),
    "IDA-MPA-003": ("Unable to decrypt Request", None),
    "IDA-MPA-004": ("MOSIP Public key expired", None),
    "IDA-MPA-005": ("OTP Request Usage not allowed as per policy", None),
    "IDA-MPA-006": (
        "Authentication usage not allowed as per policy",
        "Please use other Authentication Types in the request",
    ),
    "IDA-MPA-007": ("License key does not belong to a registered MISP", None),
    "IDA-MPA-009": ("Partner is not registered", None),
    "IDA-MPA-012": ("Partner is deactivated", None),
    "IDA-MPA-013": ("Partner is unauthorised for eKYC", None),
    "IDA-MPA-016": ("HMAC Validation failed", None),
    "IDA-MPA-020": ("Partner (Auth) Certificate not found in DB.", None),
    "IDA-MPA-021": (
        "Partner (Auth) Certificate not matching with signature header certificate.",
        None,
    ),
    "IDA-MPA-022": ("Partner (Auth) Certificate not found in Request signature header.", None),
}

# Kernel errors (admin key, validation, unknown routes) get MOSIP-style codes too.
_KERNEL_CODES = {
    "admin-only": "KER-ATH-401",
    "mediator-only": "KER-ATH-403",
    "validation-failed": "IDA-MLC-009",
    # the kernel's request limits: an invalid parameter or body, in MOSIP's terms
    "paging-out-of-range": "IDA-MLC-009",
    "json-too-deep": "IDA-MLC-009",
    "number-out-of-range": "IDA-MLC-009",
    "payload-too-large": "IDA-MLC-009",
    "internal-error": "IDA-MLC-007",
    "database-unavailable": "IDA-MLC-007",  # 503: the database is down, try again
}


def error_item(code: str, message: str | None = None) -> dict[str, Any]:
    """One entry of MOSIP's `errors[]`: code, message and (when MOSIP has one) the action."""
    default, action = CATALOGUE.get(code, (code, None))
    item: dict[str, Any] = {"errorCode": code, "errorMessage": message or default}
    if action:
        item["actionMessage"] = action
    return item


def response_time(now: datetime | None = None) -> str:
    """MOSIP's timestamp format: ISO-8601 UTC with milliseconds and a `Z`."""
    if now is None:
        return _current_response_time()
    return iso_millis_z(now)


_formatted_second: tuple[int, str] = (0, "")


def _current_response_time() -> str:
    """The same for the current time, formatting the date and time once per second."""
    global _formatted_second
    now = time.time()
    second, prefix = _formatted_second
    if int(now) != second:
        second = int(now)
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        _formatted_second = (second, prefix)
    return f"{prefix}{int((now - second) * 1000):03d}Z"


class MosipError(DomainError):
    """An error in MOSIP's shape; carries the request envelope's id and transaction id."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "IDA-MLC-009"

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status_code: int | None = None,
        envelope_id: str | None = None,
        transaction_id: str | None = None,
    ) -> None:
        super().__init__(
            error_item(code, message)["errorMessage"], code=code, status_code=status_code
        )
        self.envelope_id = envelope_id
        self.transaction_id = transaction_id


def mosip_errors(request: Request, error: DomainError) -> Response:
    """Render any domain error as MOSIP's response envelope with `response: null`."""
    code = _KERNEL_CODES.get(error.code, error.code)
    body: dict[str, Any] = {
        "id": getattr(error, "envelope_id", None),
        "version": "1.0",
        "responseTime": response_time(),
        "response": None,
        "errors": [error_item(code, error.message)],
    }
    transaction_id = getattr(error, "transaction_id", None)
    if transaction_id is not None:
        body["transactionID"] = transaction_id
    if error.errors:
        body["errors"][0]["details"] = error.errors
    return JSONResponse(body, status_code=error.status, headers=error.headers)


ERROR_SHAPE = ErrorShape(
    name="MosipErrorResponse",
    schema={
        "type": "object",
        "description": "MOSIP response envelope with `response: null` and `errors[]`",
        "required": ["version", "responseTime", "response", "errors"],
        "properties": {
            "id": {"type": ["string", "null"]},
            "version": {"type": "string"},
            "responseTime": {"type": "string"},
            "transactionID": {"type": "string"},
            "response": {"type": "null"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["errorCode", "errorMessage"],
                    "properties": {
                        "errorCode": {"type": "string"},
                        "errorMessage": {"type": "string"},
                        "actionMessage": {"type": "string"},
                    },
                },
            },
        },
    },
)
OAUTH_ERROR_SHAPE = ErrorShape(
    name="OAuthOrMosipError",
    schema={
        "description": "OAuth 2.0 error (RFC 6749/6750) or, for other failures, MOSIP's envelope",
        "anyOf": [
            {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "error_description": {"type": "string"},
                },
            },
            ERROR_SHAPE.schema,
        ],
    },
)
OAUTH_PATHS = ("/authorize", "/oauth/", "/oidc/", "/.well-known/")


def error_shape(path: str) -> ErrorShape:
    """The OIDC provider's endpoints answer OAuth errors; the rest MOSIP's envelope."""
    return OAUTH_ERROR_SHAPE if path.startswith(OAUTH_PATHS) else ERROR_SHAPE
