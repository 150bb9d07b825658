"""The console's only windows into the sandbox: the mediator's message log API and `/readyz`."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.console.config import MEDIATOR, ConsoleConfig
from services.kernel.credentials import ADMIN_KEY_HEADER

LOG = "/admin/messagelog"


class MediatorUnavailable(Exception):
    """The mediator did not answer (or not as expected); the message says how."""


class SandboxClient:
    """Async HTTP calls to the running services (admin key for the mediator's admin API)."""

    def __init__(self, config: ConsoleConfig) -> None:
        self.config = config
        self.http = httpx.AsyncClient(timeout=5.0)

    async def close(self) -> None:
        await self.http.aclose()

    async def _admin(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.config.url(MEDIATOR)}{path}"
        headers = {ADMIN_KEY_HEADER: self.config.admin_key}
        try:
            response = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise MediatorUnavailable(f"the mediator at {url} does not answer ({exc})") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise MediatorUnavailable(f"{method} {path} answered {response.status_code}")
        return response.json()

    async def records(self, **params: Any) -> list[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        found = await self._admin("GET", f"{LOG}/records", params=query)
        return list(found["records"]) if found else []

    async def record(self, seq: int) -> dict[str, Any] | None:
        found = await self._admin("GET", f"{LOG}/records/{seq}")
        return dict(found) if found else None

    async def verify(self) -> dict[str, Any]:
        return dict(await self._admin("POST", f"{LOG}/verify"))

    async def rights(
        self, *, client: str | None = None, provider: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("client", client), ("provider", provider)) if v}
        return list(await self._admin("GET", "/admin/rights", params=params) or [])

    async def ready(self, name: str) -> bool:
        try:
            response = await self.http.get(f"{self.config.url(name)}/readyz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def identities(self, limit: int) -> list[dict[str, Any]]:
        """A few seeded people from the ID system's admin API (empty when it does not answer)."""
        url = f"{self.config.url('id_registry')}/v1/identities"
        try:
            response = await self.http.get(
                url, params={"limit": limit}, headers={ADMIN_KEY_HEADER: self.config.admin_key}
            )
        except httpx.HTTPError:
            return []
        return list(response.json()) if response.status_code == 200 else []
