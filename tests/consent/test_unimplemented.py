"""What the Consent BB spec defines and the sandbox does not implement is refused by name.

`revisionId` on the policy list and on webhooks (which keep no revisions here) was accepted and
ignored, answering as if it had applied. Now: 400 problem details naming it, an empty value
taken as absent; where `revisionId` is implemented it still works.
"""

from __future__ import annotations

import pytest

from services.consent.main import app
from tests.consent.conftest import ORG
from tests.govstack_conformance import load_contract, undeclared_parameters

pytestmark = pytest.mark.anyio
HOOK = {"webhook": {"payloadUrl": "http://127.0.0.1:9/hook", "secretKey": "s" * 16}}


async def test_revision_id_where_not_implemented_is_refused_by_name(consent):
    created = await consent.client.post("/config/webhook/", json=HOOK, headers=ORG)
    assert created.status_code == 200, created.text
    webhook_id = created.json()["webhook"]["id"]
    for path in ("/config/policies/", "/config/webhooks/", f"/config/webhook/{webhook_id}/"):
        refused = await consent.client.get(path, params={"revisionId": "r1"}, headers=ORG)
        assert refused.status_code == 400, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        detail = refused.json()["detail"]
        assert "revisionId" in detail and "not implemented" in detail, detail
        plain = await consent.client.get(path, headers=ORG)
        empty = await consent.client.get(path, params={"revisionId": ""}, headers=ORG)
        assert plain.status_code == empty.status_code == 200
        assert empty.json() == plain.json()


async def test_a_webhook_content_type_other_than_json_is_refused_by_name(consent):
    """Deliveries are JSON: a form-encoded webhook would get JSON labelled as a form."""
    before = (await consent.client.get("/config/webhooks/", headers=ORG)).json()
    form = {"webhook": {**HOOK["webhook"], "contentType": "application/x-www-form-urlencoded"}}
    refused = await consent.client.post("/config/webhook/", json=form, headers=ORG)
    assert refused.status_code == 400, refused.text
    assert "webhook.contentType" in refused.json()["detail"]
    assert (await consent.client.get("/config/webhooks/", headers=ORG)).json() == before
    json_hook = {"webhook": {**HOOK["webhook"], "contentType": "application/json"}}
    created = await consent.client.post("/config/webhook/", json=json_hook, headers=ORG)
    assert created.status_code == 200, created.text
    path = f"/config/webhook/{created.json()['webhook']['id']}/"
    assert (await consent.client.put(path, json=form, headers=ORG)).status_code == 400
    shown = (await consent.client.get(path, headers=ORG)).json()["webhook"]
    assert shown["contentType"] == "application/json"


async def test_revision_id_where_implemented_still_selects_the_revision(consent):
    policy = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0]
    path = f"/config/policy/{policy['id']}/"
    first = (await consent.client.get(path, headers=ORG)).json()["revision"]
    shown = await consent.client.get(path, params={"revisionId": first["id"]}, headers=ORG)
    assert shown.status_code == 200 and shown.json()["revision"]["id"] == first["id"]


def test_every_spec_parameter_is_declared():
    """A query parameter the spec defines but a route does not declare would be dropped by
    FastAPI unseen: each is declared (implemented, or refused as above)."""
    assert undeclared_parameters(app.openapi(), load_contract("consent-openapi.yaml")) == []
