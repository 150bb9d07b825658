"""Forward one request to the provider and answer the client, on raw ASGI messages.

The upstream client is the mediator's own (`upstream.py`, `pool.py`): a Python proxy hop is
decided by its HTTP client's CPU cost (see the shared measurements note). Small bodies are read
whole (one write, exact Content-Length); large or unsized ones stream both ways.
"""

from __future__ import annotations

import hashlib
import time
from binascii import b2a_base64
from collections.abc import AsyncIterator
from functools import lru_cache

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from services.interop_layer.directory import ServiceTarget
from services.interop_layer.errors import ProviderTimeout, ProviderUnreachable
from services.interop_layer.messagelog.capture import Exchange
from services.interop_layer.routing.pool import Origin, UpstreamPool, request_head, split_url
from services.interop_layer.routing.upstream import Answer, AnswerTimeout, UpstreamError
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.tracing import outgoing_traceparent

_DROP_REQUEST = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
        b"host",
        b"content-length",
        b"x-dpi-client-key",
        b"x-dpi-mediator-key",
        b"x-dpi-admin-key",  # admin endpoints are called directly, never through the mediator
        b"x-dpi-subject",
        b"traceparent",
        b"x-road-client",
        b"x-road-id",
        b"x-road-service",
        b"x-road-request-id",
    }
)
_DROP_RESPONSE = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"traceparent",
        b"x-road-client",
        b"x-road-service",
        b"x-road-id",
        b"x-road-request-id",
        b"x-road-request-hash",
        b"date",
        b"server",
    }
)
_BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})


def make_pool(settings: InteropSettings) -> UpstreamPool:
    """One pool for the process, created in the lifespan."""
    return UpstreamPool(
        size=settings.forward_pool_size, connect_timeout=settings.provider_connect_timeout
    )


@lru_cache(maxsize=256)
def _fixed_lines(client: str, service: str, secret: str, alias: bool) -> bytes:
    """The header lines every call of this client to this service carries."""
    lines = [
        ("X-Road-Client", client),
        ("X-Road-Service", service),
        # so that a provider can tell a mediated call (whose X-Road-Client was authenticated)
        # from a direct one that merely claims a client
        (MEDIATOR_KEY_HEADER, mediator_key(secret)),
    ]
    if alias:
        lines.append(("Information-Mediator-Client", client))
    return "".join(f"{name}: {value}\r\n" for name, value in lines).encode("latin-1")


_EMPTY_BODY = hashlib.sha512().digest()


def request_hash_of(head: bytes, body: hashlib._Hash | None) -> bytes:
    """PR-REST 4.3: SHA512(SHA512(headers) + SHA512(body)); SHA512(headers) without a body.

    "headers" is the request line the provider receives: `METHOD path?query` and a newline.
    """
    if body is None:
        return head
    body_digest = body.digest()
    return head if body_digest == _EMPTY_BODY else hashlib.sha512(head + body_digest).digest()


def _line(name: bytes, value: str) -> bytes:
    data = value.encode("latin-1")
    if b"\r" in data or b"\n" in data:
        raise ProviderUnreachable("A header value for the provider is malformed.")
    return b"%s: %s\r\n" % (name, data)


async def _whole_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return parts[0] if len(parts) == 1 else b"".join(parts)


async def _streamed_body(
    receive: Receive, digest: hashlib._Hash, exchange: Exchange
) -> AsyncIterator[bytes]:
    captured = exchange.request_body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            digest.update(chunk)
            if len(captured) <= exchange.limit:
                captured.extend(chunk)
            yield chunk
        if not message.get("more_body", False):
            return


