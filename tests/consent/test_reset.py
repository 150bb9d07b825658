"""`POST /admin/reset` on the consent service: records and decisions gone, agreements seeded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.consent.conftest import ORG

pytestmark = pytest.mark.anyio
ADMIN_KEY = {"X-DPI-Admin-Key": "dpi-admin"}


async def test_reset_empties_and_seeds_again(consent):
    agreements = await consent.client.get("/config/data-agreements/", headers=ORG)
    await consent.individual("tok-reset")
    await consent.consent("tok-reset")
    answer = await consent.decide("tok-reset")
    assert answer["decision"] == "permit"

    for headers in ({}, {"X-DPI-Admin-Key": "wrong"}, ORG):
        refused = await consent.client.post("/admin/reset", headers=headers)
        assert refused.status_code == 401 and "admin" in refused.text.lower()
    reset = await consent.client.post("/admin/reset", headers=ADMIN_KEY)
    assert reset.status_code == 200, reset.text

    gone = await consent.client.get(f"/v1/decisions/{answer['decisionId']}", headers=ORG)
    assert gone.status_code == 404
    assert (await consent.decide("tok-reset"))["decision"] == "deny"
    again = await consent.client.get("/config/data-agreements/", headers=ORG)
    assert again.status_code == 200
    assert ids(again.json()) == ids(agreements.json()) != []
    await consent.individual("tok-reset")
    await consent.consent("tok-reset")
    second = await consent.client.post("/admin/reset", headers=ADMIN_KEY)
    assert second.status_code == 200, second.text  # the seeded rows restored this time
    assert (await consent.decide("tok-reset"))["decision"] == "deny"
    third = await consent.client.get("/config/data-agreements/", headers=ORG)
    assert ids(third.json()) == ids(agreements.json())


def ids(listing: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((a["id"], a["version"]) for a in listing["dataAgreement"])
