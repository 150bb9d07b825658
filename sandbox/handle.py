"""A running sandbox as a test sees it: base URLs, authenticated clients per service, clients
through the mediator per member, and the seeded people and DHIS2 UIDs by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sandbox.env import SandboxEnv
from sandbox.launcher import Launcher
from sandbox.where import did_you_mean
from services.kernel.derived_keys import ADMIN_KEY_HEADER, CLIENT_KEY_HEADER
from services.kernel.topology import Topology


@dataclass(frozen=True)
class Person:
    """A seeded identity of the ID system: its UIN, demographics and the admin API's record."""

    uin: str
    attributes: dict[str, Any]
    record: dict[str, Any]

    def attribute(self, name: str, language: str = "eng") -> str | None:
        """One demographic as text (`fullName`, `dateOfBirth`, ...), in `language` if it has one."""
        value = self.attributes.get(name)
        if isinstance(value, list):
            texts = [v.get("value") for v in value if isinstance(v, dict)]
            chosen = [v.get("value") for v in value if v.get("language") == language] or texts
            return str(chosen[0]) if chosen else None
        return None if value is None else str(value)


class People:
    def __init__(self, sandbox: DpiSandbox) -> None:
        self._sandbox = sandbox

    def list(self, limit: int = 50) -> list[Person]:
        response = self._sandbox.client("id_registry").get(
            "/v1/identities", params={"limit": limit}
        )
        response.raise_for_status()
        return [Person(str(row["UIN"]), row.get("identity") or {}, row) for row in response.json()]

    def any(self) -> Person:
        found = self.list(limit=1)
        if not found:
            raise LookupError("the ID system has no identities (is seeding off?)")
        return found[0]


class Dhis2:
    """Metadata of the health platform by name (the `/api/metadata` export, read once)."""

    def __init__(self, sandbox: DpiSandbox) -> None:
        self._sandbox = sandbox
        self._by_name: dict[str, str] | None = None

    def uid(self, name: str) -> str:
        if self._by_name is None:
            response = self._sandbox.client("sectoral_platform").get(
                "/api/metadata", params={"fields": "id,name,shortName,code"}
            )
            response.raise_for_status()
            self._by_name = {}
            for objects in response.json().values():
                for item in objects if isinstance(objects, list) else []:
                    for key in ("name", "shortName", "code"):
                        if isinstance(item, dict) and item.get(key) and "id" in item:
                            self._by_name.setdefault(str(item[key]), str(item["id"]))
        if name not in self._by_name:
            raise KeyError(f"no DHIS2 object named {name!r}{did_you_mean(name, self._by_name)}")
        return self._by_name[name]


@dataclass
class DpiSandbox:
    """The handle the `dpi_sandbox` fixture yields."""

    topology: Topology
    env: SandboxEnv
    launcher: Launcher | None = None  # None when attached to a sandbox started elsewhere
    _clients: dict[str, httpx.Client] = field(default_factory=dict)
    people: People = field(init=False)
    dhis2: Dhis2 = field(init=False)

    def __post_init__(self) -> None:
        self.people = People(self)
        self.dhis2 = Dhis2(self)

    @property
    def data_dir(self) -> Path:
        return Path(self.env.data_dir)

    def url(self, service: str) -> str:
        if service not in self.env.urls:
            known = ", ".join(self.env.urls)
            hint = did_you_mean(service, self.env.urls)
            raise KeyError(f"unknown service {service!r}{hint}; one of {known}")
        return self.env.urls[service]

    def client(self, service: str) -> httpx.Client:
        """An `httpx.Client` on the service's base URL with its sandbox credentials."""
        key = f"service:{service}"
        if key not in self._clients:
            self._clients[key] = self._new_client(
                base_url=self.url(service), timeout=30, **self._auth(service)
            )
        return self._clients[key]

    def mediator(self, member: str) -> httpx.Client:
        """An `httpx.Client` calling through the mediator (`/r1/...`) as the member subsystem."""
        if member not in self.env.client_keys:
            known = ", ".join(self.env.client_keys)
            hint = did_you_mean(member, self.env.client_keys)
            raise KeyError(f"unknown member {member!r}{hint}; one of {known}")
        key = f"member:{member}"
        if key not in self._clients:
            headers = {"X-Road-Client": member, CLIENT_KEY_HEADER: self.env.client_keys[member]}
            self._clients[key] = self._new_client(
                base_url=self.url("interop_layer"), headers=headers, timeout=30
            )
        return self._clients[key]

    def _new_client(self, **options: Any) -> httpx.Client:
        """A plain-HTTP sandbox gets clients without a TLS context: building one (the CA bundle)
        costs tens of ms per client, and more on a loaded machine."""
        tls = any(url.startswith("https:") for url in self.env.urls.values())
        return httpx.Client(verify=tls, **options)

    def _auth(self, service: str) -> dict[str, Any]:
        credentials = self.env.credentials
        if service == "sectoral_platform":
            own = credentials["sectoral_platform"]
            return {"auth": (own["admin_username"], own["admin_password"])}
        if service == "consent":
            return {"headers": {"Authorization": f"ApiKey {credentials['consent']['org_api_key']}"}}
        if service == "registries":
            member = self.topology.member_id("registries") or ""
            headers = {
                "Authorization": credentials["registries"]["api_key"],
                "Information-Mediator-Client": member,
            }
            return {"headers": headers}
        return {"headers": {ADMIN_KEY_HEADER: self.env.admin_key}}

    @contextmanager
    def fault(self, provider: str, kind: str = "error", **options: Any) -> Iterator[dict[str, Any]]:
        """A fault rule at the mediator for the block (`status=503`, `latency_ms=200`, ...;
        see docs/integrators.md); yields the rule as the admin API shows it."""
        rule = {"provider": provider, "kind": kind, **{_camel(k): v for k, v in options.items()}}
        admin = self.client("interop_layer")
        created = admin.post("/admin/faults", json=rule)
        if created.status_code != 201:
            raise ValueError(f"fault rule refused: {created.text}")
        try:
            yield created.json()
        finally:
            admin.delete(f"/admin/faults/{created.json()['id']}")

    def reset(self, timeout: float = 30.0) -> dict[str, float]:
        """A clean, freshly seeded sandbox without a restart: every service's `POST /admin/reset`
        (its tables emptied and its seeded rows put back; the mediator keeps its message log),
        dependencies first. Returns each service's own figure in ms."""
        self.dhis2 = Dhis2(self)
        if "admin" not in self._clients:
            headers = {ADMIN_KEY_HEADER: self.env.admin_key}
            self._clients["admin"] = self._new_client(headers=headers)
        admin = self._clients["admin"]
        took: dict[str, float] = {}
        for spec in self.topology.start_order():
            answer = admin.post(f"{self.url(spec.name)}/admin/reset", timeout=timeout)
            if answer.status_code != 200:
                raise RuntimeError(f"{spec.name} refused the reset: {answer.text[:500]}")
            took[spec.name] = float(answer.json()["ms"])
        return took

    def close_clients(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
