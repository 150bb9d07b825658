"""The services' HTTP protocol: a corked answer leaves in one socket write, and is whole."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from services.kernel.serving import CorkedTransport, cork_of
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
