"""Fault rules: checked against the catalogue when added, applied on the hot path.

`routing/call.py` calls `inject` only while a rule exists (`if runtime.faults:`), so a mediator
without faults pays one attribute read per call. On PostgreSQL a matching rule's firing is
settled on its shared row (`faults/store.py`), so replicas count it together.
"""

from __future__ import annotations

import asyncio
import sys

import orjson
from starlette.requests import Request
from starlette.types import Scope, Send

from services.interop_layer.catalogue.models import RESERVED_CODES
from services.interop_layer.directory import Directory, EndpointRule, ServiceTarget
from services.interop_layer.errors import (
    BadRequest,
    ProviderTimeout,
    ProviderUnreachable,
    XRoadError,
    render_xroad_error,
)
from services.interop_layer.faults.formats import error_body
from services.interop_layer.faults.models import FaultRule, FaultRuleCreate
from services.interop_layer.faults.store import FaultStore, HoldsFaults, Outcome, fire_here
from services.interop_layer.messagelog.capture import Exchange
from services.interop_layer.settings import InteropSettings
from services.kernel.ids import uuid7
from services.kernel.serving import cork_of
from services.kernel.topology import load_topology

FAULT_HEADER = b"x-dpi-fault"


class DroppedConnection(Exception):
    """An injected dropped connection: the answer started, the server ends the connection."""


def make_rule(data: FaultRuleCreate, directory: Directory) -> FaultRule:
    """A rule for a provider behind the mediator; anything else is refused, naming what exists."""
    if data.path is not None and data.path.startswith("/admin"):
        raise BadRequest("Faults apply to providers behind the mediator, not its own admin API.")
    if data.service_code in RESERVED_CODES:
        raise BadRequest(
            f"{data.service_code!r} is the mediator's own service; faults apply to providers."
        )
    providers = sorted({provider for provider, _ in directory.services})
    if data.provider not in providers:
        raise BadRequest(
            f"Unknown provider {data.provider!r}; providers: {', '.join(providers)}. "
            "Faults apply to providers behind the mediator, not to the mediator itself."
        )
    codes = [t.service_code for t in directory.services_of(data.provider)]
    if data.service_code is not None and data.service_code not in codes:
        raise BadRequest(
            f"Unknown service {data.service_code!r} of {data.provider}; services: "
            f"{', '.join(codes)}."
        )
    endpoint = EndpointRule.of({"method": data.method, "path": data.path})
    return FaultRule(id=uuid7(), spec=data, endpoint=endpoint)


def _service_name(provider: str) -> str | None:
    topology = load_topology()
    for spec in topology.services:
        if topology.member_id(spec.name) == provider:
            return spec.name
    return None


def _mark(exchange: Exchange, rule: FaultRule) -> None:
    exchange.error_type = f"Injected.{rule.spec.kind}"
    otel = sys.modules.get("opentelemetry.trace")
    if otel is not None:  # export is on: the span says so too
        otel.get_current_span().set_attribute("dpi.fault", rule.spec.kind)


def _matching(
    faults: tuple[FaultRule, ...], target: ServiceTarget, method: str, path: str
) -> FaultRule | None:
    for rule in faults:
        if rule.matches(target.provider, target.service_code, method, path):
            return rule
    return None


async def inject(
    holder: HoldsFaults,
    store: FaultStore,
    scope: Scope,
    send: Send,
    *,
    exchange: Exchange,
    target: ServiceTarget,
    path: str,
    settings: InteropSettings,
) -> bool:
    """Apply the first matching rule in force; True when the call was answered here."""
    rule = _matching(holder.faults, target, scope["method"], path)
    while rule is not None:
        if store.shared:
            outcome = await asyncio.to_thread(store.fire, rule)
        else:
            outcome = fire_here(rule)
        if outcome is Outcome.PASS:
            return False
        if outcome is not Outcome.GONE:
            break
        gone = rule
        rule = _matching(
            tuple(r for r in holder.faults if r.id != gone.id), target, scope["method"], path
        )
    if rule is None:
        return False
    if outcome is Outcome.LAST and not store.shared:
        holder.faults = tuple(r for r in holder.faults if r is not rule)
    kind = rule.spec.kind
    _mark(exchange, rule)
    service = f"{target.provider}/{target.service_code}"
    if kind == "latency":
        await asyncio.sleep(rule.spec.latency_ms / 1000)
        return False
    if kind == "down":
        await _mediator_error(
            scope,
            send,
            exchange,
            ProviderUnreachable(f"Service {service} is unreachable (injected fault {rule.id})."),
            rule,
        )
        return True
    if kind == "timeout":
        wait = rule.spec.timeout_ms
        seconds = (
            wait / 1000 if wait is not None else target.timeout or settings.provider_read_timeout
        )
        await asyncio.sleep(seconds)
        await _mediator_error(
            scope,
            send,
            exchange,
            ProviderTimeout(
                f"Service {service} did not answer in time (injected fault {rule.id})."
            ),
            rule,
        )
        return True
    if kind == "drop":
        exchange.status = 502  # what the log records; the client sees the connection end
        exchange.broken = True
        transport = cork_of(scope)
        if transport is None:  # a server without the kernel's protocol: it ends the connection
            raise DroppedConnection(f"injected fault {rule.id}: connection to {service} dropped")
        transport.abort()
        return True
    status = 429 if kind == "rate_limit" else rule.spec.status
    message = f"Injected fault {rule.id} on {service}."
    body, media_type = error_body(_service_name(target.provider), status, message)
    if kind == "error" and rule.spec.body is not None:
        body = rule.spec.body
    headers = [
        (b"content-type", media_type.encode()),
        (FAULT_HEADER, rule.id.encode()),
        (b"x-road-id", exchange.x_road_id.encode("latin-1")),
    ]
    if kind == "rate_limit":
        headers.append((b"retry-after", b"%d" % max(1, round(rule.spec.window_s))))
    data = orjson.dumps(body)
    headers.append((b"content-length", b"%d" % len(data)))
    exchange.status = status
    if exchange.limit:
        exchange.response_body = data
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
    return True


async def _mediator_error(
    scope: Scope, send: Send, exchange: Exchange, error: XRoadError, rule: FaultRule
) -> None:
    async def no_body() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    response = render_xroad_error(Request(scope, no_body), error)
    exchange.error_type = f"Injected.{rule.spec.kind}"  # the renderer wrote the X-Road type
    response.headers[FAULT_HEADER.decode()] = rule.id
    exchange.status = response.status_code
    if exchange.limit:
        exchange.response_body = bytes(response.body)
    await response(scope, no_body, send)
