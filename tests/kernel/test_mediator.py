"""The kernel's mediator client against an in-process fake mediator."""

import httpx
import pytest

from services.kernel.credentials import client_key
from services.kernel.mediator import (
    MediatorClient,
    Subscriber,
    Subscription,
    member_of,
    provider_unreached,
)
from services.kernel.tracing import TraceContext, parse_traceparent, set_trace
from tests.kernel.mediator_fake import FakeMediator

pytestmark = pytest.mark.anyio

HEALTH = "DPI/GOV/MOH/hmis"
CIVIL = "DPI/GOV/CRVS/registries"
BIRTHS = Subscription("registries", "birth-registered", {"delivery": "PUSH", "pushPath": "/in"})


def mediator_for(fake: FakeMediator) -> MediatorClient:
    return MediatorClient(
        "sectoral_platform", secret="s3cret", base_url="http://mediator", transport=fake
    )


def test_member_id_and_key_come_from_the_topology() -> None:
    mediator = mediator_for(FakeMediator())
    assert mediator.member_id == HEALTH
    assert mediator.headers == {
        "X-Road-Client": HEALTH,
        "X-DPI-Client-Key": client_key(HEALTH, "s3cret"),
    }
    with pytest.raises(ValueError, match="no member id"):
        member_of("interop_layer")  # the mediator itself is no member


async def test_a_call_names_the_provider_by_service_and_carries_credentials_and_trace() -> None:
    fake = FakeMediator()
    parent = TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    set_trace(parent)
    try:
        response = await mediator_for(fake).call(
            "GET", "registries", "fhir/Location", params={"_count": "5"}
        )
    finally:
        set_trace(None)
    assert response.json() == {"room": CIVIL, "path": "fhir/Location", "query": "_count=5"}
    [headers] = fake.seen
    assert headers["x-road-client"] == HEALTH
    assert headers["x-dpi-client-key"] == client_key(HEALTH, "s3cret")
    sent = parse_traceparent(headers["traceparent"])
    assert sent is not None and sent.trace_id == parent.trace_id
    assert sent.span_id != parent.span_id  # a child span of the caller's


async def test_publish_declares_an_unknown_event_type_once() -> None:
    fake = FakeMediator()
    mediator = mediator_for(fake)
    first = await mediator.publish("immunisation-recorded", {"n": 1}, schema={"type": "object"})
    second = await mediator.publish("immunisation-recorded", {"n": 2})
    assert (first.status_code, second.status_code) == (201, 201)
    assert fake.published == [
        (HEALTH, "immunisation-recorded", {"n": 1}),
        (HEALTH, "immunisation-recorded", {"n": 2}),
    ]
    declared = [path for _, path in fake.requests if path.endswith("/eventType")]
    assert declared == [f"/r1/{HEALTH}/api/v1/eventType"]


async def test_subscribe_is_idempotent_and_reports_refusal_and_absence() -> None:
    fake = FakeMediator()
    mediator = mediator_for(fake)
    assert await mediator.subscribe(BIRTHS) is True
    assert await mediator.subscribe(BIRTHS) is True  # 409: already subscribed
    assert fake.subscriptions == {(CIVIL, "birth-registered")}
    assert await mediator.subscribe(Subscription("registries", "forbidden", {})) is False
    fake.mode = "down"
    assert await mediator.subscribe(BIRTHS) is False


async def test_the_subscriber_sends_each_accepted_subscription_once_and_retries_the_rest() -> None:
    fake = FakeMediator()
    deaths = Subscription("registries", "death-registered", {"delivery": "PUSH"})
    subscriber = Subscriber(mediator_for(fake), [BIRTHS, deaths], retry=0.01)
    fake.mode = "down"
    assert await subscriber.ensure() is False
    fake.mode = "up"
    await subscriber.run()  # returns once everything is accepted
    assert await subscriber.ensure() is True
    subscribed = [path for _, path in fake.requests if "/subs/" in path]
    assert subscribed == [
        f"/r1/{CIVIL}/api/v1/subs/birth-registered",
        f"/r1/{CIVIL}/api/v1/subs/death-registered",
    ]


@pytest.mark.parametrize(
    ("status", "fault", "unreached"),
    [
        (500, "Server.ServerProxy.NetworkError", True),
        (500, "Server.ServerProxy.ServiceFailed", True),
        (500, "Server.ServerProxy.AccessDenied", False),  # a refusal, not worth a retry
        (500, "Server.ClientProxy.SslAuthenticationFailed", False),
        (400, "Client.BadRequest", False),
        (503, None, True),  # the provider's own failure, passed through
        (409, None, False),
    ],
)
def test_provider_unreached_reads_pr_rest_faults(status: int, fault: str | None, unreached: bool):
    headers = {"X-Road-Error": fault} if fault else {}
    assert provider_unreached(httpx.Response(status, headers=headers)) is unreached
