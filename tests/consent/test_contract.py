"""The served API against the GovStack Consent BB OpenAPI (1.1.0-rc1): paths, methods,
statuses, request envelopes, response keys and schema fields; then a live walk of every
operation checking its status and top-level keys."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.consent.conftest import ORG, SCHOOL_ENROLMENT_ID
from tests.govstack_conformance import Recorder

pytestmark = pytest.mark.anyio

SPEC = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "contracts"
    / "govstack"
    / "consent-openapi.yaml"
)
METHODS = ("get", "put", "post", "delete", "patch")
SPEC_PREFIXES = ("/config/", "/service/", "/audit/")
# spec schema -> the served schema that implements it
SCHEMAS = {
    "Policy": "PolicyPublic",
    "DataAgreement": "DataAgreementPublic",
    "Individual": "IndividualPublic",
    "ConsentRecord": "ConsentRecordPublic",
    "Revision": "RevisionPublic",
    "Signature": "SignaturePublic",
    "Webhook": "WebhookPublic",
    "DataAgreementAttribute": "DataAgreementAttribute",
    "Controller": "Controller",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC.exists():
        pytest.skip(f"contract file not present (needs the shared contracts checkout): {SPEC}")
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    if "anyOf" in schema:  # Optional[...] in the served schema
        schema = next(resolve(document, s) for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


async def test_every_spec_operation_is_served_with_its_statuses(consent, spec):
    served = (await consent.client.get("/openapi.json")).json()
    for path, method, operation in operations(spec):
        assert path in served["paths"], path
        assert method in served["paths"][path], (method, path)
        mine = served["paths"][path][method]
        assert set(operation["responses"]) <= set(mine["responses"]), (method, path)
        assert "422" not in mine["responses"]
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                names = {p["name"] for p in mine.get("parameters", [])}
                assert parameter["name"] in names, (method, path, parameter["name"])

        spec_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if spec_body:
            served_body = resolve(
                served, mine["requestBody"]["content"]["application/json"]["schema"]
            )
            for key in spec_body["schema"].get("required", []):
                assert key in served_body.get("required", []), (method, path, key)

        ok = operation["responses"]["200"].get("content", {}).get("application/json")
        if ok:
            served_ok = resolve(
                served, mine["responses"]["200"]["content"]["application/json"]["schema"]
            )
            assert set(ok["schema"].get("properties", {})) <= set(served_ok["properties"]), (
                method,
                path,
            )


async def test_no_invented_paths_under_the_spec_prefixes(consent, spec):
    served = (await consent.client.get("/openapi.json")).json()
    for path, item in served["paths"].items():
        if path.startswith(SPEC_PREFIXES):
            assert path in spec["paths"], path
            assert set(item) <= set(spec["paths"][path]), path


async def test_schemas_carry_the_spec_fields(consent, spec):
    served = (await consent.client.get("/openapi.json")).json()["components"]["schemas"]
    for name, mine in SCHEMAS.items():
        theirs = spec["components"]["schemas"][name]
        embedded = {"dataAgreement"} if name == "DataAgreementAttribute" else set()
        assert set(theirs["properties"]) - embedded <= set(served[mine]["properties"]), name
        assert set(theirs.get("required", [])) <= set(served[mine]["properties"]), name


async def test_live_walk_of_every_operation(consent, spec):
    """Every operation answers 200 with the spec's keys, and its body validates (openapi-core)."""
    c = consent.client
    recorder = Recorder(spec)
    person = {**ORG, "X-ConsentBB-IndividualId": "tok-walk"}
    calls: list[tuple[str, str, dict[str, Any], Any, set[str]]] = []

    async def call(
        method: str,
        path: str,
        template: str,
        headers: dict[str, str] = ORG,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await c.request(method, path, headers=headers, json=json, params=params)
        assert response.status_code == 200, (method, path, response.text)
        recorder.record(template, response)
        spec_ok = spec["paths"][template][method]["responses"]["200"]
        keys = set(
            spec_ok.get("content", {})
            .get("application/json", {})
            .get("schema", {})
            .get("properties", {})
        )
        assert keys <= set(response.json()), (method, template)
        calls.append((method, template, {}, None, keys))
        result: dict[str, Any] = response.json()
        return result

    policy_body = {"policy": {"name": "P", "version": "1", "url": "https://x/p"}}
    policy = (await call("post", "/config/policy/", "/config/policy/", json=policy_body))["policy"]
    pid = policy["id"]
    await call("get", f"/config/policy/{pid}/", "/config/policy/{policyId}/")
    await call("put", f"/config/policy/{pid}/", "/config/policy/{policyId}/", json=policy_body)
    await call("get", f"/config/policy/{pid}/revisions/", "/config/policy/{policyId}/revisions/")
    await call("get", "/config/policies/", "/config/policies/")
    await call("get", f"/service/policy/{pid}/", "/service/policy/{policyId}/")

    agreement = (await c.get(f"/config/data-agreement/{SCHOOL_ENROLMENT_ID}/", headers=ORG)).json()
    body = {"dataAgreement": {**agreement["dataAgreement"], "policy": pid, "id": None}}
    created = await call("post", "/config/data-agreement/", "/config/data-agreement/", json=body)
    aid = created["dataAgreement"]["id"]
    da = "/config/data-agreement/{dataAgreementId}/"
    await call("get", f"/config/data-agreement/{aid}/", da)
    await call("put", f"/config/data-agreement/{aid}/", da, json=body)
    await call("get", "/config/data-agreements/", "/config/data-agreements/")
    await call(
        "get", f"/service/data-agreement/{aid}/", "/service/data-agreement/{dataAgreementId}/"
    )
    await call(
        "get", "/service/verification/data-agreements/", "/service/verification/data-agreements/"
    )
    await call("get", "/audit/data-agreements/", "/audit/data-agreements/")
    await call("get", f"/audit/data-agreement/{aid}/", "/audit/data-agreement/{dataAgreementId}/")

    ind = {"individual": {"externalId": "tok-walk"}}
    iid = (await call("post", "/config/individual/", "/config/individual/", json=ind))[
        "individual"
    ]["id"]
    await call("get", f"/config/individual/{iid}/", "/config/individual/{individualId}/")
    await call("get", "/config/individuals/", "/config/individuals/")
    other = {"individual": {"externalId": "tok-walk-2"}}
    await call("post", "/service/individual/", "/service/individual/", json=other)
    await call("get", f"/service/individual/{iid}/", "/service/individual/{individualId}/")
    await call(
        "put", f"/service/individual/{iid}/", "/service/individual/{individualId}/", json=ind
    )
    await call("get", "/service/individuals/", "/service/individuals/")

    hook = {"webhook": {"payloadUrl": "http://127.0.0.1:9/h", "secretKey": "0123456789"}}
    wid = (await call("post", "/config/webhook/", "/config/webhook/", json=hook))["webhook"]["id"]
    await call("get", f"/config/webhook/{wid}/", "/config/webhook/{webhookId}/")
    await call("put", f"/config/webhook/{wid}/", "/config/webhook/{webhookId}/", json=hook)
    await call("get", "/config/webhooks/", "/config/webhooks/")
    await call("delete", f"/config/webhook/{wid}/", "/config/webhook/{webhookId}/")

    rec = "/service/individual/record"
    draft = await call(
        "post",
        f"{rec}/consent-record/draft/",
        f"{rec}/consent-record/draft/",
        params={"individualId": iid, "dataAgreementId": aid},
    )
    signed = await call(
        "post",
        f"{rec}/consent-record/",
        f"{rec}/consent-record/",
        headers=person,
        json={"consentRecord": draft["consentRecord"], "signature": draft["signature"]},
    )
    rid = signed["consentRecord"]["id"]
    await call("get", f"{rec}/consent-record/", f"{rec}/consent-record/", headers=person)
    created_record = await call(
        "post",
        f"{rec}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
        f"{rec}/data-agreement/{{dataAgreementId}}/",
        headers=person,
        params={"individualId": iid},
    )
    await call(
        "get",
        f"{rec}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
        f"{rec}/data-agreement/{{dataAgreementId}}/",
        headers=person,
    )
    await call(
        "get",
        f"{rec}/data-agreement/{aid}/all/",
        f"{rec}/data-agreement/{{dataAgreementId}}/all/",
        headers=person,
    )
    sig = f"{rec}/consent-record/{{consentRecordId}}/signature/"
    second = created_record["consentRecord"]["id"]
    await call(
        "post",
        f"{rec}/consent-record/{second}/signature/",
        sig,
        headers=person,
        json={"signature": {}},
    )
    await call(
        "put",
        f"{rec}/consent-record/{second}/signature/",
        sig,
        headers=person,
        json={"signature": {"signature": "s"}},
    )
    await call(
        "put",
        f"{rec}/consent-record/{rid}/",
        f"{rec}/consent-record/{{consentRecordId}}/",
        headers=person,
        json={"consentRecord": {"optIn": False}},
    )
    await call(
        "get", "/service/verification/consent-records/", "/service/verification/consent-records/"
    )
    await call(
        "get",
        f"/service/verification/consent-record/{rid}/",
        "/service/verification/consent-record/{consentRecordId}/",
    )
    await call("get", "/audit/consent-records/", "/audit/consent-records/")
    await call("get", f"/audit/consent-record/{rid}/", "/audit/consent-record/{consentRecordId}/")
    await call("delete", f"{rec}/", f"{rec}/", headers=person)
    await call("delete", f"/config/data-agreement/{aid}/", da)
    await call("delete", f"/config/policy/{pid}/", "/config/policy/{policyId}/")

    walked = {(m, p) for m, p, *_ in calls}
    assert walked == {(m, p) for p, m, _ in operations(spec)}
    assert recorder.operations() == walked
    assert recorder.violations() == []


async def test_bad_input_is_the_documented_400(consent, spec):
    for path, method, _ in operations(spec):
        if "{" not in path:
            continue
        concrete = path.replace("{", "").replace("}", "")
        for name in ("policyId", "dataAgreementId", "individualId", "webhookId", "consentRecordId"):
            concrete = concrete.replace(name, "not-a-uuid")
        headers = {**ORG, "X-ConsentBB-IndividualId": "tok-none"}
        body = {"x": 1} if method in ("post", "put") else None
        response = await consent.client.request(method, concrete, headers=headers, json=body)
        assert response.status_code == 400, (method, path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
