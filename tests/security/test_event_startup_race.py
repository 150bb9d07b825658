"""Events published while a subscriber is still starting are not lost: the topology's durable
subscriptions exist from the mediator's start, and subscribing again never duplicates them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from services.interop_layer.main import create_app
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import client_key
from services.kernel.testing import serve_on_loopback
from services.kernel.topology import DEFAULT_PATH
from services.sectoral_platform.events import civil
from tests.sectoral_platform.wiring import serve_on_port
from tests.security.event_race_support import (
    ADMIN,
    HEALTH,
    NIA,
    REGISTRIES,
    free_port,
    subscriber_app,
)
from tests.support.polling import until

pytestmark = pytest.mark.anyio

EVENTS = 60
BIRTH_ROOM = f"/r1/{REGISTRIES}"
HEALTH_PUSH, NIA_PUSH = "/api/civilRegistration/events", "/v1/events/inbox"


def headers(member: str) -> dict[str, str]:
    return {"X-Road-Client": member, "X-DPI-Client-Key": client_key(member)}


def settings(settings_for: Any) -> InteropSettings:
    """Fast retries, enough of them to outlast a subscriber that comes up a few seconds late."""
    made: InteropSettings = settings_for(
        "interop_layer",
        cls=InteropSettings,
        push_backoff_initial=0.05,
        push_backoff_max=0.2,
        push_poll_interval=0.05,
        push_max_attempts=200,
    )
    return made


@contextmanager
def subscribers_not_yet_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, int]]:
    """The health platform and the ID system resolve to loopback ports nobody listens on yet."""
    health, nia = free_port(), free_port()
    monkeypatch.setenv("DPI_SECTORAL_PLATFORM_URL", f"http://127.0.0.1:{health}")
    monkeypatch.setenv("DPI_ID_REGISTRY_URL", f"http://127.0.0.1:{nia}")
    yield health, nia


async def deliveries(mediator: httpx.AsyncClient, subscription: str) -> list[dict[str, Any]]:
    found = await mediator.get(
        "/admin/pubsub/deliveries",
        params={"subscriptionId": subscription, "limit": 1000},
        headers=ADMIN,
    )
    assert found.status_code == 200, found.text
    return list(found.json())


async def subscriptions(mediator: httpx.AsyncClient, member: str) -> list[dict[str, Any]]:
    found = await mediator.get(f"{BIRTH_ROOM}/api/v1/subs", headers=headers(member))
    assert found.status_code == 200, found.text
    return list(found.json())


async def publish(mediator: httpx.AsyncClient, n: int) -> str:
    event = {"civilRegistrationId": f"BR-{n}", "child": {"dateOfBirth": "2026-11-01"}}
    published = await mediator.post(
        f"{BIRTH_ROOM}/pub/v1/birth-registered", json=event, headers=headers(REGISTRIES)
    )
    assert published.status_code == 201, published.text
    return str(published.json()["id"])


async def test_events_published_before_subscribers_are_up_all_arrive_once(
    settings_for, monkeypatch
):
    config = settings(settings_for)
    with ExitStack() as stack:
        health_port, nia_port = stack.enter_context(subscribers_not_yet_up(monkeypatch))
        url = stack.enter_context(serve_on_loopback(create_app(config)))
        monkeypatch.setenv("DPI_INTEROP_LAYER_URL", url)
        async with httpx.AsyncClient(base_url=url) as mediator:
            # the mediator has just started; nobody has subscribed yet; births come at once
            sent = [await publish(mediator, n) for n in range(EVENTS)]
            [health_sub] = await subscriptions(mediator, HEALTH)
            assert health_sub["eventType"] == "birth-registered"
            assert health_sub["pushPath"] == HEALTH_PUSH and health_sub["options"]["FIFO"]
            nia_subs = {s["eventType"]: s for s in await subscriptions(mediator, NIA)}
            assert set(nia_subs) == {"birth-registered", "death-registered"}

            async def tried() -> bool:
                queued = await deliveries(mediator, health_sub["id"])
                return any(d["attempts"] > 0 for d in queued)

            await until(tried, "a failed attempt to reach the health platform (still down)")
            # the subscribers come up, and subscribe themselves as they always did
            health = subscriber_app(HEALTH_PUSH)
            nia = subscriber_app(NIA_PUSH)
            stack.enter_context(serve_on_port(health, health_port))
            stack.enter_context(serve_on_port(nia, nia_port))
            assert await civil.subscribe() is True  # the platform's own call: 409, exists
            again = await mediator.post(
                f"{BIRTH_ROOM}/api/v1/subs/birth-registered",
                json={"delivery": "PUSH", "pushPath": NIA_PUSH},
                headers=headers(NIA),
            )
            assert again.status_code == 409, again.text
            assert [s["id"] for s in await subscriptions(mediator, HEALTH)] == [health_sub["id"]]

            async def all_arrived() -> bool:
                return len(health.state.received) >= EVENTS and len(nia.state.received) >= EVENTS

            await until(all_arrived, f"{EVENTS} births at both subscribers")
            for received in (health.state.received, nia.state.received):
                assert sorted(item["id"] for item in received) == sorted(sent)
            assert [item["id"] for item in health.state.received] == sent  # FIFO: in order
            for sub in (health_sub, nia_subs["birth-registered"]):

                async def settled(sub_id: str = sub["id"]) -> bool:
                    states = [d["state"] for d in await deliveries(mediator, sub_id)]
                    assert len(states) == EVENTS  # one delivery per event, never two
                    return set(states) == {"delivered"}  # answered, then recorded as such

                await until(settled, f"every delivery of {sub['id']} settled")


async def test_a_restart_neither_duplicates_nor_loses(settings_for, monkeypatch):
    config = settings(settings_for)
    with ExitStack() as stack:
        health_port, _ = stack.enter_context(subscribers_not_yet_up(monkeypatch))
        health = subscriber_app(HEALTH_PUSH)
        stack.enter_context(serve_on_port(health, health_port))
        for round_ in range(2):  # the second start finds the declared subscriptions in place
            with serve_on_loopback(create_app(config)) as url:
                async with httpx.AsyncClient(base_url=url) as mediator:
                    event_id = await publish(mediator, round_)
                    [sub] = await subscriptions(mediator, HEALTH)

                    async def arrived(wanted: str = event_id) -> bool:
                        return wanted in [i["id"] for i in health.state.received]

                    await until(arrived, f"event {event_id}")
                    assert len(await deliveries(mediator, sub["id"])) == round_ + 1
        assert len(health.state.received) == 2


def topology_with(tmp_path: Path, extra: dict[str, Any]) -> Path:
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["subscriptions"] = [*raw.get("subscriptions", []), extra]
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


async def test_a_declared_subscription_follows_its_event_type(settings_for, monkeypatch, tmp_path):
    """Declared for an event type the room's owner only declares later: it exists as soon as
    the type does, before the owner's first publication."""
    later = {"subscriber": "sectoral_platform", "room": "id_registry",
             "event_type": "identity-merged", "push_path": "/api/identity/merged"}  # fmt: skip
    monkeypatch.setenv("DPI_TOPOLOGY", str(topology_with(tmp_path, later)))
    config = settings(settings_for)
    with ExitStack() as stack:
        health_port, _ = stack.enter_context(subscribers_not_yet_up(monkeypatch))
        url = stack.enter_context(serve_on_loopback(create_app(config)))
        async with httpx.AsyncClient(base_url=url) as mediator:
            room = f"/r1/{NIA}"
            before = await mediator.get(f"{room}/api/v1/subs", headers=headers(HEALTH))
            assert "identity-merged" not in before.text
            declared = await mediator.post(
                f"{room}/api/v1/eventType",
                json={"eventType": "identity-merged", "schema": {"type": "object"}},
                headers=headers(NIA),
            )
            assert declared.status_code == 200, declared.text
            published = await mediator.post(
                f"{room}/pub/v1/identity-merged", json={"token": "t-1"}, headers=headers(NIA)
            )
            assert published.status_code == 201, published.text
            health = subscriber_app("/api/identity/merged")
            stack.enter_context(serve_on_port(health, health_port))

            async def arrived() -> bool:
                return [i["id"] for i in health.state.received] == [published.json()["id"]]

            await until(arrived, "the identity-merged event at the late subscriber")


