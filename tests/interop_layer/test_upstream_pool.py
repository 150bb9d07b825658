"""The forwarding client's pool: the bound, reuse, connections the provider closed, retrying only
when resending is safe, refused connections and shutdown."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator

import pytest

from services.interop_layer.routing.pool import UpstreamPool, split_url
from services.interop_layer.routing.upstream import Answer, BrokenOff, ConnectFailed
from tests.interop_layer.rawserver import Received, answer, raw_server, until, write
from tests.interop_layer.test_upstream import body_of, call

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    upstream = UpstreamPool(size=2, connect_timeout=2.0)
    yield upstream
    await upstream.close()


async def test_concurrent_calls_share_at_most_pool_size_connections(pool):
    release = asyncio.Event()

    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        await write(writer, answer(request.target.encode()))
        return True

    async with raw_server(handler) as server:

        async def one(n: int) -> bytes:
            result = await call(pool, server.url, target=b"/%d" % n)
            return await body_of(pool, server.url, result)

        calls = [asyncio.create_task(one(n)) for n in range(6)]
        await until(lambda: len(server.requests) == 2)
        release.set()
        assert await asyncio.gather(*calls) == [b"/%d" % n for n in range(6)]
        assert server.most_open == 2 and server.connections == 2


async def test_an_idle_connection_the_provider_closed_is_not_used(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(b"once"))
        return False  # closes after every answer, without saying so

    async with raw_server(handler) as server:
        first = await call(pool, server.url)
        assert await body_of(pool, server.url, first) == b"once"
        origin = split_url(server.url)[0]
        for method in (b"GET", b"POST"):
            await until(lambda: pool.idle(origin) == 0)  # the mediator has seen the close
            result = await call(pool, server.url, method=method, body=b"x")
            assert await body_of(pool, server.url, result) == b"once"
        assert [r.connection for r in server.requests] == [1, 2, 3]


def closing_on_reuse(seen: list[int]):
    """Answers the first request of a connection, closes it unanswered on the second (the race
    of a keep-alive timeout with a new request)."""

    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        if request.connection in seen:
            return False
        seen.append(request.connection)
        await write(writer, answer(b"answer %d" % request.connection))
        return True

    return handler


async def test_an_idempotent_call_is_sent_once_more_after_a_stale_connection(pool):
    async with raw_server(closing_on_reuse([])) as server:
        first = await call(pool, server.url)
        assert await body_of(pool, server.url, first) == b"answer 1"
        retried = await call(pool, server.url, method=b"PUT", body=b"same again")
        assert await body_of(pool, server.url, retried) == b"answer 2"
        assert [(r.method, r.connection) for r in server.requests] == [
            ("GET", 1),
            ("PUT", 1),
            ("PUT", 2),
        ]


async def test_a_post_is_never_resent(pool):
    async with raw_server(closing_on_reuse([])) as server:
        first = await call(pool, server.url)
        await body_of(pool, server.url, first)
        with pytest.raises(BrokenOff):
            await call(pool, server.url, method=b"POST", body=b"pay once")
        assert [r.method for r in server.requests] == ["GET", "POST"]


async def test_a_streamed_body_is_never_resent(pool):
    async def once() -> AsyncIterator[bytes]:
        yield b"streamed"

    async with raw_server(closing_on_reuse([])) as server:
        first = await call(pool, server.url)
        await body_of(pool, server.url, first)
        with pytest.raises(BrokenOff):
            await call(pool, server.url, method=b"PUT", body=once())
        assert len(server.requests) == 2


async def test_a_new_connection_closed_unanswered_is_not_retried(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        return False

    async with raw_server(handler) as server:
        with pytest.raises(BrokenOff):
            await call(pool, server.url)
        assert len(server.requests) == 1


async def test_an_abandoned_answer_closes_its_connection(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(b"x" * 500_000))
        return True

    async with raw_server(handler) as server:
        result = await call(pool, server.url)
        pool.release(split_url(server.url)[0], result)  # the client went away mid-answer
        again = await call(pool, server.url)
        assert len(await body_of(pool, server.url, again)) == 500_000
        assert server.connections == 2


async def test_nothing_listening_is_connect_failed(pool):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectFailed):
        await call(pool, f"http://127.0.0.1:{port}")


async def test_close_ends_idle_connections_and_refuses_new_calls(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer())
        return True

    async with raw_server(handler) as server:
        result = await call(pool, server.url)
        await body_of(pool, server.url, result)
        await pool.close()
        await until(lambda: server.closed_by_client == 1)
        with pytest.raises(ConnectFailed):
            await call(pool, server.url)


async def test_a_released_answer_is_freed_without_the_cycle_collector(pool):
    async def handler(request: Received, writer: asyncio.StreamWriter) -> bool:
        await write(writer, answer(b"ok"))
        return True

    async with raw_server(handler) as server:
        assert await body_of(pool, server.url, await call(pool, server.url)) == b"ok"
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                assert await body_of(pool, server.url, await call(pool, server.url)) == b"ok"
            garbage = [o for o in gc.get_objects() if isinstance(o, Answer)]
        finally:
            gc.enable()
        assert garbage == []  # each answer went with its last reference, parser included