async def forward(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    path: bytes,
    service: str,
    headers: dict[bytes, bytes],
    pool: UpstreamPool,
    settings: InteropSettings,
    target: ServiceTarget,
    client: str,
    exchange: Exchange,
    provider_token: str | None,
) -> None:
    """`path` is the raw path after the service code (`service`, `provider/code`)."""
    assert target.url is not None
    origin, base = split_url(target.url)
    method: bytes = scope["method"].encode()
    query: bytes = scope.get("query_string", b"")
    lines = [b"%s: %s\r\n" % pair for pair in scope["headers"] if pair[0] not in _DROP_REQUEST]
    alias = b"information-mediator-client" not in headers
    lines.append(_fixed_lines(client, service, settings.sandbox_secret, alias))
    # the X-Road-Id was checked against its pattern; the request id and traceparent are ours
    x_road_id, request_id = exchange.x_road_id.encode("latin-1"), exchange.request_id.encode()
    lines.append(
        b"X-Road-Id: %s\r\nX-Road-Request-Id: %s\r\ntraceparent: %s\r\n"
        % (x_road_id, request_id, outgoing_traceparent().encode())
    )
    if provider_token is not None:
        lines.append(_line(b"X-DPI-Subject", provider_token))

    head_digest = hashlib.sha512(b"%s %s?%s\n" % (method, path, query)).digest()
    digest: hashlib._Hash | None = None  # the body's, when there is one
    body: bytes | AsyncIterator[bytes] | None
    length = headers.get(b"content-length")
    chunked = False
    if length is not None and length.isdigit() and int(length) <= settings.buffer_limit:
        body = await _whole_body(receive)
        digest = hashlib.sha512(body)
        if exchange.limit:
            exchange.request_body = body
        framing = b"content-length: %d\r\n" % len(body)
    elif length is None and b"transfer-encoding" not in headers:
        body = None
        framing = b"content-length: 0\r\n" if method in _BODY_METHODS else b""
    else:
        digest = hashlib.sha512()
        body = _streamed_body(receive, digest, exchange)
        chunked = length is None or not length.isdigit()
        framing = (
            b"transfer-encoding: chunked\r\n" if chunked else b"content-length: %s\r\n" % length
        )
    target_path = base + path or b"/"
    if query:
        target_path += b"?" + query
    head = request_head(method, target_path, origin, b"".join(lines), framing=framing)

    timeout = target.timeout or settings.provider_read_timeout
    started = time.perf_counter()
    try:
        answer = await pool.send(origin, method, head, body, chunked=chunked, timeout=timeout)
    except AnswerTimeout as exc:
        raise ProviderTimeout(f"Service {service} did not answer in time.") from exc
    except UpstreamError as exc:
        raise ProviderUnreachable(f"Service {service} is unreachable: {exc}.") from exc
    exchange.upstream_us = int((time.perf_counter() - started) * 1_000_000)
    request_hash = b2a_base64(request_hash_of(head_digest, digest), newline=False)
    exchange.request_hash = request_hash.decode()

    out = [pair for pair in answer.headers if pair[0] not in _DROP_RESPONSE]
    out += [
        (b"x-road-client", client.encode()),
        (b"x-road-service", service.encode()),
        (b"x-road-id", x_road_id),
        (b"x-road-request-id", request_id),
        (b"x-road-request-hash", request_hash),
    ]
    size = answer.length
    if method == b"HEAD" or (size is not None and size <= settings.buffer_limit):
        try:
            data = b"" if method == b"HEAD" else await answer.read()
        except AnswerTimeout as exc:
            raise ProviderTimeout(f"Service {service} stalled mid-answer.") from exc
        except UpstreamError as exc:
            raise ProviderUnreachable(f"Service {service} broke off its answer.") from exc
        finally:
            pool.release(origin, answer)
        if size is not None or method != b"HEAD":
            out.append((b"content-length", b"%d" % (len(data) if size is None else size)))
        if exchange.limit:
            exchange.response_body = data
        exchange.status = answer.status
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        await send({"type": "http.response.body", "body": data})
        return
    await _stream_answer(send, answer, out, exchange=exchange, pool=pool, origin=origin)


async def _stream_answer(
    send: Send,
    answer: Answer,
    out: list[tuple[bytes, bytes]],
    *,
    exchange: Exchange,
    pool: UpstreamPool,
    origin: Origin,
) -> None:
    if answer.length is not None:
        out.append((b"content-length", b"%d" % answer.length))
    captured = bytearray()
    if exchange.limit:
        exchange.response_body = captured
    exchange.status = answer.status
    try:
        await send({"type": "http.response.start", "status": answer.status, "headers": out})
        async for chunk in answer.iter_body():
            if exchange.limit and len(captured) <= exchange.limit:
                captured.extend(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamError:
        exchange.broken = True  # headers are out: the client sees a truncated body
        raise
    finally:
        pool.release(origin, answer)
    await send({"type": "http.response.body", "body": b""})
