"""A scripted HTTP/1.1 server on loopback for the upstream client's tests: every answer is
written byte for byte by the test, so chunking, close-delimited bodies, fragments, stalls and
closed connections are exactly what the test says."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int  # which connection (1, 2, ...) it came on


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[bool]]  # True: keep the connection


@dataclass
class RawServer:
    handler: Handler
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    closed_by_client: int = 0
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.writers.add(writer)
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                try:
                    request = await _read_request(reader, number)
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.closed_by_client += 1
                    return
                self.requests.append(request)
                if not await self.handler(request, writer):
                    return
        except ConnectionError:
            pass  # the client reset the connection while being answered
        finally:
            self.open_now -= 1
            self.writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader, number: int) -> Received:
    head = await reader.readuntil(b"\r\n\r\n")
    line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = {}
    for raw in lines:
        if raw:
            name, value = raw.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(data[:-2])
        body = b"".join(parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method, target, headers, body, number)


@contextlib.asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[RawServer]:
    server = RawServer(handler)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        for writer in list(server.writers):
            writer.close()
        await until(lambda: not server.writers)


def answer(body: bytes = b"ok", *, status: str = "200 OK", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\ncontent-type: text/plain\r\n"
        f"{extra}\r\n"
    ).encode() + body


async def write(writer: asyncio.StreamWriter, *pieces: bytes) -> None:
    """Each piece as its own write (the client sees fragments)."""
    for piece in pieces:
        writer.write(piece)
        await writer.drain()


async def until(condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
    """Poll until `condition()` holds, with a deadline."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)
