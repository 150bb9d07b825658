"""An injected error in the provider's own error format (by its topology service name)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from services.kernel.time import utcnow


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _mosip(status: int, message: str) -> dict[str, Any]:
    return {
        "id": None,
        "version": "1.0",
        "responseTime": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "response": None,
        "errors": [{"errorCode": f"IDA-FLT-{status}", "errorMessage": message}],
    }


def _dhis2(status: int, message: str) -> dict[str, Any]:
    return {
        "httpStatus": _phrase(status),
        "httpStatusCode": status,
        "status": "ERROR",
        "message": message,
    }


def _govstack(status: int, message: str) -> dict[str, Any]:
    return {"detail": message}


def _problem(status: int, message: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": _phrase(status), "status": status, "detail": message}


FORMATS: dict[str, tuple[Callable[[int, str], dict[str, Any]], str]] = {
    "id_registry": (_mosip, "application/json"),
    "sectoral_platform": (_dhis2, "application/json"),
    "registries": (_govstack, "application/json"),
    "consent": (_problem, "application/problem+json"),
}


def error_body(service: str | None, status: int, message: str) -> tuple[dict[str, Any], str]:
    """(body, media type) as that service answers errors; RFC 9457 for any other."""
    render, media_type = FORMATS.get(service or "", (_problem, "application/problem+json"))
    return render(status, message), media_type
