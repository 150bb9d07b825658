"""Request hardening before routing and before any body is read.

Pure ASGI, so nothing upstream of it buffers a body. Paging parameters past 32 bits are refused
(`paging.py`); a request carrying a body is refused unless the service's header check
(`HeaderCheck`) accepts its credentials; a declared `Content-Length` over the route's limit is
refused without reading a byte; bodies without one are counted as they stream and refused once
past the limit; JSON bodies are refused past `MAX_JSON_DEPTH` levels as they arrive
(`jsondepth.py`). Refusals are rendered by the service's own error renderer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.errors import BadRequest, DomainError, ErrorRenderer
from services.kernel.jsondepth import MAX_JSON_DEPTH, DepthScanner, TooDeep
from services.kernel.paging import paging_error

KiB = 1024
MiB = 1024 * KiB
DEFAULT_BODY_LIMIT = 1 * MiB
BULK_BODY_LIMIT = 32 * MiB
# a body parsed and imported as it arrives (memory stays flat): bounded by time, not memory
STREAMED_BODY_LIMIT = 256 * MiB

HeaderCheck = Callable[[Scope], Awaitable[DomainError | None]]


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = "payload-too-large"
    title = "Content Too Large"


@dataclass(frozen=True)
class BodyLimits:
    """The largest body a route takes: the longest matching path prefix's limit, else `default`."""

    default: int = DEFAULT_BODY_LIMIT
    prefixes: Mapping[str, int] = field(default_factory=dict)
    json_depth: int | None = MAX_JSON_DEPTH
    check_paging: bool = True
    # (path prefix, media type) -> limit: a route that streams one format takes more of it
    typed: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def for_path(self, path: str, media: str = "") -> int:
        best, limit = -1, self.default
        for prefix, value in self.prefixes.items():
            if path.startswith(prefix) and len(prefix) > best:
                best, limit = len(prefix), value
        for (prefix, kind), value in self.typed.items():
            if kind == media and path.startswith(prefix) and len(prefix) >= best:
                best, limit = len(prefix), value
        return limit


class _Refused(HTTPException):
    """Raised out of `receive` so the app stops reading; the middleware answers instead."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(status_code=error.status, detail=error.message)
        self.error = error


@dataclass(frozen=True, slots=True)
class Framing:
    """What the headers say of the body: whether there is one, its length, whether it is JSON."""

    present: bool
    length: int | None
    json: bool
    media: str = ""


def framing(scope: Scope) -> Framing:
    """One pass over the headers; a malformed `Content-Length` is a 400."""
    length: int | None = None
    chunked = False
    json = True  # FastAPI parses a body without a content type as JSON
    media = ""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text) > 18:
                raise BadRequest("Content-Length must be a non-negative integer.")
            length = int(text)
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            json = kind.endswith((b"/json", b"+json"))
            media = kind.decode("latin-1")
    return Framing(chunked or bool(length), length, json, media)


def has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a non-zero length, or chunked framing)."""
    try:
        return framing(scope).present
    except BadRequest:
        return True


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body exceeds this endpoint's limit of {limit} bytes.",
        code="payload-too-large",
    )


class RequestLimitsMiddleware:
    """Refuse unauthenticated, oversized and too deeply nested bodies before the app reads them."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: BodyLimits,
        renderer: ErrorRenderer,
        authenticate: HeaderCheck | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.renderer = renderer
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.limits.check_paging and scope["query_string"]:
            error = paging_error(scope["query_string"])
            if error is not None:
                await self._answer(scope, send, error, unread_body=has_body(scope))
                return
        try:
            body = framing(scope)
        except BadRequest as error:
            await self._answer(scope, send, error)
            return
        if not body.present:
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"], body.media)
        try:
            refusal = None if self.authenticate is None else await self.authenticate(scope)
        except DomainError as error:
            refusal = error
        if refusal is None and body.length is not None and body.length > limit:
            refusal = too_large(limit)
        if refusal is not None:
            await self._answer(scope, send, refusal)
            return
        depth = self.limits.json_depth if body.json else None
        await _Guard(self, scope, receive, send, limit=limit, depth=depth).run()

    async def _answer(
        self, scope: Scope, send: Send, error: DomainError, *, unread_body: bool = True
    ) -> None:
        response = self.renderer(Request(scope), error)
        if unread_body:
            response.headers["connection"] = "close"  # the rest of the body is not skipped
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class _Guard:
    """One request: count (and depth-check) what arrives; replace the app's answer on refusal."""

    def __init__(
        self,
        owner: RequestLimitsMiddleware,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        limit: int,
        depth: int | None,
    ) -> None:
        self.owner, self.scope, self._receive, self._send = owner, scope, receive, send
        self.limit = limit
        self.scanner = None if depth is None else DepthScanner(depth)
        self.received = 0
        self.refusal: DomainError | None = None
        self.started = False

    async def run(self) -> None:
        try:
            await self.owner.app(self.scope, self.receive, self.send)
        except Exception:
            if self.refusal is None or self.started:
                raise
        if self.refusal is not None and not self.started:
            await self.owner._answer(self.scope, self._send, self.refusal)

    async def receive(self) -> Message:
        if self.refusal is not None:
            raise _Refused(self.refusal)
        message = await self._receive()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.limit:
                self.refusal = too_large(self.limit)
            elif self.scanner is not None:
                try:
                    self.scanner.feed(chunk, last=not message.get("more_body", False))
                except TooDeep as exc:
                    self.refusal = BadRequest(str(exc), code="json-too-deep")
            if self.refusal is not None:
                raise _Refused(self.refusal)
        return message

    async def send(self, message: Message) -> None:
        if self.refusal is not None and not self.started:
            return  # the app's own answer to the aborted read is replaced by ours
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
