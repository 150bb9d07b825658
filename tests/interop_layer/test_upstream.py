"""The forwarding client's answers: every framing HTTP/1.1 allows, fragments, HEAD, 1xx,
request bodies both buffered and streamed, and providers that break off or stall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.interop_layer.routing.pool import UpstreamPool, request_head, split_url
from services.interop_layer.routing.upstream import Answer, AnswerTimeout, BrokenOff
from tests.interop_layer.rawserver import Received, answer, raw_server, write
from tests.support.polling import until

pytestmark = pytest.mark.anyio


async def call(
    pool: UpstreamPool,
    url: str,
    method: bytes = b"GET",
    target: bytes = b"/x",
    body: bytes | AsyncIterator[bytes] | None = None,
    *,
    length: int | None = None,
    timeout: float = 5.0,
) -> Answer:
    origin, _ = split_url(url)
    chunked = False
    if isinstance(body, bytes):
        framing = b"content-length: %d\r\n" % len(body)
    elif body is None:
        framing = b""
    elif length is None:
        framing, chunked = b"transfer-encoding: chunked\r\n", True
    else:
        framing = b"content-length: %d\r\n" % length
    head = request_head(method, target, origin, b"x-test: 1\r\n", framing=framing)
    return await pool.send(origin, method, head, body, chunked=chunked, timeout=timeout)


async def body_of(pool: UpstreamPool, url: str, result: Answer) -> bytes:
    try:
        return b"".join([part async for part in result.iter_body()])
    finally:
        pool.release(split_url(url)[0], result)


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    upstream = UpstreamPool(size=4, connect_timeout=2.0)
    yield upstream
    await upstream.close()


async def test_sized_answer_headers_and_reuse(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(request.target.encode(), extra="X-Provider: yes\r\n"))
        return True

    async with raw_server(handler) as server:
        for n in range(3):
            result = await call(pool, server.url, target=b"/items/%d?q=1" % n)
            assert result.status == 200 and result.length == len(b"/items/0?q=1")
            assert (b"x-provider", b"yes") in result.headers
            assert await body_of(pool, server.url, result) == b"/items/%d?q=1" % n
        assert server.connections == 1
        assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"
        assert server.requests[0].headers["x-test"] == "1"


async def test_chunked_answer_in_fragments_then_reuse(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        if request.target == "/chunked":
            head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            await write(writer, head[:9], head[9:], b"5\r\nhel", b"lo\r\n", b"6\r\n world\r\n")
            await write(writer, b"0\r\n\r\n")
        else:
            await write(writer, *(bytes([b]) for b in answer(b"after")))  # byte by byte
        return True

    async with raw_server(handler) as server:
        result = await call(pool, server.url, target=b"/chunked")
        assert result.length is None and result.chunked
        assert await body_of(pool, server.url, result) == b"hello world"
        again = await call(pool, server.url, target=b"/next")
        assert await body_of(pool, server.url, again) == b"after"
        assert server.connections == 1


@pytest.mark.parametrize(
    "status_line", [b"HTTP/1.1 200 OK\r\nconnection: close\r\n", b"HTTP/1.0 200 OK\r\n"]
)
async def test_close_delimited_answer(pool, status_line):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, status_line + b"content-type: text/plain\r\n\r\n", b"until ", b"eof")
        return False  # the end of the connection is the end of the body

    async with raw_server(handler) as server:
        result = await call(pool, server.url)
        assert await body_of(pool, server.url, result) == b"until eof"
        second = await call(pool, server.url)
        assert await body_of(pool, server.url, second) == b"until eof"
        assert server.connections == 2  # never reused


async def test_connection_close_on_a_sized_answer_is_honoured(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(b"bye", extra="Connection: close\r\n"))
        return True  # the server would even keep it: the client must not

    async with raw_server(handler) as server:
        for _ in range(2):
            result = await call(pool, server.url)
            assert await result.read() == b"bye"
            pool.release(split_url(server.url)[0], result)
        assert server.connections == 2


async def test_head_has_a_length_but_no_body_and_the_connection_goes_on(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        if request.method == "HEAD":
            await write(writer, b"HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n")
        else:
            await write(writer, answer(b"body"))
        return True

    async with raw_server(handler) as server:
        head = await call(pool, server.url, method=b"HEAD")
        assert head.length == 42 and await head.read() == b""
        pool.release(split_url(server.url)[0], head)
        result = await call(pool, server.url)
        assert await body_of(pool, server.url, result) == b"body"
        assert server.connections == 1


async def test_informational_answers_are_skipped(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        final = answer(b"final", status="201 Created")
        await write(writer, b"HTTP/1.1 100 Continue\r\n\r\n", final)
        return True

    async with raw_server(handler) as server:
        result = await call(pool, server.url, method=b"POST", body=b"{}")
        assert result.status == 201
        assert await body_of(pool, server.url, result) == b"final"


async def test_request_bodies_buffered_chunked_and_sized_streams(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(b"%d %s" % (len(request.body), request.body[:3])))
        return True

    async def stream() -> AsyncIterator[bytes]:
        for n in range(40):
            yield bytes([97 + n % 26]) * 50_000

    async with raw_server(handler) as server:
        small = await call(pool, server.url, method=b"PUT", body=b"abc")
        assert await body_of(pool, server.url, small) == b"3 abc"
        chunked = await call(pool, server.url, method=b"POST", body=stream())
        assert await body_of(pool, server.url, chunked) == b"2000000 aaa"
        assert server.requests[1].headers["transfer-encoding"] == "chunked"
        sized = await call(pool, server.url, method=b"POST", body=stream(), length=2_000_000)
        assert await body_of(pool, server.url, sized) == b"2000000 aaa"
        assert server.requests[2].headers["content-length"] == "2000000"
        assert server.connections == 1


async def test_a_large_answer_streams_whole_to_a_slow_reader(pool):
    size = 3_000_000

    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(bytes(range(256)) * (size // 256)))
        return True

    async with raw_server(handler) as server:
        result = await call(pool, server.url)
        received = bytearray()
        async for part in result.iter_body():
            received += part
            await asyncio.sleep(0)  # the reader is slower than loopback: reading pauses
        pool.release(split_url(server.url)[0], result)
        assert received == bytes(range(256)) * (size // 256)


@pytest.mark.parametrize("chunked", [False, True])
async def test_provider_breaking_off_mid_answer(pool, chunked):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        if chunked:
            await write(writer, b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello")
        else:
            await write(writer, b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello")
        return False

    async with raw_server(handler) as server:
        result = await call(pool, server.url)
        assert result.status == 200
        with pytest.raises(BrokenOff):
            await body_of(pool, server.url, result)


async def test_malformed_answer_is_broken_off(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, b"NOT HTTP AT ALL\r\n\r\n")
        return False

    async with raw_server(handler) as server:
        with pytest.raises(BrokenOff):
            await call(pool, server.url)


async def test_no_answer_within_the_read_timeout(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await writer.wait_closed()  # never answers; the client gives up and closes
        return False

    async with raw_server(handler) as server:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AnswerTimeout):
            await call(pool, server.url, timeout=0.2)
        assert 0.15 < loop.time() - started < 2.0


async def test_each_answer_on_a_kept_connection_has_its_own_read_timeout(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        if request.target == "/stall":
            await writer.wait_closed()
            return False
        await write(writer, answer(b"ok"))
        return True

    async with raw_server(handler) as server:
        loop = asyncio.get_running_loop()
        result = await call(pool, server.url, timeout=60.0)  # arms the connection's timer late
        assert await body_of(pool, server.url, result) == b"ok"
        started = loop.time()
        with pytest.raises(AnswerTimeout):
            await call(pool, server.url, target=b"/stall", timeout=0.2)
        assert 0.15 < loop.time() - started < 2.0
        assert server.connections == 1  # the stalled call was on the kept connection
        result = await call(pool, server.url, timeout=0.3)  # a new connection, a new timer
        kept = result._conn
        assert await body_of(pool, server.url, result) == b"ok"
        await until(lambda: kept._timer is None, "the idle connection's timer lapsed")
        assert not kept.lost  # it fired on an idle connection: nothing to time out
        result = await call(pool, server.url, timeout=5.0)
        assert await body_of(pool, server.url, result) == b"ok"
        assert server.connections == 2


async def test_a_stall_mid_answer_times_out(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await writer.wait_closed()
        return False

    async with raw_server(handler) as server:
        result = await call(pool, server.url, timeout=0.2)
        with pytest.raises(AnswerTimeout):
            await body_of(pool, server.url, result)
