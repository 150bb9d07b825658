"""Parts of MOSIP's auth request the sandbox does not model are refused by name, never dropped.

An authentication that silently dropped `biometrics` or `addressLine1` would succeed on fewer
factors than the partner sent. An absent, null or empty part (what MOSIP's clients send for a
factor they do not use) is ignored, as MOSIP ignores it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.id_registry.conftest import ADMIN, codes, demo_of, envelope, ida_path, people
from tests.id_registry.sealed_client import new_identity
from tests.id_registry.test_sealed import onboard

pytestmark = pytest.mark.anyio
BANK = "bank-kyc"
FINGER = [{"data": {"bioType": "Finger", "bioSubType": "Left IndexFinger", "bioValue": "AAAA"}}]
EN = [{"language": "eng", "value": "1 Main Street"}]
# (where in `request`, value): MOSIP IDA 1.2's RequestDTO factors and IdentityDTO attributes
EMPTY: tuple[Any, ...] = (None, [], "", {})
UNIMPLEMENTED: list[tuple[str, Any]] = [
    ("biometrics", FINGER),
    ("staticPin", "1234"),
    ("keyBindedTokens", [{"type": "WLA", "token": "x", "format": "jwt"}]),
    ("password", {"hash": "x", "salt": "y"}),
    *((f"demographics.{name}", EN) for name in ("addressLine1", "addressLine2", "addressLine3")),
    *((f"demographics.{name}", EN) for name in ("location1", "location2", "location3")),
    ("demographics.postalCode", "10101"),
    ("demographics.dobType", [{"language": "eng", "value": "VERIFIED"}]),
]


def with_part(body: dict[str, Any], where: str, value: Any) -> dict[str, Any]:
    request = dict(body["request"])
    if where.startswith("demographics."):
        request["demographics"] = {**request["demographics"], where.split(".")[1]: value}
    else:
        request[where] = value
    return {**body, "request": request}


async def audit_rows(client) -> int:
    return len((await client.get("/v1/audit", params={"limit": 1000}, headers=ADMIN)).json())


@pytest.mark.parametrize("kind", ["auth", "kyc"])
async def test_each_unimplemented_part_is_refused_by_name_and_changes_nothing(client, kind):
    person = (await people(client))[0]
    good = envelope(person["UIN"], kind=kind, demographics=demo_of(person))
    before = await audit_rows(client)
    for where, value in UNIMPLEMENTED:
        response = await client.post(ida_path(kind), json=with_part(good, where, value))
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["response"] is None and codes(answer) == ["IDA-MLC-009"], (where, answer)
        message = answer["errors"][0]["errorMessage"]
        assert message.startswith(f"Invalid Input Parameter - request.{where}"), message
        assert "not implemented" in message
    assert await audit_rows(client) == before
    # the same request without the part authenticates
    ok = (await client.post(ida_path(kind), json=good)).json()
    assert ok["errors"] is None, ok


async def test_absent_null_or_empty_parts_are_ignored_as_mosip_ignores_them(client):
    person = (await people(client))[0]
    good = envelope(person["UIN"], demographics=demo_of(person))
    for where, _ in UNIMPLEMENTED:
        for empty in EMPTY:
            body = with_part(good, where, empty)
            answer = (await client.post(ida_path("auth"), json=body)).json()
            assert answer["errors"] is None and answer["response"]["authStatus"] is True, (
                where,
                empty,
                answer,
            )


async def test_only_an_unimplemented_factor_is_refused_by_name_not_as_no_factor(client):
    person = (await people(client))[0]
    body = envelope(person["UIN"], biometrics=None)
    body["request"]["biometrics"] = FINGER
    answer = (await client.post(ida_path("auth"), json=body)).json()
    assert codes(answer) == ["IDA-MLC-009"]  # was IDA-MLC-008 "no authentication type"
    assert "request.biometrics" in answer["errors"][0]["errorMessage"]


async def test_a_sealed_request_with_an_unimplemented_part_is_refused_by_name(client):
    party, api_key = await onboard(client, new_identity(BANK))
    person = (await people(client))[0]
    good = envelope(person["UIN"], demographics=demo_of(person))
    for where, value in (("biometrics", FINGER), ("demographics.postalCode", "10101")):
        sealed = party.seal(with_part(good, where, value))
        response = await client.post(ida_path("auth", BANK, api_key), **party.post_args(sealed))
        answer = response.json()
        assert codes(answer) == ["IDA-MLC-009"], answer
        assert answer["errors"][0]["errorMessage"].startswith(
            f"Invalid Input Parameter - request.{where}"
        )
    sealed = party.seal(good)
    response = await client.post(ida_path("auth", BANK, api_key), **party.post_args(sealed))
    assert response.json()["response"]["authStatus"] is True
