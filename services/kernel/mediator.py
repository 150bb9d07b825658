"""The one way a service talks to the mediator: as its topology member, with its client key.

Every call carries `X-Road-Client` (the member id `topology.yaml` gives the calling service) and
`X-DPI-Client-Key`, goes through the kernel's httpx client (timeouts, `traceparent`) and names
the provider by its topology service name, never by a hard-coded member id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from services.kernel.credentials import CLIENT_KEY_HEADER, client_key
from services.kernel.http import DEFAULT_TIMEOUT, make_client
from services.kernel.topology import load_topology, service_url

log = logging.getLogger("dpi.mediator")

CLIENT_HEADER = "X-Road-Client"
MEDIATOR = "interop_layer"
PUBLISHED = (200, 201, 202)
SUBSCRIBED = (200, 201, 409)  # 409: the subscription exists already, which is what we want

ClientFactory = Callable[[], httpx.AsyncClient]
# PR-REST faults meaning "no answer from the provider" (worth a retry); others are refusals
UNREACHED = frozenset(
    {
        "Server.ServerProxy.NetworkError",
        "Server.ServerProxy.ServiceFailed",
        "Server.ServerProxy.InternalError",
    }
)


def provider_unreached(response: httpx.Response) -> bool:
    """The mediator could not get the provider's answer (a 5xx without `X-Road-Error` is the
    provider's own failure; a mediator refusal such as `AccessDenied` is not "unreached")."""
    fault = response.headers.get("X-Road-Error")
    return fault in UNREACHED if fault else response.status_code >= 500


def member_of(service: str) -> str:
    """The member id of a topology service; a service without one cannot use the mediator."""
    member = load_topology().member_id(service)
    if member is None:
        raise ValueError(f"{service} has no member id in the topology")
    return member


@dataclass(frozen=True, slots=True)
class Subscription:
    """A (room, event type) to subscribe to; `room` is the publishing topology service."""

    room: str
    event_type: str
    body: Mapping[str, Any]


class MediatorSession:
    """One open connection to the mediator: several calls share it."""

    def __init__(self, client: httpx.AsyncClient, mediator: MediatorClient) -> None:
        self.client = client
        self.mediator = mediator

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Any URL on the mediator (e.g. a `next` link it returned), with the member's headers."""
        headers = {**self.mediator.headers, **(kwargs.pop("headers", None) or {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def call(self, method: str, provider: str, path: str, **kwargs: Any) -> httpx.Response:
        """`METHOD /r1/<provider's member id>/<path>` (path starts with the service code)."""
        return await self.request(method, f"{room_path(provider)}/{path.lstrip('/')}", **kwargs)

    async def publish(
        self,
        event_type: str,
        payload: Any,
        *,
        schema: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Publish to the caller's own room; an unknown event type is declared, then retried."""
        room = f"/r1/{self.mediator.member_id}"
        url = f"{room}/pub/v1/{event_type}"
        response = await self.request("POST", url, json=payload)
        if response.status_code == 404:
            declare = {"eventType": event_type, "schema": dict(schema or {"type": "object"})}
            await self.request("POST", f"{room}/api/v1/eventType", json=declare)
            response = await self.request("POST", url, json=payload)
        return response

    async def subscribe(self, subscription: Subscription) -> httpx.Response:
        """Subscribe to an event type in a room; the caller treats `SUBSCRIBED` as success."""
        url = f"{room_path(subscription.room)}/api/v1/subs/{subscription.event_type}"
        return await self.request("POST", url, json=dict(subscription.body))


def room_path(service: str) -> str:
    return f"/r1/{member_of(service)}"


class MediatorClient:
    """Calls, publications and subscriptions of one service, through the mediator."""

    def __init__(
        self,
        service: str,
        *,
        secret: str | None = None,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        client_factory: ClientFactory | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        self.service = service
        self.member_id = member_of(service)
        self.headers = {
            CLIENT_HEADER: self.member_id,
            CLIENT_KEY_HEADER: client_key(self.member_id, secret),
        }
        self._base_url = base_url
        self._transport = transport
        self._factory = client_factory
        self._timeout = timeout

    def _open(self) -> httpx.AsyncClient:
        if self._factory is not None:
            return self._factory()
        # resolved per session: the mediator's URL may be set after the app is built
        base_url = self._base_url or service_url(MEDIATOR)
        return make_client(base_url, transport=self._transport, timeout=self._timeout)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MediatorSession]:
        async with self._open() as client:
            yield MediatorSession(client, self)

    async def call(self, method: str, provider: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self.session() as session:
            return await session.call(method, provider, path, **kwargs)

    async def publish(
        self, event_type: str, payload: Any, *, schema: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        async with self.session() as session:
            return await session.publish(event_type, payload, schema=schema)

    async def subscribe(self, subscription: Subscription) -> bool:
        """Idempotent: an existing subscription (409) counts as success."""
        return await Subscriber(self, [subscription], retry=0).ensure()


class Subscriber:
    """A worker: subscribes to each (room, event type) until the mediator has accepted them all;
    accepted ones are never sent again, failures are retried every `retry` seconds."""

    def __init__(
        self, mediator: MediatorClient, subscriptions: list[Subscription], *, retry: float
    ) -> None:
        self.mediator = mediator
        self.remaining = list(subscriptions)
        self.retry = retry
        self.name = f"{mediator.service}-subscriptions"
        self._failures = 0

    async def ensure(self) -> bool:
        """One attempt at what is not accepted yet; True once all are."""
        problem: str | None = None
        if self.remaining:
            async with self.mediator.session() as session:
                problem = await self._each(session)
        if problem is None:
            return True
        self._failures += 1
        if self._failures % 30 == 1:  # retried every few seconds: do not flood the log
            log.warning("%s: cannot subscribe yet: %s", self.mediator.service, problem)
        return False

    async def _each(self, session: MediatorSession) -> str | None:
        for subscription in list(self.remaining):
            try:
                response = await session.subscribe(subscription)
            except httpx.HTTPError as exc:
                return f"mediator unreachable: {type(exc).__name__}: {exc}"
            if response.status_code not in SUBSCRIBED:
                return f"{subscription.event_type}: mediator answered {response.status_code}"
            self.remaining.remove(subscription)
        return None

    async def run(self) -> None:
        while not await self.ensure():
            await asyncio.sleep(self.retry)


def published_id(response: httpx.Response) -> str | None:
    """The id the mediator gave a published event, if its answer names one."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if value is not None else None
