"""The IDA routes, matched ahead of the app's route list.

FastAPI keeps included routers nested: an IDA path is tried against every route of the routers
included before the IDA one (probes, docs, reset...), then matched a second time inside its own
router, and its handler wrapped in two exit stacks and an exception wrapper, several times what
an authentication's own work costs. Each `FirstRoute` stands in front of one IDA `APIRoute`: a
prefix test (all any other request pays), then the route's own regular expression, so it
matches exactly the same requests; the scope gets the same `route`, `endpoint` and path
parameters; the endpoint is called as it is. Its errors reach the app's exception middleware,
whose handlers render them as before. The `APIRoute`s stay where they are, documented in the
OpenAPI schema and answering what these leave to them (405 for another method, say).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send


class FirstRoute(BaseRoute):
    """One IDA route (its endpoint takes the request, see `routes.DirectRoute`), matched first."""

    def __init__(self, route: APIRoute) -> None:
        self.route = route
        self.path_format = route.path_format  # what FastAPI's telemetry names the route by
        self._prefix = route.path_format.split("{", 1)[0]
        self._regex = route.path_regex
        self._methods = frozenset(route.methods or ())
        self._endpoint: Any = route.endpoint

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in self._methods:
            return Match.NONE, {}
        path = get_route_path(scope)
        if not path.startswith(self._prefix):
            return Match.NONE, {}
        found = self._regex.match(path)
        if found is None:
            return Match.NONE, {}
        params = {**scope.get("path_params", {}), **found.groupdict()}
        return Match.FULL, {"endpoint": self._endpoint, "path_params": params, "route": self.route}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the `APIRoute` behind answers it

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


def route_first(app: FastAPI, routes: list[BaseRoute]) -> None:
    """Put a `FirstRoute` for each of `routes` ahead of the app's routes."""
    app.router.routes[:0] = [FirstRoute(route) for route in routes if isinstance(route, APIRoute)]
