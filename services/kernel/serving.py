"""uvicorn's HTTP protocol with a cork: an app that has its whole answer at hand (the mediator's
held answers) sends the head and the body in one socket write instead of two.

Run a service with `uvicorn --http services.kernel.serving:HttpProtocol …` (the launcher, the
compose file and the benchmarks do). The cork is offered in the ASGI scope as
`scope["extensions"]["dpi.cork"]`; without this protocol it is absent and nothing changes.
Such an app may also hand a whole answer (head and sized body) to `answer_whole` (`own_cycle`),
which writes it as uvicorn's `send` would, in one write, without its per-header checks and two
coroutines (`answer_whole`: a tenth of a forwarded call's CPU went to uvicorn's `send`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from starlette.types import Message, Scope, Send
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

CORK = "dpi.cork"


def _marking(expression: re.Pattern[bytes]) -> bytes:
    """A `bytes.translate` table changing exactly the bytes `expression` finds: a text it leaves
    unchanged holds none of them (one pass in C where a search costs several times as much)."""
    return bytes(byte ^ 1 if expression.search(bytes([byte])) else byte for byte in range(256))


_BAD_NAMES, _BAD_VALUES = _marking(HEADER_RE), _marking(HEADER_VALUE_RE)  # uvicorn's checks


class CorkedTransport:
    """The connection's transport; between `cork` and `uncork` writes are joined into one."""

    __slots__ = ("_held", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self._held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self.transport.write(data)
        else:
            self._held.append(data)

    def cork(self) -> None:
        if self._held is None:
            self._held = []

    def uncork(self) -> None:
        held, self._held = self._held, None
        if held:
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.uncork()  # what was written goes before the connection ends
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's, with the cork, and one keep-alive timer per connection that stays armed while
    answers follow each other (uvicorn arms one after every answer and cancels it when the next
    request arrives: a fiftieth of a forwarded call's CPU); it closes a connection idle for
    `timeout_keep_alive` as uvicorn's does."""

    _idle_since: float | None = None  # when the last answer left (None: a request is under way)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.corked = CorkedTransport(transport)
        super().connection_made(self.corked)  # type: ignore[arg-type]
        # uvicorn formats an access line's arguments whenever its logger has a handler, even
        # when the logger drops it (the services disable `uvicorn.access`: their own access log
        # carries the trace); checked per connection, so a logger turned on later is followed
        if self.access_log and not self.access_logger.isEnabledFor(logging.INFO):
            self.access_log = False

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._disarm_keep_alive()

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None  # busy: an armed timer finds it so, and lapses

    def on_response_complete(self) -> None:
        """uvicorn's: the next pipelined request starts, else the connection waits idle."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self._keep_alive_due
            )

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        if self._idle_since is None:
            return  # answering: armed again once the answer has left
        left = self._idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def _disarm_keep_alive(self) -> None:
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[CORK] = self.corked


def cork_of(scope: Scope) -> CorkedTransport | None:
    """The connection's cork when the service runs on `HttpProtocol`."""
    extensions = scope.get("extensions")
    return extensions.get(CORK) if extensions else None


HTTP_PROTOCOL = "services.kernel.serving:HttpProtocol"


def own_cycle(send: Send) -> RequestResponseCycle | None:
    """The server's request cycle when `send` is its own (nothing wraps it), for `answer_whole`.

    Found through `send` itself: kept in the scope, it made the scope and the cycle a reference
    cycle, a dozen objects a call left to the garbage collector (a tenth of the hop's CPU)."""
    cycle = getattr(send, "__self__", None)
    return cycle if type(cycle) is RequestResponseCycle else None


def answer_whole(cycle: RequestResponseCycle, start: Message, body: Message) -> bool:
    """Write `start` and its last `body` message in one write, as uvicorn's `send` would write
    them; False (nothing written) for anything else it would do: an access line, a paused or
    gone connection, framing other than an exact Content-Length, headers it would refuse."""
    if (
        cycle.response_started
        or cycle.disconnected
        or cycle.access_log
        or cycle.flow.write_paused
        or start["type"] != "http.response.start"
        or body["type"] != "http.response.body"
        or body.get("more_body", False)
    ):
        return False
    status_line = STATUS_LINE.get(start["status"])
    data: bytes = body.get("body", b"")
    headers = [*cycle.default_headers, *start.get("headers", ())]
    names = [name for name, _ in headers]
    if (
        status_line is None
        or cycle.scope["method"] == "HEAD"
        or names.count(b"content-length") != 1
        or b"transfer-encoding" in names
        or b"connection" in names
    ):
        return False
    length = headers[names.index(b"content-length")][1]
    joined = b"".join(names)
    if (
        not length.isdigit()
        or int(length) != len(data)
        or not joined.islower()
        or joined.translate(_BAD_NAMES) != joined
        or (values := b"".join([value for _, value in headers])).translate(_BAD_VALUES) != values
    ):
        return False
    lines = b"".join([b"%s: %s\r\n" % pair for pair in headers])
    if not cycle.keep_alive:
        lines += b"connection: close\r\n"
    cycle.response_started = cycle.response_complete = True
    cycle.waiting_for_100_continue = False
    cycle.transport.write(b"%s%s\r\n%s" % (status_line, lines, data))
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
    return True
