"""The services' HTTP protocol: a corked answer leaves in one socket write, and is whole."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from services.kernel.serving import CorkedTransport, answer_whole, cork_of, own_cycle
from services.kernel.testing import serve_on_loopback


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_writes_between_cork_and_uncork_leave_as_one() -> None:
    raw = Recording()
    corked = CorkedTransport(raw)
    corked.write(b"before")
    corked.cork()
    corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
    corked.write(b"body")
    assert raw.writes == [b"before"]
    corked.uncork()
    corked.write(b"after")
    assert raw.writes == [b"before", b"HTTP/1.1 200 OK\r\n\r\nbody", b"after"]
    assert corked.is_closing() is False  # everything else is the transport's


def test_closing_a_corked_transport_sends_what_it_holds_first() -> None:
    raw = Recording()
    corked = CorkedTransport(raw)
    corked.cork()
    corked.write(b"head")
    corked.close()
    assert raw.writes == [b"head"] and raw.closed


async def corking_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    cork = cork_of(scope)
    body = b"corked" if isinstance(cork, CorkedTransport) else b"no cork offered"
    if cork is not None:
        cork.cork()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
    if cork is not None:
        cork.uncork()


def test_the_services_protocol_offers_the_cork_and_answers_whole() -> None:
    with serve_on_loopback(corking_app) as url, httpx.Client() as client:
        for _ in range(3):  # keep-alive: every request on the connection gets it
            answer = client.get(url + "/")
            assert answer.status_code == 200 and answer.text == "corked"


HEADERS = [(b"content-type", b"application/json"), (b"x-road-id", b"abc")]
WRITTEN: list[bool] = []  # what `answer_whole` answered, call by call


async def whole_app(scope: Scope, receive: Receive, send: Send) -> None:
    """`/whole`: the answer handed to `answer_whole`; `/asgi`: the same through uvicorn's send;
    `/unsized`: no Content-Length, which `answer_whole` leaves to the server."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = b'{"answer":42}'
    headers = list(HEADERS)
    if path != "/unsized":
        headers.append((b"content-length", b"%d" % len(body)))
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    last = {"type": "http.response.body", "body": body}
    cycle = own_cycle(send)
    assert cycle is not None  # nothing wraps the server's send here
    written = path != "/asgi" and answer_whole(cycle, start, last)
    WRITTEN.append(written)
    if not written:
        await send(start)
        await send(last)


def raw_answers(url: str, path: str, count: int) -> bytes:
    """`count` requests on one keep-alive connection; every byte the server sent back."""
    host, port = url.removeprefix("http://").split(":")
    request = f"GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        received = b""
        for _ in range(count):
            sock.sendall(request)
            while not received.endswith(b"42}"):
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                received += chunk
            received += b"|"
    return received


def without_date(raw: bytes) -> bytes:
    return re.sub(rb"date: [^\r]*\r\n", b"", raw)


def test_a_whole_answer_leaves_as_uvicorns_send_would_write_it() -> None:
    WRITTEN.clear()
    with serve_on_loopback(whole_app, access_log=False) as url:
        whole = raw_answers(url, "/whole", 3)  # keep-alive: the cycle ends as uvicorn's does
        assert WRITTEN == [True, True, True]
        asgi = raw_answers(url, "/asgi", 3)
        assert without_date(whole) == without_date(asgi)
        assert whole.count(b"HTTP/1.1 200 OK\r\n") == 3 and b"content-length: 13\r\n" in whole
        with httpx.Client() as client:
            unsized = client.get(url + "/unsized")  # left to the server: chunked
    assert unsized.headers["transfer-encoding"] == "chunked" and unsized.json() == {"answer": 42}
    assert WRITTEN[-1] is False


@pytest.fixture
def access_logger() -> Iterator[logging.Logger]:
    """uvicorn's access logger, restored after the test (which turns it on or off)."""
    logger = logging.getLogger("uvicorn.access")
    disabled, level = logger.disabled, logger.level
    try:
        yield logger
    finally:
        logger.disabled = disabled
        logger.setLevel(level)


async def dropped(message: Message) -> None:
    pass


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_whole_answer_is_left_to_the_server_when_it_writes_an_access_line(
    access_logger: logging.Logger,
) -> None:
    WRITTEN.clear()
    with serve_on_loopback(whole_app) as url, httpx.Client() as client:
        access_logger.disabled = False  # the server's configuration has set its level: now on
        access_logger.setLevel(logging.INFO)
        lines = Lines()
        access_logger.addHandler(lines)
        try:
            answer = client.get(url + "/whole")  # a new connection reads the logger's state
        finally:
            access_logger.removeHandler(lines)
    assert answer.status_code == 200 and answer.json() == {"answer": 42} and WRITTEN == [False]
    assert any('"GET /whole HTTP/1.1" 200' in line for line in lines.lines)
    assert own_cycle(dropped) is None  # not the server's send: nothing to write on


