"""Big bodies over a real socket: refused early, and the service's memory stays put.

The report: 8 unauthenticated 50 MB bodies took a service from 157 to 574 MB. Here the same
eight (and eight authenticated ones past the limit) go to a service in its own process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from services.kernel.limits import MiB
from tests.security.hostile_support import AUTH, in_subprocess

pytestmark = pytest.mark.anyio

BODY = 50 * MiB
CHUNK = b"[" * (256 * 1024)
CREATE = "/data/births/1.0/create"


async def hostile_body(sent: list[int]) -> AsyncIterator[bytes]:
    for _ in range(BODY // len(CHUNK)):
        sent.append(len(CHUNK))
        yield CHUNK


async def post(client: httpx.AsyncClient, headers: dict[str, str], sized: bool) -> tuple[int, int]:
    """The status (0 when the server closed before the client could read one) and bytes sent."""
    sent: list[int] = []
    framing = {"content-length": str(BODY)} if sized else {}
    try:
        response = await client.post(
            CREATE,
            content=hostile_body(sent),
            headers={**headers, **framing, "content-type": "application/json"},
        )
        status = response.status_code
    except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
        status = 0
    return status, sum(sent)


async def status_line(url: str, headers: dict[str, str]) -> str:
    """Announce a 50 MB body, send 64 KiB of it, and read the status line the server sends."""
    host, port = url.removeprefix("http://").split(":")
    lines = [f"POST {CREATE} HTTP/1.1", f"host: {host}", f"content-length: {BODY}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    async with await anyio.connect_tcp(host, int(port)) as stream:
        await stream.send(head + CHUNK[: 64 * 1024])
        with anyio.fail_after(5):
            data = await stream.receive()
    return data.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("credentials", ["none", "valid"])
async def test_eight_50_mb_bodies_are_refused_without_growing_the_service(
    tmp_path: Path, credentials: str
):
    headers = AUTH["registries"] if credentials == "valid" else {}
    expected = 413 if credentials == "valid" else 401
    with in_subprocess("registries", tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=20.0) as client:
            before = service.rss_bytes()
            started = time.perf_counter()
            results: list[tuple[int, int]] = []

            async def one(sized: bool) -> None:
                results.append(await post(client, headers, sized))

            async with anyio.create_task_group() as group:
                for index in range(8):
                    group.start_soon(one, index % 2 == 0)
            elapsed = time.perf_counter() - started
            growth = service.rss_bytes() - before
            health = await client.get("/healthz")
            answer = await status_line(service.url, headers)
    assert health.status_code == 200
    assert answer.startswith(f"HTTP/1.1 {expected} "), answer
    # a client that writes its whole body before reading finds the connection closed early
    assert all(status in (expected, 0) for status, _ in results), results
    assert all(sent < 16 * MiB for _, sent in results), results  # socket buffers, not 50 MB
    assert growth < 32 * MiB, f"the service grew by {growth / MiB:.0f} MiB"
    assert elapsed < 15.0
