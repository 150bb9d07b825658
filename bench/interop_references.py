"""Reference hops for `bench.interop_layer`: one-route proxies that authenticate and log nothing.

- `aiohttp_proxy_app`: FastAPI forwarding with a pooled aiohttp session (the reference of the
  issue's first measurements);
- `raw_proxy_app`: a bare ASGI callable forwarding with the mediator's own client
  (`services.interop_layer.routing.pool`): the floor of one Python hop with that client, so the
  mediator's distance to it is the cost of its own work (authentication, rights, tracing, log);
- `start_nginx`: Debian's nginx as a plain reverse proxy, when installed (what a hop costs
  outside Python);
- `start_static_provider`: nginx answering the provider's endpoint with fixed JSON, when
  installed (a provider that costs a fraction of what it serves, for benchmarks of the hop).

The upstream is `BENCH_PROXY_UPSTREAM`; `/proxy/<path>?<query>` is forwarded as `/<path>?<query>`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.interop_layer.routing.pool import UpstreamPool, request_head, split_url

_DROP = frozenset({b"date", b"server", b"content-length", b"connection", b"transfer-encoding"})


def aiohttp_proxy_app() -> FastAPI:
    upstream = os.environ["BENCH_PROXY_UPSTREAM"]
    state: dict[str, aiohttp.ClientSession] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=64, limit_per_host=64)
        state["session"] = aiohttp.ClientSession(connector=connector, auto_decompress=False)
        yield
        await state["session"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/proxy/{path:path}")
    async def proxy(path: str, request: Request) -> Response:
        url = f"{upstream}/{path}?{request.url.query}"
        async with state["session"].get(url) as upstream_response:
            body = await upstream_response.read()
            media_type = upstream_response.headers.get("content-type")
            return Response(body, status_code=upstream_response.status, media_type=media_type)

    return app


def raw_proxy_app() -> ASGIApp:
    origin, base = split_url(os.environ["BENCH_PROXY_UPSTREAM"])
    pools: list[UpstreamPool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # no lifespan work; answer the protocol
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if not pools:
            pools.append(UpstreamPool(size=64, connect_timeout=2.0))
        pool = pools[0]
        target = base + scope["raw_path"][len(b"/proxy") :]
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        head = request_head(b"GET", target, origin, b"", framing=b"")
        answer = await pool.send(origin, b"GET", head, None, chunked=False, timeout=10.0)
        try:
            body = await answer.read()
        finally:
            pool.release(origin, answer)
        headers = [pair for pair in answer.headers if pair[0] not in _DROP]
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


NGINX = "nginx (reference proxy)"
_NGINX_CONF = """
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    upstream provider {{ server {upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location /proxy/ {{
            proxy_pass http://provider/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


_STATIC_CONF = """
daemon off;
master_process off;
pid {tmp}/nginx-static.pid;
error_log {tmp}/nginx-static-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location = {path} {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


def _run_nginx(binary: str, conf: Path, port: int, tmp: Path) -> subprocess.Popen[bytes] | None:
    """nginx in one process with `conf`, once it accepts on `port`; None if it does not start."""
    process = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if process.poll() is not None:
                return None
            time.sleep(0.05)
    process.kill()
    return None


def start_nginx(upstream: str, port: int, tmp: Path) -> subprocess.Popen[bytes] | None:
    """Debian's nginx as a plain reverse proxy in one process (so its CPU is that process's),
    or None where nginx is not installed."""
    binary = nginx_binary()
    if binary is None:
        return None
    conf = tmp / "nginx.conf"
    host = upstream.removeprefix("http://")
    conf.write_text(_NGINX_CONF.format(tmp=tmp, upstream=host, port=port))
    return _run_nginx(binary, conf, port, tmp)


def start_static_provider(
    path: str, body: bytes, port: int, tmp: Path
) -> subprocess.Popen[bytes] | None:
    """nginx answering GET `path` (any query) with the JSON `body`, or None where nginx is not
    installed."""
    if b"'" in body or b"\\" in body:
        raise ValueError("the static body is written into nginx's configuration unescaped")
    binary = nginx_binary()
    if binary is None:
        return None
    conf = tmp / "nginx-static.conf"
    conf.write_text(_STATIC_CONF.format(tmp=tmp, port=port, path=path, body=body.decode()))
    return _run_nginx(binary, conf, port, tmp)
