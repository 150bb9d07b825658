"""One keep-alive connection to a provider: an asyncio protocol feeding httptools' response parser.

This is the forwarding hot path's HTTP/1.1 client (the pool is in `pool.py`). Measured on this
machine, aiohttp's general machinery (request and response objects, header multidicts, stream
readers, tracing hooks) cost the mediator about as much CPU per forwarded call as the provider
spends answering it; this does only what forwarding needs, with the C parser uvicorn uses.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import cast

import httptools

HIGH_WATER = 256 * 1024  # answer bytes buffered before reading from the provider pauses
LOW_WATER = 64 * 1024


class UpstreamError(Exception):
    """The provider could not be reached or did not answer in full."""


class ConnectFailed(UpstreamError):
    pass


class AnswerTimeout(UpstreamError):
    pass


class BrokenOff(UpstreamError):
    pass


class Answer:
    """One response as it arrives: status and headers first, then the body (read or streamed)."""

    __slots__ = (
        "_conn",
        "_head",
        "_head_only",
        "_waiter",
        "buffered",
        "chunked",
        "complete",
        "error",
        "headers",
        "keep_alive",
        "length",
        "parts",
        "received",
        "sender",
        "status",
    )

    def __init__(self, conn: Connection, *, head_only: bool) -> None:
        self._conn = conn
        self._head_only = head_only
        self._head: asyncio.Future[None] = conn.loop.create_future()
        self._waiter: asyncio.Future[None] | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.length: int | None = None
        self.chunked = False
        self.keep_alive = False
        self.parts: deque[bytes] = deque()
        self.buffered = 0
        self.complete = False
        self.error: UpstreamError | None = None
        self.received = False
        self.sender: asyncio.Task[None] | None = None

    # connection events
    def lost(self) -> None:
        if self.complete or self.error is not None:
            return
        if self.status and self.length is None and not self.chunked:
            self.keep_alive = False  # a close-delimited body: the end of the connection ends it
            self.finish()
            return
        self.fail(BrokenOff("connection closed before the answer was complete"))

    def fail(self, error: UpstreamError) -> None:
        if self.complete or self.error is not None:
            return
        self.error = error
        self.keep_alive = False
        if not self._head.done():
            self._head.set_result(None)
        self.wake()

    def headed(self) -> None:
        """Status and headers are in."""
        self._head.set_result(None)
        if self._head_only:  # HEAD: a length, but never a body
            self.finish()

    def finish(self) -> None:
        self.complete = True
        self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self._conn.loop.create_future()
        self._conn.waiting()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # consumer
    async def wait_head(self) -> None:
        await self._head
        if self.error is not None and not self.status:
            raise self.error

    async def read(self) -> bytes:
        """The whole body (for answers known to be small)."""
        while not self.complete:
            if self.error is not None:
                raise self.error
            await self._wait()
        parts = self.parts
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def iter_body(self) -> AsyncIterator[bytes]:
        """The body as it arrives; raises `UpstreamError` if the provider breaks off."""
        parts = self.parts
        while True:
            if parts:
                part = parts.popleft()
                self.buffered -= len(part)
                if self.buffered < LOW_WATER:
                    self._conn.resume_reading()
                yield part
            elif self.error is not None:
                raise self.error
            elif self.complete:
                return
            else:
                await self._wait()


class Connection(asyncio.Protocol):
    """A connection serves one answer at a time; `pool.py` decides when it is reused."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.answer: Answer | None = None
        self.lost = False
        self.used = 0  # answers started on this connection
        self.idle_since = 0.0
        self._timeout = 0.0
        self._last = 0.0
        # one read timer for the answers in turn: armed by an answer, left for the next (arming
        # and cancelling one per answer cost a hundredth of the hop), lapsing once idle
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0  # when the armed timer fires
        self._reading_paused = False
        self._writing_paused = False
        self._drained: asyncio.Future[None] | None = None
        # One parser for the answers in turn (a parser per answer cost a microsecond: its
        # callbacks looked up, five of them absent); a new one after a HEAD answer, whose body
        # the parser would otherwise wait for. The parser calls back the connection, never an
        # answer: nothing ties a given-back answer to it.
        self._parser: httptools.HttpResponseParser | None = None
        self._head_only = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._last = self.loop.time()
        answer = self.answer
        parser = self._parser
        if answer is None or parser is None:  # nothing was asked: a confused provider
            self.close()
            return
        answer.received = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._parser = None
            answer.fail(BrokenOff("switched protocols"))
        except httptools.HttpParserError as exc:
            self._parser = None
            answer.fail(BrokenOff(f"malformed answer ({exc})"))

    # httptools callbacks, filling in the answer under way (`data_received` feeds it)
    def on_header(self, name: bytes, value: bytes) -> None:
        answer = self.answer
        assert answer is not None  # only fed while an answer is under way
        if answer.complete:  # bytes after a complete answer: the connection is not reusable
            answer.keep_alive = False
            return
        name = name.lower()
        if name == b"content-length":
            answer.length = int(value)  # the parser refuses malformed and conflicting lengths
        elif name == b"transfer-encoding":
            answer.chunked = b"chunked" in value.lower()
        answer.headers.append((name, value))

    def on_headers_complete(self) -> None:
        answer = self.answer
        assert answer is not None  # only fed while an answer is under way
        if answer.complete:
            return
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:  # informational: the final answer follows on the same parser
            answer.headers, answer.length, answer.chunked = [], None, False
            return
        answer.status = status
        answer.keep_alive = parser.should_keep_alive()
        answer.headed()

    def on_body(self, body: bytes) -> None:
        answer = self.answer
        assert answer is not None  # only fed while an answer is under way
        if answer.complete:
            answer.keep_alive = False
            return
        answer.parts.append(body)
        answer.buffered += len(body)
        if answer.buffered > HIGH_WATER:
            self.pause_reading()
        answer.wake()

    def on_message_complete(self) -> None:
        answer = self.answer
        assert answer is not None  # only fed while an answer is under way
        if answer.status and not answer.complete:  # not the end of an informational answer
            answer.finish()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._wake_writer()
        if self.answer is not None:
            self.answer.lost()
        self._disarm()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_writer()

    def _wake_writer(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def drain(self) -> None:
        while self._writing_paused and not self.lost:
            self._drained = self.loop.create_future()
            await self._drained

    def start(self, head: bytes, *, head_only: bool, timeout: float) -> Answer:
        """Send the request head (and a small body with it) and expect an answer."""
        assert self.transport is not None
        answer = Answer(self, head_only=head_only)
        self.answer = answer
        if self._parser is None or self._head_only:
            self._parser = httptools.HttpResponseParser(self)
        self._head_only = head_only
        self.used += 1
        self._timeout = timeout
        self._last = now = self.loop.time()
        if self._timer is None or self._due > now + timeout:
            self._arm(now + timeout)
        self.transport.write(head)
        return answer

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self._last = self.loop.time()
        self.transport.write(data)

    def waiting(self) -> None:
        """The consumer waits for the provider from now (time spent sending on is not a stall)."""
        self._last = self.loop.time()

    def _arm(self, due: float) -> None:
        self._disarm()
        self._due = due
        self._timer = self.loop.call_at(due, self._check_timeout)

    def _check_timeout(self) -> None:
        self._timer = None
        answer = self.answer
        if answer is None or answer.complete or answer.error is not None:
            return  # idle (or over): the next answer arms it again
        due = self._last + self._timeout
        now = self.loop.time()
        if self._reading_paused or due > now:
            self._arm(max(due, now + 0.01))
            return
        answer.fail(AnswerTimeout("no data within the read timeout"))
        self.abort()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None and not self.lost:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self.lost:
            self._reading_paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self._disarm()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self._disarm()
        if self.transport is not None:
            self.transport.abort()
