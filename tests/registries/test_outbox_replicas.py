"""Two replicas of the registries on one PostgreSQL database: every event published once, in
the order the registrations were made, whichever replica took them."""

from __future__ import annotations

import anyio
import httpx
import pytest

from services.registries.main import create_app
from tests.conftest import SHARED_POSTGRES
from tests.registries.civil_records import birth
from tests.registries.conftest import MakeSettings
from tests.registries.test_civil import ADMIN
from tests.registries.test_outbox import FakeMediator, drained_settings, register, wait_for
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]


class SlowTransport(httpx.AsyncBaseTransport):
    """The fake mediator, a little slow, so the replicas' rounds overlap."""

    def __init__(self, fake: FakeMediator) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.005)
        return await self.fake.handle_async_request(request)


async def test_two_replicas_publish_each_event_once_in_order(make_settings: MakeSettings):
    fake = FakeMediator()
    settings = drained_settings(make_settings, outbox_batch=5)
    first = create_app(settings, mediator_transport=SlowTransport(fake))
    second = create_app(settings, mediator_transport=SlowTransport(fake))
    async with two_replicas(first, second) as (one, two):
        keys = []
        for n in range(30):
            keys.append(await register((one, two)[n % 2], "births", birth(f"Child{n}")))

        async def all_published() -> bool:
            box = (await one.get("/admin/outbox", headers=ADMIN)).json()
            return bool(box["pending"] == 0 and box["total"] == 30)

        await wait_for(all_published, timeout=30)
    assert [payload["civilRegistrationId"] for _, payload in fake.published] == keys
