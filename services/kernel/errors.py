"""Typed domain errors, raised in service code and rendered by one handler per service.

Each service chooses a renderer for its upstream system's error shape (MOSIP `errors[]`, X-Road
`{type, message, detail}`, DHIS2 WebMessage); the default is RFC 9457 problem details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.kernel.outage import database_unreachable, failure_reason, unreachable_types

log = logging.getLogger("dpi.errors")


class DomainError(Exception):
    """An error a service raises on purpose; it becomes a 4xx/5xx in the service's error shape."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad Request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.status = status_code or self.status_code
        self.errors = list(errors or [])
        self.headers = headers or {}


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status_code = 401
    default_code = "unauthorized"
    title = "Unauthorized"


class Forbidden(DomainError):
    status_code = 403
    default_code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status_code = 404
    default_code = "not-found"
    title = "Not Found"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    title = "Conflict"


class ValidationFailed(DomainError):
    status_code = 422
    default_code = "validation-failed"
    title = "Unprocessable Content"


class UpstreamUnavailable(DomainError):
    status_code = 502
    default_code = "upstream-unavailable"
    title = "Bad Gateway"


class UpstreamTimeout(DomainError):
    status_code = 504
    default_code = "upstream-timeout"
    title = "Gateway Timeout"


class DatabaseUnavailable(DomainError):
    """The service's database does not answer (`outage.database_unreachable`): try again."""

    status_code = 503
    default_code = "database-unavailable"
    title = "Service Unavailable"
    retry_after_seconds = 1

    def __init__(self, message: str = "The service's database is unavailable; try again.") -> None:
        super().__init__(message, headers={"Retry-After": str(self.retry_after_seconds)})


class InternalError(DomainError):
    status_code = 500
    default_code = "internal-error"
    title = "Internal Server Error"


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

ErrorRenderer = Callable[[Request, DomainError], Response]


def problem_details(request: Request, error: DomainError) -> Response:
    """Render an error as RFC 9457 problem details."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(error.status, type(error).title),
        "status": error.status,
        "detail": error.message,
        "instance": request.url.path,
        "code": error.code,
    }
    if error.errors:
        body["errors"] = error.errors
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type="application/problem+json"
    )


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation problems as plain data: where, what, and the rule, never a stack trace."""
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def describe_validation(errors: list[dict[str, Any]]) -> str:
    parts = [f"{'.'.join(e['loc'][1:] or e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid request: " + "; ".join(parts) + more


OUT_OF_RANGE = "A number in the request is out of the range this service stores."


def out_of_range(exc: BaseException) -> bool:
    """A number the database cannot hold (a path id or parameter past 64 bits): bad input."""
    if isinstance(exc, OverflowError):
        return True
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DataError) and (
        isinstance(orig, OverflowError) or getattr(orig, "sqlstate", None) == "22003"
    )


def database_unavailable(renderer: ErrorRenderer, request: Request, exc: Exception) -> Response:
    """The answer to a request the database outage `exc` stopped: 503, one warning logged."""
    reason = failure_reason(exc)
    log.warning("database unreachable on %s %s: %s", request.method, request.url.path, reason)
    return renderer(request, DatabaseUnavailable())


def install_error_handlers(
    app: FastAPI, renderer: ErrorRenderer = problem_details, *, postgres: bool = False
) -> None:
    """Route every error through `renderer`: domain, validation, HTTP and unexpected ones
    (`postgres`: the database driver's own outage errors too)."""

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return renderer(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        return renderer(request, ValidationFailed(describe_validation(errors), errors=errors))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error = DomainError(
            str(exc.detail),
            status_code=exc.status_code,
            code=_TITLES.get(exc.status_code, "error").lower().replace(" ", "-"),
            headers=dict(exc.headers or {}),
        )
        return renderer(request, error)

    async def on_database_value(request: Request, exc: Exception) -> Response:
        # the database refused a value of the request (a number beyond its column, a NUL
        # character in text on PostgreSQL): bad input, and nothing was written
        if out_of_range(exc):
            log.info("number out of range on %s %s: %s", request.method, request.url.path, exc)
            return renderer(request, BadRequest(OUT_OF_RANGE, code="number-out-of-range"))
        if isinstance(exc, DataError):
            log.warning(
                "value refused by the database on %s %s: %s",
                request.method,
                request.url.path,
                failure_reason(exc),
            )
            message = "A value in the request cannot be stored (e.g. a NUL character, or a number"
            return renderer(
                request, BadRequest(f"{message} out of range).", code="unstorable-value")
            )
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if database_unreachable(exc):  # a database outage, not a bug: the client tries again
            return database_unavailable(renderer, request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return renderer(request, InternalError("The service hit an unexpected error."))

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OverflowError, on_database_value)
    app.add_exception_handler(DataError, on_database_value)
    # answered here, not re-raised to the server's log
    for unreachable in unreachable_types(postgres=postgres):
        app.add_exception_handler(unreachable, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