async def test_a_subscription_never_outlives_the_subscribers_right(settings_for, monkeypatch):
    """Revoking the `sub` right stops deliveries: queued ones become dead letters (redeliverable
    once the right is granted again), later events are not queued for the subscriber at all."""
    config = settings(settings_for)
    with ExitStack() as stack:
        health_port, nia_port = stack.enter_context(subscribers_not_yet_up(monkeypatch))
        nia = subscriber_app(NIA_PUSH)
        stack.enter_context(serve_on_port(nia, nia_port))
        url = stack.enter_context(serve_on_loopback(create_app(config)))
        async with httpx.AsyncClient(base_url=url, headers=ADMIN) as mediator:
            queued = await publish(mediator, 1)  # the health platform is down: it waits
            [sub] = await subscriptions(mediator, HEALTH)
            rights = await mediator.get(
                "/admin/rights", params={"client": HEALTH, "provider": REGISTRIES}
            )
            [right] = [r for r in rights.json() if r["serviceCode"] == "sub"]
            revoked = await mediator.delete(f"/admin/rights/{right['id']}")
            assert revoked.status_code == 204, revoked.text

            async def dead_lettered() -> bool:
                [delivery] = await deliveries(mediator, sub["id"])
                return delivery["state"] == "dead" and "right" in delivery["lastError"]

            await until(dead_lettered, "the queued delivery dead-lettered for lack of right")
            later = await publish(mediator, 2)

            async def nia_has_both() -> bool:
                return {queued, later} <= {i["id"] for i in nia.state.received}

            await until(nia_has_both, "both events at the ID system, which kept its right")
            assert len(await deliveries(mediator, sub["id"])) == 1  # none queued for `later`
            health = subscriber_app(HEALTH_PUSH)
            stack.enter_context(serve_on_port(health, health_port))
            grant = {"client": HEALTH, "provider": REGISTRIES, "serviceCode": "sub"}
            assert (await mediator.post("/admin/rights", json=grant)).status_code in (200, 201)
            again = await mediator.post(
                "/admin/pubsub/redeliver", json={"subscriptionId": sub["id"]}
            )
            assert again.json() == {"requeued": 1}

            async def redelivered() -> bool:
                return [i["id"] for i in health.state.received] == [queued]

            await until(redelivered, "the dead letter redelivered once the right is back")
