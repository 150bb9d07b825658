"""`dpi env`: every base URL, credential and mediator key of a sandbox, as shell or JSON.

The per-service values are the documented sandbox defaults (each overridable by the same
environment variable the service reads); tests/sandbox/test_env.py holds them equal to the
services' own settings, which the tooling may not import.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.state import live_services, load_state
from sandbox.where import find_data_dir
from services.kernel.derived_keys import client_key, mediator_key, partner_id
from services.kernel.topology import Topology, load_topology, port_offset

# (variable, default): the variable is the service's own setting, so an override shows here too
SERVICE_CREDENTIALS: dict[str, dict[str, tuple[str, str]]] = {
    "id_registry": {
        "misp_license_key": ("DPI_ID_REGISTRY_MISP_LICENSE_KEY", "dpi-sandbox-misp-license-key"),
    },
    "consent": {"org_api_key": ("DPI_CONSENT_ORG_API_KEY", "dpi-consent-org-key")},
    "registries": {"api_key": ("DPI_REGISTRIES_API_KEY", "dpi-registries-sandbox-key")},
    "sectoral_platform": {
        "admin_username": ("DPI_SECTORAL_PLATFORM_ADMIN_USERNAME", "admin"),
        "admin_password": ("DPI_SECTORAL_PLATFORM_ADMIN_PASSWORD", "district"),
    },
}


@dataclass
class SandboxEnv:
    data_dir: str
    port_offset: int
    running: bool
    urls: dict[str, str]
    admin_key: str
    mediator_key: str
    client_keys: dict[str, str] = field(default_factory=dict)
    partner_keys: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_dir": self.data_dir,
            "port_offset": self.port_offset,
            "running": self.running,
            "urls": self.urls,
            "admin_key": self.admin_key,
            "mediator_key": self.mediator_key,
            "client_keys": self.client_keys,
            "partner_keys": self.partner_keys,
            "credentials": self.credentials,
        }

    def variables(self) -> dict[str, str]:
        """Flat `DPI_*` names: `DPI_<SERVICE>_URL` is what the tooling and clients read."""
        found = {f"DPI_{name.upper()}_URL": url for name, url in self.urls.items()}
        found["DPI_ADMIN_KEY"] = self.admin_key
        found["DPI_MEDIATOR_KEY"] = self.mediator_key
        for member_id, key in self.client_keys.items():
            found[f"DPI_CLIENT_KEY_{_suffix(member_id)}"] = key
        for member_id, key in self.partner_keys.items():
            found[f"DPI_PARTNER_KEY_{_suffix(member_id)}"] = key
        for service, values in SERVICE_CREDENTIALS.items():
            for name, (variable, _) in values.items():
                found[variable] = self.credentials[service][name]
        return found


def _suffix(member_id: str) -> str:
    """`DPI/GOV/MOH/hmis` -> `MOH_HMIS`."""
    return partner_id(member_id).replace("-", "_").upper()


def sandbox_env(
    topology: Topology, data_dir: Path | None, offset: int | None, host: str = "127.0.0.1"
) -> SandboxEnv:
    """What a client needs: from the running sandbox's state if there is one, else the
    topology's ports plus the offset on `host`."""
    state = load_state(data_dir) if data_dir is not None else None
    live = {s.name: s.url for s in live_services(state)} if state else {}
    if offset is None:
        offset = state.port_offset if state and live else port_offset()
    urls = {
        spec.name: live.get(spec.name) or f"http://{host}:{spec.port + offset}"
        for spec in topology.start_order()
    }
    own_id = topology.member_id("id_registry")
    return SandboxEnv(
        data_dir=str(data_dir or ""),
        port_offset=offset,
        running=bool(live),
        urls=urls,
        admin_key=os.environ.get("DPI_ADMIN_KEY", "dpi-admin"),
        mediator_key=mediator_key(),
        client_keys={m: client_key(m) for m in topology.subsystems()},
        partner_keys={
            m: f"{partner_id(m)}-sandbox-key" for m in topology.subsystems() if m != own_id
        },
        credentials={
            service: {name: os.environ.get(var, default) for name, (var, default) in vals.items()}
            for service, vals in SERVICE_CREDENTIALS.items()
        },
    )


def cmd_env(args: argparse.Namespace) -> int:
    data_dir = find_data_dir(args.data_dir)
    env = sandbox_env(load_topology(), data_dir, args.port_offset)
    if args.json:
        print(json.dumps(env.to_dict(), indent=2))
        return 0
    state = "running" if env.running else "not running"
    print(f'# DPI Sandbox ({state}; data: {env.data_dir}); load with: eval "$(dpi env)"')
    for name, value in env.variables().items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    env = sub.add_parser(
        "env", parents=[common], help="base URLs, credentials and mediator keys (shell or JSON)"
    )
    env.add_argument("--json", action="store_true", help="one JSON document instead of exports")
    env.set_defaults(func=cmd_env)
