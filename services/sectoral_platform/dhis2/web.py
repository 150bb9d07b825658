"""Path forms (`/api/X.json`, `/api/42/X`), fast JSON responses, DHIS2 timestamps and booleans."""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_VERSIONED = re.compile(r"^/api/\d{2}(/|$)")
# paths whose tail is not a DHIS2 resource name: app files and routes' sub-paths stay as sent
_VERBATIM = re.compile(r"^/api/(apps/[^/]+/|routes/[^/]+/run/)")


def normalise_path(path: str) -> str:
    """`/api/42/dataElements.json` -> `/api/dataElements`."""
    if _VERSIONED.match(path):
        path = "/api" + path[len("/api/") + 2 :]
    if _VERBATIM.match(path):
        return path
    if path.startswith("/api/") and path.endswith(".json"):
        path = path[: -len(".json")]
    if path.startswith("/api/") and len(path) > len("/api/") and path.endswith("/"):
        path = path.rstrip("/")
    return path


class Dhis2PathMiddleware:
    """Rewrites DHIS2's alternative path forms before routing, so no redirect is ever sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            rewritten = normalise_path(path)
            if rewritten != path:
                scope = dict(scope)
                scope["path"] = rewritten
                scope["raw_path"] = rewritten.encode()
        await self.app(scope, receive, send)


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json"
    )


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Query booleans are case-insensitive (`totalPages=True`)."""
    if value is None or value == "":
        return default
    return value.strip().lower() in {"true", "1", "yes"}
