"""The IDA routes' wire: the request body read cheaply and compact JSON answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect


async def read_body(request: Request) -> bytes:
    """The body read from `receive` itself: Starlette's `body()` goes through an async
    generator, a measurable share of an authentication's cost."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def header(request: Request, name: bytes) -> str | None:
    """The first `name` header (lower case), as Starlette's `headers.get` reads it, without
    building its `Headers` first."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


_JSON = (b"content-type", b"application/json")


class OrjsonResponse(JSONResponse):
    """The same compact UTF-8 JSON as `JSONResponse`, several times cheaper to render."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is not None:
            super().init_headers(headers)
            return
        self.raw_headers = [(b"content-length", str(len(self.body)).encode()), _JSON]
