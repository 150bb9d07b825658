"""Pooled keep-alive connections per provider origin, a bound on them, and safe reuse.

A pooled connection the provider has closed is found out either before use (dropped) or by
the request failing with nothing received: then the request is sent once more on a new
connection, but only when resending is safe (RFC 9112 9.3.1): an idempotent method and a body
that is still at hand (not streamed).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlsplit

from services.interop_layer.routing.upstream import (
    Answer,
    AnswerTimeout,
    BrokenOff,
    ConnectFailed,
    Connection,
    UpstreamError,
)

IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
IDLE_LIMIT = 4.0  # seconds; below common keep-alive timeouts (uvicorn's is 5 s)


class Origin(NamedTuple):
    """A provider's origin; a tuple, so the pool's look-ups (three a call) hash it in C."""

    scheme: str
    host: str
    port: int
    authority: bytes  # the Host header


@lru_cache(maxsize=256)
def split_url(url: str) -> tuple[Origin, bytes]:
    """The origin of a base URL and its path (without a trailing slash)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    origin = Origin(parts.scheme, parts.hostname, port, parts.netloc.encode("idna"))
    return origin, parts.path.rstrip("/").encode("latin-1")


def request_head(
    method: bytes, target: bytes, origin: Origin, lines: bytes, *, framing: bytes
) -> bytes:
    """`lines` are the header lines, each ending in CRLF; `framing` the length line (or none)."""
    return b"%s %s HTTP/1.1\r\nhost: %s\r\n%s%s\r\n" % (
        method,
        target,
        origin.authority,
        lines,
        framing,
    )


class UpstreamPool:
    def __init__(self, *, size: int, connect_timeout: float) -> None:
        self.size = size
        self.connect_timeout = connect_timeout
        self._idle: dict[Origin, list[Connection]] = {}
        self._open: dict[Origin, int] = {}
        self._waiters: dict[Origin, deque[asyncio.Future[None]]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    async def send(
        self,
        origin: Origin,
        method: bytes,
        head: bytes,
        body: bytes | AsyncIterator[bytes] | None,
        *,
        chunked: bool,
        timeout: float,
    ) -> Answer:
        """Send one request; returns once the answer's status and headers are in."""
        resend = method in IDEMPOTENT and not isinstance(body, AsyncIterator)
        fresh = False
        while True:
            conn = await self._acquire(origin, fresh=fresh)
            reused = conn.used > 0
            if isinstance(body, bytes):
                answer = conn.start(head + body, head_only=method == b"HEAD", timeout=timeout)
            else:
                answer = conn.start(head, head_only=method == b"HEAD", timeout=timeout)
                if body is not None:
                    answer.sender = asyncio.create_task(_send_body(conn, body, chunked=chunked))
            try:
                await answer.wait_head()
            except BaseException as exc:
                self.release(origin, answer)
                if isinstance(exc, BrokenOff) and resend and reused and not answer.received:
                    resend, fresh = False, True  # the provider had closed it: once more, anew
                    continue
                raise
            return answer

    def idle(self, origin: Origin) -> int:
        """Pooled connections to `origin` not known to be closed."""
        return sum(not conn.lost for conn in self._idle.get(origin, ()))

    async def _acquire(self, origin: Origin, *, fresh: bool = False) -> Connection:
        if self._closed:
            raise ConnectFailed("the mediator is shutting down")
        idle = self._idle.get(origin)
        while idle:  # most recently used first; a fresh connection is asked for after a stale one
            conn = idle.pop()
            if not fresh and not conn.lost and conn.loop.time() - conn.idle_since < IDLE_LIMIT:
                return conn
            self._forget(origin, conn)
        if self._open.get(origin, 0) >= self.size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(origin, deque()).append(waiter)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled() and waiter.done():
                    self._wake(origin)  # pass the turn on
                raise
            return await self._acquire(origin, fresh=fresh)
        self._open[origin] = self._open.get(origin, 0) + 1
        try:
            return await self._connect(origin)
        except BaseException:
            self._open[origin] -= 1
            self._wake(origin)
            raise

    async def _connect(self, origin: Origin) -> Connection:
        loop = asyncio.get_running_loop()
        context = None
        if origin.scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(loop), origin.host, origin.port, ssl=context
                )
        except TimeoutError as exc:
            raise AnswerTimeout("no connection within the connect timeout") from exc
        except OSError as exc:
            raise ConnectFailed(f"cannot connect ({exc.strerror or exc})") from exc
        return conn

    def release(self, origin: Origin, answer: Answer) -> None:
        """Give the connection back: into the pool when the answer was whole and reusable."""
        conn = answer._conn
        conn.answer = None
        sender = answer.sender
        sent = sender is None or (sender.done() and not sender.cancelled())
        if sender is not None and not sender.done():
            sender.cancel()
        elif sender is not None and not sender.cancelled() and sender.exception() is not None:
            sent = False
        if answer.complete and answer.keep_alive and sent and not conn.lost and not self._closed:
            conn.resume_reading()
            conn.idle_since = conn.loop.time()
            self._idle.setdefault(origin, []).append(conn)
            self._wake(origin)
            return
        conn.abort() if not answer.complete else conn.close()
        self._forget(origin, conn)

    def _forget(self, origin: Origin, conn: Connection) -> None:
        if not conn.lost:
            conn.close()
        self._open[origin] -= 1
        self._wake(origin)

    def _wake(self, origin: Origin) -> None:
        waiters = self._waiters.get(origin)
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Close idle connections now; busy ones close when released."""
        self._closed = True
        for origin, idle in self._idle.items():
            while idle:
                self._forget(origin, idle.pop())
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        await asyncio.sleep(0)  # let the transports run their close callbacks


async def _send_body(conn: Connection, body: AsyncIterator[bytes], *, chunked: bool) -> None:
    """Stream a request body (chunked when its length is unknown), minding the socket's pace."""
    try:
        async for chunk in body:
            if conn.lost:
                return
            if chunk:
                conn.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                await conn.drain()
        if chunked and not conn.lost:
            conn.write(b"0\r\n\r\n")
    except BaseException:
        conn.abort()  # the provider must not take a partial body for a whole one
        raise


__all__ = ["Origin", "UpstreamError", "UpstreamPool", "request_head", "split_url"]
