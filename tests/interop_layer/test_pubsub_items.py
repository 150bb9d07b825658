"""A GovStack `SubscriptionItem`'s names may repeat the path and the caller, never contradict them.

`subscriberId` naming another subsystem (subscribing on its behalf is not implemented) and an
`eventType` other than the path's were accepted and ignored by an update; both are refused 400
(`Client.BadRequest`) naming the field, on create and update, and change nothing.
"""

from __future__ import annotations

import pytest

from tests.interop_layer.support import EDUCATION, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio
ROOM = f"/r1/{REGISTRIES}"
URL = f"{ROOM}/api/v1/subs/birth-registered"


def govstack_id(member: str) -> dict[str, str]:
    instance, member_class, member_code, subsystem = member.split("/")
    return {
        "instanceId": instance,
        "memberClass": member_class,
        "memberCode": member_code,
        "applicationCode": subsystem,
    }


async def test_subscriber_id_and_event_type_must_agree_with_caller_and_path(mediator):
    _, client = mediator
    me = client_headers(EDUCATION)
    other = {"delivery": "PULL", "subscriberId": govstack_id(HEALTH)}
    refused = await client.post(URL, json=other, headers=me)
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"] == "Client.BadRequest"
    assert "subscriberId" in refused.json()["message"]
    assert (await client.get(URL, headers=me)).status_code == 404
    assert (await client.get(URL, headers=client_headers(HEALTH))).status_code == 404

    own = {"delivery": "PULL", "subscriberId": govstack_id(EDUCATION)}
    created = await client.post(URL, json=own, headers=me)
    assert created.status_code == 200, created.text
    assert created.json()["subscriberId"] == govstack_id(EDUCATION)

    for body, field in (
        (
            {"delivery": "PULL", "options": {"TTL": 5}, "subscriberId": govstack_id(HEALTH)},
            "subscriberId",
        ),
        ({"delivery": "PULL", "options": {"TTL": 5}, "eventType": "death-registered"}, "eventType"),
    ):
        patched = await client.patch(URL, json=body, headers=me)
        assert patched.status_code == 400, patched.text
        assert field in patched.json()["message"]
    assert (await client.get(URL, headers=me)).json() == created.json()
