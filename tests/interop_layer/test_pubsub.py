"""GovStack IM pub/sub: event types, publish, PUSH with retries and dead letters, PULL/ack,
per-subscriber fields, and durability across a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from services.interop_layer.main import create_app
from services.kernel.credentials import mediator_key
from services.kernel.testing import serve_in_process
from tests.interop_layer.support import (
    ADMIN,
    EDUCATION,
    HEALTH,
    NIA,
    REGISTRIES,
    await_for,
    client_headers,
    serve,
)

pytestmark = pytest.mark.anyio

ROOM = f"/r1/{REGISTRIES}"
BIRTH = {"civilRegistrationId": "BR-1", "perSubscriber": {"nia-id-registry": {"token": "t-nia"}}}


def subscriber_app() -> FastAPI:
    app = FastAPI()
    app.state.failures = 0
    app.state.received = []
    app.state.headers = []

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        app.state.headers.append(dict(request.headers))
        if app.state.failures > 0:
            app.state.failures -= 1
            return Response(status_code=503)
        app.state.received.append(await request.json())
        return Response(status_code=204)

    return app


@pytest.fixture
def subscriber() -> Iterator[tuple[FastAPI, str]]:
    app = subscriber_app()
    with serve(app) as url:
        yield app, url


async def publish(client: Any, payload: dict[str, Any], event_type: str = "birth-registered"):
    return await client.post(
        f"{ROOM}/pub/v1/{event_type}", json=payload, headers=client_headers(REGISTRIES)
    )


async def subscribe(client: Any, member: str, **body: Any):
    response = await client.post(
        f"{ROOM}/api/v1/subs/birth-registered", json=body, headers=client_headers(member)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def deliveries(client: Any, **query: str) -> list[dict[str, Any]]:
    response = await client.get("/admin/pubsub/deliveries", params=query, headers=ADMIN)
    return list(response.json())


async def test_event_types_are_managed_by_the_room_owner(mediator):
    _, client = mediator
    owner = client_headers(REGISTRIES)
    url = f"{ROOM}/api/v1/eventType"
    created = await client.post(
        url, json={"eventType": "marriage-registered", "schema": {"type": "object"}}, headers=owner
    )
    assert created.status_code == 200
    again = await client.post(
        url, json={"eventType": "marriage-registered", "schema": {}}, headers=owner
    )
    assert again.status_code == 409
    bad_schema = await client.post(
        url, json={"eventType": "x", "schema": {"type": 7}}, headers=owner
    )
    assert bad_schema.status_code == 400
    stranger = await client.post(
        url, json={"eventType": "y", "schema": {}}, headers=client_headers(HEALTH)
    )
    assert stranger.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    listed = await client.get(url, headers=client_headers(HEALTH))
    assert listed.json() == ["birth-registered", "marriage-registered"]
    one = await client.get(f"{url}/birth-registered", headers=owner)
    assert one.json()["schema"]["required"] == ["civilRegistrationId"]
    assert (await client.get(f"{url}/nothing", headers=owner)).status_code == 204
    assert (await client.delete(f"{url}/marriage-registered", headers=owner)).status_code == 204
    assert (await client.delete(f"{url}/marriage-registered", headers=owner)).status_code == 404


async def test_publish_is_validated(mediator):
    _, client = mediator
    ok = await publish(client, {"civilRegistrationId": "BR-0"})
    assert ok.status_code == 201 and len(ok.json()["id"]) == 36
    wrapped = await client.post(
        f"{ROOM}/pub/v1/birth-registered",
        json={"eventType": "birth-registered", "event": {"civilRegistrationId": "BR-9"}},
        headers=client_headers(REGISTRIES),
    )
    assert wrapped.status_code == 201
    status = await client.get(
        f"{ROOM}/pub/v1/birth-registered/{wrapped.json()['id']}", headers=client_headers(REGISTRIES)
    )
    assert status.json()["event"] == {"civilRegistrationId": "BR-9"}
    assert status.json()["publisherId"]["memberCode"] == "CRVS"
    assert (await publish(client, {"civilRegistrationId": "BR-0"}, "nope")).status_code == 404
    invalid = await publish(client, {"child": "no id"})
    assert invalid.status_code == 400 and "schema" in invalid.json()["message"]
    national = await publish(client, {"civilRegistrationId": "BR-1", "mother": {"UIN": "123"}})
    assert national.status_code == 400 and "uin" in national.json()["message"]
    not_json = await client.post(
        f"{ROOM}/pub/v1/birth-registered", content=b"{oops", headers=client_headers(REGISTRIES)
    )
    assert not_json.status_code == 400
    foreign = await client.post(
        f"{ROOM}/pub/v1/birth-registered", json=BIRTH, headers=client_headers(HEALTH)
    )
    assert foreign.status_code == 500
    assert foreign.json()["type"] == "Server.ServerProxy.AccessDenied"


async def test_push_retries_with_backoff_until_the_subscriber_recovers(mediator, subscriber):
    _, client = mediator
    app, url = subscriber
    app.state.failures = 2
    sub = await subscribe(client, NIA, delivery="PUSH", pushUrl=f"{url}/hook")
    assert sub["subscriberId"]["memberCode"] == "NIA" and sub["options"] == {
        "TTL": 3600,
        "FIFO": False,
    }
    published = await publish(client, BIRTH)
    event_id = published.json()["id"]

    async def delivered() -> bool:
        return bool(app.state.received)

    await await_for(delivered, what="push delivery")
    (item,) = app.state.received
    assert item["id"] == event_id and item["eventType"] == "birth-registered"
    # Only this subscriber's own part of perSubscriber, merged in; nobody else's.
    assert item["event"] == {"civilRegistrationId": "BR-1", "token": "t-nia"}
    assert all(h["x-dpi-mediator-key"] == mediator_key() for h in app.state.headers)
    assert all(h["x-road-client"] == REGISTRIES for h in app.state.headers)

    async def settled() -> list[dict[str, Any]]:
        return await deliveries(client, subscriptionId=sub["id"], state="delivered")

    (delivery,) = await await_for(settled, what="delivery settled")
    assert delivery["attempts"] == 3
    logged = await client.get("/admin/messagelog/records?kind=delivery", headers=ADMIN)
    assert [r["statusCode"] for r in logged.json()["records"]] == [503, 503, 204]
    trace = logged.json()["records"][0]["traceId"]
    publish_record = await client.get(
        f"/admin/messagelog/records?xRoadId={published.headers['x-road-id']}", headers=ADMIN
    )
    assert publish_record.json()["records"][0]["traceId"] == trace  # one trace end to end


async def test_dead_letter_then_redelivery_on_demand(mediator, subscriber):
    _, client = mediator
    app, url = subscriber
    sub = await subscribe(client, NIA, delivery="PUSH", pushUrl="http://127.0.0.1:9/hook")
    await publish(client, BIRTH)

    async def dead() -> list[dict[str, Any]]:
        return await deliveries(client, state="dead")

    (letter,) = await await_for(dead, what="dead letter")
    assert letter["attempts"] == 4 and "unreachable" in letter["lastError"]
    patched = await client.patch(
        f"{ROOM}/api/v1/subs/birth-registered",
        json={"delivery": "PUSH", "pushUrl": f"{url}/hook"},
        headers=client_headers(NIA),
    )
    assert patched.status_code == 201
    refused = await client.post("/admin/pubsub/redeliver", json={}, headers=ADMIN)
    assert refused.status_code == 400
    requeued = await client.post(
        "/admin/pubsub/redeliver", json={"subscriptionId": sub["id"]}, headers=ADMIN
    )
    assert requeued.json() == {"requeued": 1}

    async def received() -> bool:
        return bool(app.state.received)

    await await_for(received, what="redelivery")

    async def settled() -> list[dict[str, Any]]:
        return await deliveries(client, subscriptionId=sub["id"], state="delivered")

    (delivery,) = await await_for(settled, what="delivery settled")
    assert delivery["attempts"] == 1


async def test_pull_and_acknowledge(mediator):
    _, client = mediator
    me = client_headers(HEALTH)
    await subscribe(client, HEALTH, delivery="PULL")
    nothing = await client.get(f"{ROOM}/pull/v1/birth-registered", headers=me)
    assert nothing.status_code == 404
    first = (
        await publish(client, {**BIRTH, "perSubscriber": {"moh-hmis": {"token": "t-h"}}})
    ).json()
    second = (await publish(client, {"civilRegistrationId": "BR-2"})).json()
    pulled = await client.get(f"{ROOM}/pull/v1/birth-registered", headers=me)
    assert pulled.status_code == 200
    assert pulled.json()["id"] == first["id"]
    assert pulled.json()["event"] == {"civilRegistrationId": "BR-1", "token": "t-h"}
    again = await client.get(f"{ROOM}/pull/v1/birth-registered", headers=me)
    assert again.json()["id"] == first["id"]  # at least once: until acknowledged
    acked = await client.delete(f"{ROOM}/pull/v1/birth-registered/{first['id']}", headers=me)
    assert acked.status_code == 204
    twice = await client.delete(f"{ROOM}/pull/v1/birth-registered/{first['id']}", headers=me)
    assert twice.status_code == 404
    nxt = await client.get(f"{ROOM}/pull/v1/birth-registered", headers=me)
    assert nxt.json()["id"] == second["id"] and nxt.json()["sequence"] > pulled.json()["sequence"]
    await client.delete(f"{ROOM}/pull/v1/birth-registered/{second['id']}", headers=me)
    assert (await client.get(f"{ROOM}/pull/v1/birth-registered", headers=me)).status_code == 404
    logged = await client.get("/admin/messagelog/records?kind=delivery", headers=ADMIN)
    assert [r["statusCode"] for r in logged.json()["records"]] == [404, 200, 200, 200, 404]


async def test_subscription_management(mediator):
    _, client = mediator
    me = client_headers(EDUCATION)
    url = f"{ROOM}/api/v1/subs/birth-registered"
    no_target = await client.post(url, json={"delivery": "PUSH"}, headers=me)
    assert no_target.status_code == 400
    created = await subscribe(client, EDUCATION, delivery="PULL", options={"TTL": 60, "FIFO": True})
    assert (await client.post(url, json={"delivery": "PULL"}, headers=me)).status_code == 409
    assert (await client.get(url, headers=me)).json() == created
    mine = await client.get(f"{ROOM}/api/v1/subs", headers=me)
    assert mine.json() == [created]
    push = await client.get(f"{ROOM}/pull/v1/birth-registered", headers=client_headers(HEALTH))
    assert push.status_code == 404  # health has no subscription
    assert (await client.delete(url, headers=me)).status_code == 204
    assert (await client.get(url, headers=me)).status_code == 404
    no_right = await client.post(
        f"/r1/{NIA}/api/v1/subs/identity-created", json={"delivery": "PULL"}, headers=me
    )
    assert no_right.status_code == 500


async def test_no_event_is_lost_across_a_restart(provider, make_settings, fakes, subscriber):
    exchanger, decider = fakes
    app, url = subscriber
    app.state.failures = 10_000  # the subscriber is failing while the first mediator runs
    settings = make_settings(provider[1], push_max_attempts=50)
    first = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(first) as client:
        await subscribe(client, NIA, delivery="PUSH", pushUrl=f"{url}/hook")
        await subscribe(client, HEALTH, delivery="PULL")
        ids = [
            (await publish(client, {"civilRegistrationId": f"BR-{i}"})).json()["id"]
            for i in range(3)
        ]

        async def tried() -> bool:
            return len(app.state.headers) >= 3

        await await_for(tried, what="failing attempts")
    app.state.failures = 0
    second = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(second) as client:

        async def all_received() -> bool:
            return len(app.state.received) >= 3

        await await_for(all_received, what="delivery after restart")
        assert sorted(item["id"] for item in app.state.received) == sorted(ids)
        pulled = []
        for _ in range(3):
            item = (
                await client.get(f"{ROOM}/pull/v1/birth-registered", headers=client_headers(HEALTH))
            ).json()
            pulled.append(item["id"])
            await client.delete(
                f"{ROOM}/pull/v1/birth-registered/{item['id']}", headers=client_headers(HEALTH)
            )
        assert pulled == ids


async def test_fifo_keeps_order_through_retries(mediator, subscriber):
    _, client = mediator
    app, url = subscriber
    app.state.failures = 2
    await subscribe(client, NIA, delivery="PUSH", pushUrl=f"{url}/hook", options={"FIFO": True})
    ids = [
        (await publish(client, {"civilRegistrationId": f"BR-{i}"})).json()["id"] for i in range(3)
    ]

    async def all_received() -> bool:
        return len(app.state.received) == 3

    await await_for(all_received, what="three deliveries")
    assert [item["id"] for item in app.state.received] == ids
    # The first event failed twice; nothing overtook it.
    assert len(app.state.headers) == 5


async def test_push_path_resolves_on_the_subscribers_own_service(
    provider, make_settings, fakes, subscriber, monkeypatch
):
    exchanger, decider = fakes
    app, url = subscriber
    monkeypatch.setenv("DPI_ID_REGISTRY_URL", url)  # where the topology puts NIA/id-registry
    mediator_app = create_app(
        make_settings(provider[1]), token_exchanger=exchanger, decision_client=decider
    )
    async with serve_in_process(mediator_app) as client:
        sub = await subscribe(client, NIA, delivery="PUSH", pushPath="/hook")
        assert sub["pushPath"] == "/hook"
        await publish(client, BIRTH)

        async def received() -> bool:
            return bool(app.state.received)

        await await_for(received, what="push to the resolved path")
        # Education has no service of its own, so a pushPath cannot be resolved for it.
        refused = await client.post(
            f"{ROOM}/api/v1/subs/birth-registered",
            json={"delivery": "PUSH", "pushPath": "/hook"},
            headers=client_headers(EDUCATION),
        )
        assert refused.status_code == 400
