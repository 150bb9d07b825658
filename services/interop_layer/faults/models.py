"""Fault rules: what the mediator does instead of (or before) forwarding a matching call.

Switched on and off per test through the admin API. The hot path matches the rules in memory
(`InteropRuntime.faults`). On SQLite (one process) that is all there is and a restart forgets
them; on PostgreSQL the rules and their counters are rows of `fault_rule`, shared by every
replica (`faults/store.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field as TableField

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base
from services.interop_layer.directory import EndpointRule

FaultKind = Literal["latency", "error", "drop", "timeout", "rate_limit", "down"]


class FaultRuleCreate(CamelModel):
    """A rule: which calls (provider, optionally service code, method, path glob) and what fault."""

    provider: str = Field(
        description="member subsystem id of the provider, e.g. DPI/GOV/NIA/id-registry"
    )
    service_code: str | None = Field(default=None, max_length=100)
    method: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,10}$")
    path: str | None = Field(
        default=None, pattern=r"^/", max_length=500, description="a glob on the provider's path"
    )
    kind: FaultKind
    latency_ms: int = Field(default=0, ge=0, le=60_000, description="added before forwarding")
    status: int = Field(default=503, ge=400, le=599, description="kind `error`")
    body: dict[str, Any] | None = Field(
        default=None, description="kind `error`: the body (default: the provider's error format)"
    )
    timeout_ms: int | None = Field(
        default=None, ge=0, le=120_000, description="kind `timeout`: wait (default: the service's)"
    )
    limit: int = Field(
        default=1, ge=0, le=100_000, description="kind `rate_limit`: calls per window"
    )
    window_s: float = Field(default=1.0, gt=0, le=3600, description="kind `rate_limit`")
    times: int | None = Field(default=None, ge=1, description="fire this often, then go away")

    @model_validator(mode="after")
    def latency_is_given(self) -> FaultRuleCreate:
        if self.kind == "latency" and self.latency_ms == 0:
            raise ValueError("a `latency` fault needs latencyMs > 0")
        return self


class FaultRulePublic(FaultRuleCreate):
    id: str
    fired: int


@dataclass(slots=True)
class FaultRule:
    """A rule as the hot path matches it; its counters change as it fires."""

    id: str
    spec: FaultRuleCreate
    endpoint: EndpointRule
    fired: int = 0
    window: list[float] = field(default_factory=list)  # rate_limit: recent call times

    def matches(self, provider: str, service_code: str, method: str, path: str) -> bool:
        spec = self.spec
        if spec.provider != provider:
            return False
        if spec.service_code is not None and spec.service_code != service_code:
            return False
        return self.endpoint.matches(method, path)

    def over_limit(self) -> bool:
        """Rate limit: True when this call is beyond `limit` in the sliding window."""
        now = time.monotonic()
        recent = [t for t in self.window if now - t < self.spec.window_s]
        if len(recent) >= self.spec.limit:
            self.window = recent
            return True
        recent.append(now)
        self.window = recent
        return False

    def public(self) -> FaultRulePublic:
        return FaultRulePublic(**self.spec.model_dump(), id=self.id, fired=self.fired)


class FaultRow(Base, table=True):
    """A rule shared by the replicas (PostgreSQL): its definition, firings and recent calls."""

    __tablename__ = "fault_rule"

    id: str = TableField(primary_key=True, max_length=64)
    spec: dict[str, Any] = TableField(sa_column=Column(JSON, nullable=False))
    fired: int = 0
    window: list[float] = TableField(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
