"""OAuth 2.0 errors (RFC 6749 section 5.2 and 4.1.2.1, RFC 6750 section 3) and their one renderer.

The rest of the service answers in MOSIP's `errors[]` envelope; OIDC endpoints answer as OAuth
clients expect, so their routes render these errors themselves (`OAuthRoute`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from services.kernel.errors import DomainError

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(DomainError):
    """`{"error": <code>, "error_description": <text>}` with the status RFC 6749/6750 give."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status_code: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description, code=error, status_code=status_code, headers=headers)


class RedirectError(OAuthError):
    """An /authorize error sent back to the client's (already validated) redirect URI."""

    def __init__(self, error: str, description: str, *, redirect_uri: str, state: str | None):
        super().__init__(error, description, status_code=302)
        self.redirect_uri = redirect_uri
        self.state = state


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status_code=401)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_token(description: str) -> OAuthError:
    challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return OAuthError(
        "invalid_token", description, status_code=401, headers={"WWW-Authenticate": challenge}
    )


def redirect_to(uri: str, **params: str | None) -> str:
    """`uri` with `params` added to its query (keeping the query it already has)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def render(error: OAuthError) -> Response:
    if isinstance(error, RedirectError):
        location = redirect_to(
            error.redirect_uri,
            error=error.code,
            error_description=error.message,
            state=error.state,
        )
        return RedirectResponse(location, status_code=302)
    body = {"error": error.code, "error_description": error.message}
    return JSONResponse(body, status_code=error.status, headers={**NO_STORE, **error.headers})


class OAuthRoute(APIRoute):
    """A route whose `OAuthError`s are answered in OAuth's shape, not the service's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except OAuthError as error:
                return render(error)

        return route
