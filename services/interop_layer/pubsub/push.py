"""Where a PUSH subscription's webhook is and the client that calls it: the topology's URL for a
sandbox member, no cookies kept, no redirects followed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.interop_layer.pubsub.models import Subscription
from services.interop_layer.settings import InteropSettings
from services.kernel.http import tls_context
from services.kernel.topology import load_topology, service_url


def push_base(subscriber: str) -> str | None:
    """The base URL of the topology service that is `subscriber`, if any."""
    topology = load_topology()
    for spec in topology.services:
        if topology.member_id(spec.name) == subscriber:
            return service_url(spec.name)
    return None


def push_target(sub: Subscription) -> str | None:
    if sub.push_url:
        return sub.push_url
    base = push_base(sub.subscriber)
    return None if base is None or not sub.push_path else base + sub.push_path


@dataclass(slots=True)
class Attempt:
    delivery_id: int
    url: str | None
    item: dict[str, Any]
    subscriber: str
    room: str
    event_type: str
    trace_id: str | None
    status: int | None = None
    error: str | None = None


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: one subscriber's cookies never reach another's webhook."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


def make_push_session(settings: InteropSettings) -> httpx.AsyncClient:
    """The webhook client: pooled, no cookies, no redirects followed, bodies as sent."""
    return httpx.AsyncClient(
        verify=tls_context(trust_env=False),
        limits=httpx.Limits(max_connections=settings.forward_pool_size),
        timeout=httpx.Timeout(settings.push_timeout, connect=settings.provider_connect_timeout),
        cookies=_NoCookies(),
        follow_redirects=False,
        trust_env=False,
    )


def push_error_type(attempt: Attempt) -> str | None:
    if attempt.error is None:
        return None
    unreachable = attempt.status is None and "in time" not in attempt.error
    return "Server.ServerProxy." + ("NetworkError" if unreachable else "ServiceFailed")
