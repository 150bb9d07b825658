"""Mediator errors in the X-Road shape: `{type, message, detail}` plus header `X-Road-Error`."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from services.kernel.errors import DomainError
from services.kernel.ids import uuid7
from services.kernel.openapi import ErrorShape

X_ROAD_ERROR = "X-Road-Error"


class XRoadError(DomainError):
    """An error raised by the mediator itself (never by a provider)."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "Client.BadRequest"


class BadRequest(XRoadError):
    pass


class UnknownMember(XRoadError):
    status_code = 403
    default_code = "Server.ClientProxy.unknown_member"


class ClientSpoofed(XRoadError):
    status_code = 403
    default_code = "Server.ClientProxy.access_denied"


class AccessDenied(XRoadError):
    status_code = 403
    default_code = "Server.ServerProxy.access_denied"


class ConsentDenied(XRoadError):
    status_code = 403
    default_code = "Server.ServerProxy.consent_denied"


class UnknownService(XRoadError):
    status_code = 404
    default_code = "Server.ServerProxy.unknown_service"


class NotFound(XRoadError):
    status_code = 404
    default_code = "Server.ServerProxy.not_found"


class Conflict(XRoadError):
    status_code = 409
    default_code = "Server.ServerProxy.conflict"


class ProviderUnreachable(XRoadError):
    status_code = 502
    default_code = "Server.ServerProxy.network_error"


class ProviderTimeout(XRoadError):
    status_code = 504
    default_code = "Server.ServerProxy.service_timeout"


_BY_STATUS = {
    400: "Client.BadRequest",
    401: "Server.ClientProxy.access_denied",
    403: "Server.ClientProxy.access_denied",
    404: "Server.ServerProxy.not_found",
    405: "Client.BadRequest.method_not_allowed",
    409: "Server.ServerProxy.conflict",
    422: "Client.BadRequest",
    500: "Server.ServerProxy.internal_error",
}


def error_type(error: DomainError) -> str:
    if "." in error.code:
        return error.code
    return _BY_STATUS.get(error.status, "Server.ServerProxy.internal_error")


def current_x_road_id(request: Request) -> str:
    """The exchange's id when one was started, else the client's `X-Road-Id`, else a new one."""
    exchange = getattr(request.state, "exchange", None)
    if exchange is not None and exchange.x_road_id:
        return str(exchange.x_road_id)
    return request.headers.get("x-road-id") or uuid7()


def render_xroad_error(request: Request, error: DomainError) -> Response:
    """The one renderer of this service: validation problems become 400 `Client.BadRequest`."""
    status = 400 if error.status == 422 else error.status
    kind = error_type(error)
    x_road_id = current_x_road_id(request)
    exchange = getattr(request.state, "exchange", None)
    if exchange is not None:
        exchange.error_type = kind
    body: dict[str, Any] = {"type": kind, "message": error.message, "detail": x_road_id}
    if error.errors:
        body["errors"] = error.errors
    headers = {**error.headers, X_ROAD_ERROR: kind, "X-Road-Id": x_road_id}
    return JSONResponse(body, status_code=status, headers=headers)


ERROR_SHAPE = ErrorShape(
    name="XRoadError",
    validation_status=400,
    schema={
        "type": "object",
        "description": "X-Road error: `type` (e.g. `Client.BadRequest`), message, the X-Road id",
        "required": ["type", "message", "detail"],
        "properties": {
            "type": {"type": "string"},
            "message": {"type": "string"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
)
