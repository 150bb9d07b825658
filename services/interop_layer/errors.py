"""Mediator errors as PR-REST (X-Road Message Protocol for REST, §4.6) defines them.

Body `{type, message, detail}` (JSON, or `<error>` XML when the client accepts XML), header
`X-Road-Error: <type>`, and on the message protocol (`/r1/...`) only two statuses: 400 for a
`Client.*` fault (the request does not follow the protocol), 500 for a `Server.ClientProxy.*` or
`Server.ServerProxy.*` fault (X-Road or the provider failed). The mediator's own resources (admin
API, pub/sub rooms) keep HTTP resource statuses (404, 409) with the same body and header.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from fastapi import Request
from fastapi.responses import Response

from services.kernel.errors import DomainError
from services.kernel.ids import uuid7
from services.kernel.openapi import ErrorShape

X_ROAD_ERROR = "X-Road-Error"
JSON_TYPE = "application/json; charset=utf-8"
_XML_TYPES = {"application/xml": "application/xml", "text/xml": "text/xml", "text/*": "text/xml"}


class XRoadError(DomainError):
    """A fault of the mediator itself (never of a provider); status as PR-REST's categories."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "Client.BadRequest"


class BadRequest(XRoadError):
    """Category 3: the request does not follow the protocol."""


class AuthenticationFailed(XRoadError):
    """No, an unknown, or another client's credential (X-Road: the IS TLS certificate)."""

    status_code = 500
    default_code = "Server.ClientProxy.SslAuthenticationFailed"


class UnknownMember(XRoadError):
    """The credential is the derived key of a client that is not registered."""

    status_code = 500
    default_code = "Server.ClientProxy.UnknownMember"


class AccessDenied(XRoadError):
    """No access right, or the consent gate refused (the message says which)."""

    status_code = 500
    default_code = "Server.ServerProxy.AccessDenied"


class ConsentDenied(AccessDenied):
    pass


class UnknownService(XRoadError):
    status_code = 500
    default_code = "Server.ServerProxy.UnknownService"


class ProviderUnreachable(XRoadError):
    """Category 2: the provider (or the ID system, the consent service) cannot be reached."""

    status_code = 500
    default_code = "Server.ServerProxy.NetworkError"


class ProviderTimeout(XRoadError):
    """Category 2: the provider did not answer (in time)."""

    status_code = 500
    default_code = "Server.ServerProxy.ServiceFailed"


class LoggingFailed(XRoadError):
    """The message log cannot record the exchange (its database is down): refused, try again.
    503 rather than PR-REST's 500, so that clients and load balancers retry."""

    status_code = 503
    default_code = "Server.ClientProxy.LoggingFailed"

    def __init__(self) -> None:
        super().__init__(
            "The message log cannot record exchanges now (its database is unavailable); the "
            "exchange was refused. Try again.",
            headers={"Retry-After": "1"},
        )


class ResourceError(XRoadError):
    """An answer of the mediator's own resource APIs: its HTTP status is kept."""


class NotFound(ResourceError):
    status_code = 404
    default_code = "Server.ServerProxy.NotFound"


class Conflict(ResourceError):
    status_code = 409
    default_code = "Client.Conflict"


INTERNAL_ERROR = "Server.ServerProxy.InternalError"
_BY_STATUS = {
    400: "Client.BadRequest",
    401: "Server.ClientProxy.AccessDenied",
    403: "Server.ClientProxy.AccessDenied",
    404: "Server.ServerProxy.NotFound",
    405: "Client.InvalidHttpMethod",
    409: "Client.Conflict",
    413: "Client.BadRequest",
    415: "Client.InvalidContentType",
    422: "Client.BadRequest",
    500: INTERNAL_ERROR,
    503: "Server.ServerProxy.DatabaseError",  # the mediator's database is unavailable
}


def error_type(error: DomainError) -> str:
    if "." in error.code:
        return error.code
    return _BY_STATUS.get(
        error.status, "Client.BadRequest" if error.status < 500 else INTERNAL_ERROR
    )


def error_status(request: Request, error: DomainError, kind: str) -> int:
    """PR-REST's status on the message protocol; HTTP's own elsewhere (admin API)."""
    if error.status == 503:  # unavailable for now (its database): try again, not PR-REST's 500
        return 503
    if request.scope["path"].startswith("/r1/") and not isinstance(error, ResourceError):
        return 400 if kind.startswith("Client.") else 500
    return 400 if error.status == 422 else error.status


def error_media_type(request: Request) -> str:
    """X-Road's choice: the first XML type the client accepts, else JSON."""
    for part in request.headers.get("accept", "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in _XML_TYPES:
            return _XML_TYPES[media]
    return "application/json"


def current_x_road_id(request: Request) -> str:
    """The exchange's id when one was started, else the client's `X-Road-Id`, else a new one."""
    exchange = getattr(request.state, "exchange", None)
    if exchange is not None and exchange.x_road_id:
        return str(exchange.x_road_id)
    return request.headers.get("x-road-id") or uuid7()


def xml_error(kind: str, message: str, detail: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<error><type>{escape(kind)}</type><message>{escape(message)}</message>"
        f"<detail>{escape(detail)}</detail></error>"
    ).encode()


def render_xroad_error(request: Request, error: DomainError) -> Response:
    """The one renderer of this service: validation problems become 400 `Client.BadRequest`."""
    kind = error_type(error)
    status = error_status(request, error, kind)
    x_road_id = current_x_road_id(request)
    exchange = getattr(request.state, "exchange", None)
    if exchange is not None:
        exchange.error_type = kind
    headers = {**error.headers, X_ROAD_ERROR: kind, "X-Road-Id": x_road_id}
    media = error_media_type(request)
    if media != "application/json":
        content = xml_error(kind, error.message, x_road_id)
        return Response(content, status, headers, media_type=f"{media}; charset=utf-8")
    body: dict[str, Any] = {"type": kind, "message": error.message, "detail": x_road_id}
    if error.errors and not request.scope["path"].startswith("/r1/"):
        body["errors"] = error.errors  # the admin API's validation detail
    return Response(_json(body), status, headers, media_type=JSON_TYPE)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


ERROR_SHAPE = ErrorShape(
    name="XRoadError",
    validation_status=400,
    schema={
        "type": "object",
        "description": (
            "X-Road error (PR-REST 4.6): `type` (e.g. `Client.BadRequest`, "
            "`Server.ServerProxy.AccessDenied`), message, and in `detail` the X-Road id"
        ),
        "required": ["type", "message", "detail"],
        "properties": {
            "type": {"type": "string"},
            "message": {"type": "string"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
    },
)

# On the message protocol (`/r1/...`) X-Road's own faults are 500 (`Server.*`, PR-REST 4.6).
R1_ERROR_SHAPE = replace(ERROR_SHAPE, statuses=(*ERROR_SHAPE.statuses, 500))


def error_shape_for(path: str) -> ErrorShape:
    """The declared errors of an operation: the message protocol's add X-Road's 500."""
    return R1_ERROR_SHAPE if path.startswith("/r1/") else ERROR_SHAPE