def test_a_dropped_access_line_is_not_formatted_and_the_answer_leaves_whole(
    access_logger: logging.Logger,
) -> None:
    """The services disable uvicorn's access logger: then the server formats no access line
    (it did whenever the logger had a handler) and the whole answer is written at once."""
    WRITTEN.clear()
    with serve_on_loopback(whole_app) as url, httpx.Client() as client:  # access log "on"
        access_logger.setLevel(logging.INFO)
        access_logger.disabled = True  # as the services' logging set-up leaves it
        answer = client.get(url + "/whole")
    assert answer.status_code == 200 and answer.json() == {"answer": 42} and WRITTEN == [True]


def test_a_connection_is_kept_while_answering_and_closed_once_idle_long_enough() -> None:
    with serve_on_loopback(whole_app, access_log=False, keep_alive=0.3) as url:
        host, port = url.removeprefix("http://").split(":")
        request = f"GET /whole HTTP/1.1\r\nhost: {host}\r\n\r\n".encode()
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            answered = 0
            until = time.monotonic() + 1.0  # several timeouts' worth of answers back to back
            while time.monotonic() < until:
                sock.sendall(request)
                received = b""
                while not received.endswith(b"42}"):
                    chunk = sock.recv(65536)
                    assert chunk, f"closed while busy, after {answered} answers"
                    received += chunk
                answered += 1
            idle = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server once idle long enough
            assert 0.25 < time.monotonic() - idle < 3.0


def test_a_whole_answer_leaves_no_reference_cycle_behind() -> None:
    """Each request's cycle (and its scope) goes with its last reference, not with the cycle
    collector: keeping the cycle in its own scope left a dozen objects a call to the collector."""
    WRITTEN.clear()
    with serve_on_loopback(whole_app, access_log=False) as url:
        raw_answers(url, "/whole", 1)
        gc.collect()
        gc.disable()
        try:
            raw_answers(url, "/whole", 20)
            left = [o for o in gc.get_objects() if isinstance(o, RequestResponseCycle)]
        finally:
            gc.enable()
    assert WRITTEN == [True] * 21
    assert len(left) <= 1  # the connection's last one, which the protocol still holds


def stub_cycle() -> Any:
    """What `answer_whole` reads of a fresh request's cycle, on a recording transport."""
    flow = type("Flow", (), {"write_paused": False})()
    return type(
        "Cycle",
        (),
        {
            "response_started": False,
            "response_complete": False,
            "disconnected": False,
            "access_log": False,
            "flow": flow,
            "default_headers": [(b"server", b"uvicorn")],
            "scope": {"method": "GET"},
            "keep_alive": True,
            "transport": Recording(),
            "message_event": asyncio.Event(),
            "on_response": staticmethod(lambda: None),
        },
    )()


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"2"), (b"content-length", b"2")],
        [(b"content-length", b"3")],
        [(b"content-length", b"+2")],
        [],
        [(b"content-length", b"2"), (b"transfer-encoding", b"chunked")],
        [(b"content-length", b"2"), (b"connection", b"close")],
        [(b"content-length", b"2"), (b"X-Upper", b"a")],
        [(b"content-length", b"2"), (b"bad name", b"a")],
        [(b"content-length", b"2"), (b"x-ctl", b"a\x01b")],
        [(b"content-length", b"2"), (b"x-newline", b"a\r\nx-injected: 1")],
    ],
)
def test_a_whole_answer_uvicorn_would_write_otherwise_is_left_to_it(
    headers: list[tuple[bytes, bytes]],
) -> None:
    cycle = stub_cycle()
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    assert not answer_whole(cycle, start, {"type": "http.response.body", "body": b"ok"})
    assert cycle.transport.writes == [] and not cycle.response_started


def test_a_whole_answer_keeps_tabs_and_high_bytes_in_values_as_uvicorn_does() -> None:
    cycle = stub_cycle()
    headers = [(b"content-length", b"2"), (b"x-text", b"a\tb \xe9")]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    assert answer_whole(cycle, start, {"type": "http.response.body", "body": b"ok"})
    assert cycle.transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\ncontent-length: 2\r\nx-text: a\tb \xe9\r\n\r\nok"
    ]
