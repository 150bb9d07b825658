"""The IDA routes matched ahead of the app's route list (`ida.first`) answer exactly what the
routes behind them answered: same requests matched, same answers, same route in the scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Match

from services.id_registry.ida.first import FirstRoute
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import demo_of, envelope, ida_path, people

pytestmark = pytest.mark.anyio


def _scope(method: str, path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": root_path + path, "root_path": root_path}


def test_first_routes_match_what_their_routes_match(make_app) -> None:
    app = make_app()
    firsts = [route for route in app.router.routes if isinstance(route, FirstRoute)]
    assert [route.route.name for route in firsts] == ["auth", "kyc", "otp"]
    assert app.router.routes[: len(firsts)] == firsts
    for first in firsts:
        api: APIRoute = first.route
        for method, path in [
            ("POST", ida_path(api.name)),
            ("POST", ida_path(api.name) + "/"),
            ("POST", ida_path(api.name) + "/extra"),
            ("POST", f"/idauthentication/v1/{api.name}/lk//key"),
            ("GET", ida_path(api.name)),
            ("POST", "/healthz"),
            ("GET", "/healthz"),
        ]:
            for root_path in ("", "/behind-a-proxy"):
                scope = _scope(method, path, root_path)
                match, child = first.matches(scope)
                expected, expected_child = api.matches(scope)
                if expected is Match.FULL:
                    assert match is Match.FULL
                    assert child["route"] is api
                    assert child["endpoint"] is api.endpoint
                    assert child["path_params"] == expected_child["path_params"]
                else:  # a 405 (PARTIAL) or anything else is left to the route behind
                    assert match is Match.NONE, (method, path)
        assert app.url_path_for(api.name, misp_license_key="l", partner_id="p", api_key="k") == (
            f"/idauthentication/v1/{api.name}/l/p/k"
        )


def _comparable(response: Any) -> tuple[int, Any]:
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text
    if isinstance(body, dict):
        body.pop("responseTime", None)
    return response.status_code, body


async def test_answers_are_those_of_the_routes_behind(make_app) -> None:
    with_first = make_app()
    without = make_app()
    without.router.routes[:] = [r for r in without.router.routes if not isinstance(r, FirstRoute)]
    answers: list[list[tuple[int, Any]]] = []
    for app in (with_first, without):
        async with serve_in_process(app) as client:
            person = (await people(client, limit=1))[0]
            uin = person["UIN"]
            good = envelope(uin, txn="FIRST1", demographics=demo_of(person))
            wrong = envelope(uin, txn="FIRST2", demographics={"dob": "1900/01/01"})
            calls = [
                client.post(ida_path("auth"), json=good),
                client.post(ida_path("auth"), json=wrong),
                client.post(ida_path("auth", key="not-the-key"), json=good),
                client.post(ida_path("auth"), content=b"{not json"),
                client.get(ida_path("auth")),
                client.post(ida_path("auth") + "/", json=good),
                client.post(ida_path("kyc"), json=envelope(uin, kind="kyc", txn="FIRST3")),
                client.post(ida_path("otp"), json=envelope(uin, kind="otp", txn="FIRST4")),
                client.post("/idauthentication/v1/auth/x//y", json=good),
            ]
            answers.append([_comparable(await call) for call in calls])
    assert answers[0] == answers[1]
    assert answers[0][0][1]["response"]["authStatus"] is True
    assert answers[0][1][1]["response"]["authStatus"] is False
    assert answers[0][4][0] == 405
