"""The Route API (DHIS2 2.41/2.42): route metadata, each auth type against a loopback echo server,
wildcards, timeouts, the response cap, the target allow-list and the authorities that may run."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.kernel.credentials import CLIENT_KEY_HEADER, client_key
from services.kernel.testing import serve_on_loopback
from tests.sectoral_platform.extension_helpers import user_with

pytestmark = pytest.mark.anyio


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(path: str, request: Request) -> Response:
        if path == "slow":
            await asyncio.sleep(2)  # answers after the route's 1 s timeout has ended the call
        if path == "big":
            return Response(b"x" * (300 * 1024), media_type="text/plain")
        body = (await request.body()).decode()
        return JSONResponse(
            {
                "method": request.method,
                "path": "/" + path,
                "query": list(request.query_params.multi_items()),
                "headers": dict(request.headers),
                "body": body,
            },
            headers={"X-Internal": "secret", "ETag": "v1"},
        )

    return app


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    with serve_on_loopback(echo_app()) as url:
        yield url


async def create(client: httpx.AsyncClient, **route: Any) -> str:
    route.setdefault("name", f"Route {secrets.token_hex(4)}")
    answer = await client.post("/api/routes", json=route)
    assert answer.status_code == 201, answer.text
    assert answer.json()["response"]["klass"] == "org.hisp.dhis.route.Route"
    uid: str = answer.json()["response"]["uid"]
    return uid


async def run(
    client: httpx.AsyncClient, ident: str, tail: str = "", **kwargs: Any
) -> httpx.Response:
    return await client.request(
        kwargs.pop("method", "GET"), f"/api/routes/{ident}/run{tail}", **kwargs
    )


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        (
            {"type": "http-basic", "username": "svc", "password": "pw"},
            lambda h, q: h["authorization"] == "Basic " + base64.b64encode(b"svc:pw").decode(),
        ),
        (
            {"type": "api-token", "token": "d2pat_abc"},
            lambda h, q: h["authorization"] == "ApiToken d2pat_abc",
        ),
        (
            {"type": "api-headers", "headers": {"X-API-KEY": "k1"}},
            lambda h, q: h["x-api-key"] == "k1",
        ),
        (
            {"type": "api-query-params", "queryParams": {"token": "t1"}},
            lambda h, q: ["token", "t1"] in q,
        ),
    ],
    ids=["http-basic", "api-token", "api-headers", "api-query-params"],
)
async def test_each_auth_type_reaches_the_target_and_never_the_caller(
    shared_client: httpx.AsyncClient, echo: str, auth: dict[str, Any], check: Any
) -> None:
    c = shared_client
    uid = await create(c, url=f"{echo}/get", auth=auth, headers={"X-Static": "s"})
    shown = (await c.get(f"/api/routes/{uid}")).json()
    assert shown["auth"]["type"] == auth["type"]
    text = (await c.get(f"/api/routes/{uid}")).text + (await c.get("/api/routes")).text
    secret_values = ["pw", "d2pat_abc", "k1", "t1"]
    assert not any(f'"{value}"' in text for value in secret_values)
    answer = await run(
        c, uid, params={"q": "1"}, headers={"Cookie": "x=1", "Accept": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert check(seen["headers"], seen["query"])
    assert seen["path"] == "/get" and ["q", "1"] in seen["query"]
    assert seen["headers"]["x-forwarded-user"] == "admin" and seen["headers"]["x-static"] == "s"
    assert "cookie" not in seen["headers"]  # only DHIS2's allowed request headers go through
    assert "x-internal" not in answer.headers and answer.headers["etag"] == "v1"


async def test_wildcard_routes_post_and_sub_paths(
    shared_client: httpx.AsyncClient, echo: str
) -> None:
    c = shared_client
    code = f"echo-{secrets.token_hex(3)}"
    uid = await create(c, code=code, url=f"{echo}/api/**")
    posted = await run(c, code, "/things/1.json", method="POST", json={"a": 1})
    assert posted.json()["method"] == "POST" and posted.json()["path"] == "/api/things/1.json"
    assert posted.json()["body"] == '{"a":1}'
    assert (await run(c, uid, "/x/%2e%2e/y")).status_code == 400
    plain = await create(c, url=f"{echo}/fixed")
    refused = await run(c, plain, "/more")
    assert refused.status_code == 502 and "does not allow sub-paths" in refused.json()["message"]


async def test_timeouts_and_the_response_cap(shared_client: httpx.AsyncClient, echo: str) -> None:
    c = shared_client
    slow = await create(c, url=f"{echo}/slow", responseTimeoutSeconds=1)
    timed_out = await run(c, slow)
    assert timed_out.status_code == 504 and timed_out.json()["status"] == "ERROR"
    big = await create(c, url=f"{echo}/big")
    capped = await run(c, big)
    assert capped.status_code == 502 and "262144" in capped.json()["message"]
    for bad in (0, 61, "5"):
        answer = await c.post(
            "/api/routes", json={"name": "t", "url": echo, "responseTimeoutSeconds": bad}
        )
        assert answer.status_code == 409


@pytest.mark.parametrize(
    "route",
    [
        {"name": "x", "url": "https://registry.example.org/api"},
        {"name": "x", "url": "http://10.0.0.5/"},
        {"name": "x", "url": "http://127.0.0.1@evil.example/"},
        {"name": "x", "url": "ftp://127.0.0.1/"},
        {"name": "x", "url": "mediator:/etc/passwd"},
        {"name": "x", "url": "mediator:/r1/../admin/messagelog/records"},
        {"name": "x", "url": "http://127.0.0.1:9/a/%2e%2e/admin"},
        {"name": "x"},
        {"url": "http://127.0.0.1/"},
        {"name": "x", "url": "http://127.0.0.1/", "auth": {"type": "oauth2-client-credentials"}},
        {"name": "x", "url": "http://127.0.0.1/", "auth": {"type": "http-basic", "username": "u"}},
        {"name": "x", "url": "http://127.0.0.1/", "cronExpression": "0 * * * *"},
    ],
)
async def test_bad_routes_are_refused_and_nothing_is_stored(
    shared_client: httpx.AsyncClient, route: dict[str, Any]
) -> None:
    before = (await shared_client.get("/api/routes")).json()["pager"]["total"]
    answer = await shared_client.post("/api/routes", json=route)
    assert answer.status_code in (400, 409), answer.text
    assert answer.json()["status"] == "ERROR"
    assert (await shared_client.get("/api/routes")).json()["pager"]["total"] == before


async def test_the_allow_list_opens_other_origins(settings_for: Any) -> None:
    from services.kernel.testing import serve_in_process
    from services.sectoral_platform.main import create_app
    from services.sectoral_platform.settings import SectoralSettings
    from tests.sectoral_platform.conftest import ADMIN, QUIET

    settings = settings_for(
        "sectoral_platform",
        cls=SectoralSettings,
        route_remote_servers_allowed=["https://*.example.org"],
        **QUIET,
    )
    async with serve_in_process(create_app(settings)) as c:
        c.auth = ADMIN
        ok = await c.post(
            "/api/routes", json={"name": "r", "url": "https://registry.example.org/x"}
        )
        assert ok.status_code == 201
        no = await c.post("/api/routes", json={"name": "s", "url": "https://example.com/x"})
        assert no.status_code == 409 and "not permitted" in no.json()["message"]


async def test_who_may_manage_and_run_a_route(shared_client: httpx.AsyncClient, echo: str) -> None:
    c = shared_client
    uid = await create(c, url=f"{echo}/x", authorities=["F_FACILITY_FINDER"])
    runner = await user_with(c, ["F_FACILITY_FINDER"])
    stranger = await user_with(c, ["F_DATAVALUE_ADD"])
    assert (await run(c, uid, auth=runner)).status_code == 200
    refused = await run(c, uid, auth=stranger)
    assert refused.status_code == 403 and refused.json()["message"] == "User not authorized"
    assert (await c.get(f"/api/routes/{uid}", auth=stranger)).status_code == 404  # private
    assert (await run(c, "nope", auth=runner)).status_code == 404
    created = await c.post("/api/routes", auth=stranger, json={"name": "s", "url": echo})
    assert created.status_code == 403 and created.json()["errorCode"] == "E3000"
    assert (await c.delete(f"/api/routes/{uid}", auth=runner)).status_code == 403
    manager = await user_with(c, ["F_ROUTE_PRIVATE_ADD", "F_ROUTE_DELETE"])
    public = await c.post(
        "/api/routes",
        auth=manager,
        json={"name": "p", "url": echo, "sharing": {"public": "r-------"}},
    )
    assert public.status_code == 403  # public sharing needs F_ROUTE_PUBLIC_ADD
    own = await c.post("/api/routes", auth=manager, json={"name": "own", "url": f"{echo}/own"})
    own_uid = own.json()["response"]["uid"]
    assert (await run(c, own_uid, auth=manager)).json()["path"] == "/own"
    replaced = await c.put(
        f"/api/routes/{own_uid}",
        auth=manager,
        json={"name": "own", "url": f"{echo}/new", "disabled": True},
    )
    assert replaced.status_code == 200
    assert (await run(c, own_uid, auth=manager)).status_code == 404  # disabled
    assert (await c.delete(f"/api/routes/{own_uid}", auth=manager)).status_code == 200
    assert (await c.get(f"/api/routes/{own_uid}")).status_code == 404


async def test_an_omitted_secret_is_kept_on_replace(
    shared_client: httpx.AsyncClient, echo: str
) -> None:
    c = shared_client
    auth = {"type": "api-headers", "headers": {"X-API-KEY": "keep-me"}}
    uid = await create(c, url=f"{echo}/k", auth=auth)
    shown = (await c.get(f"/api/routes/{uid}")).json()
    assert (await c.put(f"/api/routes/{uid}", json=shown)).status_code == 200
    assert (await run(c, uid)).json()["headers"]["x-api-key"] == "keep-me"


async def test_a_mediator_route_calls_as_the_platforms_member(
    shared_client: httpx.AsyncClient, echo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mediator is played by the echo server: the platform adds its own member headers."""
    monkeypatch.setenv("DPI_INTEROP_LAYER_URL", echo)
    c = shared_client
    uid = await create(
        c,
        url="mediator:/r1/DPI/GOV/CRVS/registries/fhir/Location/**",
        headers={"X-Road-Client": "DPI/GOV/MOE/emis"},
    )
    seen = (await run(c, uid, "/XD-R01-D01-F001")).json()
    assert seen["path"] == "/r1/DPI/GOV/CRVS/registries/fhir/Location/XD-R01-D01-F001"
    assert seen["headers"]["x-road-client"] == "DPI/GOV/MOH/hmis"  # not the header it was given
    assert seen["headers"][CLIENT_KEY_HEADER.lower()] == client_key("DPI/GOV/MOH/hmis", None)
    assert "traceparent" in seen["headers"]
    by_url = await create(c, url=f"{echo}/r1/DPI/GOV/CRVS/registries/fhir/Location")
    assert (await run(c, by_url)).json()["headers"]["x-road-client"] == "DPI/GOV/MOH/hmis"
    unknown = await c.get("/api/routes", params={"filter": "name:eq:x"})
    assert unknown.status_code == 409 and "`filter`" in unknown.json()["message"]
    ignored = await c.get("/api/routes", params={"clientFlag": "1"})  # as DHIS2 ignores it
    assert ignored.status_code == 200
