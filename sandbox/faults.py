"""`dpi fault add/list/clear`: fault rules at the running sandbox's mediator (its admin API)."""

from __future__ import annotations

import argparse
from typing import Any

import httpx
from rich.markup import escape
from rich.table import Table

from sandbox.display import console, err_console
from sandbox.env import sandbox_env
from sandbox.where import find_data_dir
from services.kernel.derived_keys import ADMIN_KEY_HEADER
from services.kernel.topology import load_topology

KINDS = ("latency", "error", "drop", "timeout", "rate_limit", "down")
OPTIONS = {  # flag -> the admin API's field
    "service": "serviceCode",
    "method": "method",
    "path": "path",
    "status": "status",
    "latency_ms": "latencyMs",
    "timeout_ms": "timeoutMs",
    "limit": "limit",
    "window_s": "windowS",
    "times": "times",
}


def _admin(args: argparse.Namespace) -> httpx.Client:
    env = sandbox_env(load_topology(), find_data_dir(args.data_dir), args.port_offset)
    headers = {ADMIN_KEY_HEADER: env.admin_key}
    return httpx.Client(base_url=env.urls["interop_layer"], headers=headers, timeout=10)


def _refused(response: httpx.Response) -> int:
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    err_console.print(f"[red]error:[/red] {escape(str(message))}")
    return 1


def cmd_fault(args: argparse.Namespace) -> int:
    try:
        with _admin(args) as admin:
            if args.action == "add":
                rule: dict[str, Any] = {"provider": args.provider, "kind": args.kind}
                rule |= {f: getattr(args, o) for o, f in OPTIONS.items() if getattr(args, o)}
                response = admin.post("/admin/faults", json=rule)
                if response.status_code != 201:
                    return _refused(response)
                console.print(f"Added fault {response.json()['id']}.")
                return 0
            if args.action == "clear":
                path = f"/admin/faults/{args.id}" if args.id else "/admin/faults"
                response = admin.delete(path)
                if response.status_code != 204:
                    return _refused(response)
                console.print("Cleared." if not args.id else f"Removed fault {args.id}.")
                return 0
            response = admin.get("/admin/faults")
            if response.status_code != 200:
                return _refused(response)
            console.print(rules_table(response.json()))
            return 0
    except httpx.HTTPError as exc:
        err_console.print(f"[red]error:[/red] the mediator does not answer ({exc}); `dpi up -d`?")
        return 1


def rules_table(rules: list[dict[str, Any]]) -> Table:
    table = Table(title="Fault rules (first match applies)", title_justify="left")
    for column in ("id", "provider", "service", "method", "path", "kind", "fired"):
        table.add_column(column, no_wrap=True)
    for rule in rules:
        table.add_row(
            rule["id"],
            rule["provider"],
            rule.get("serviceCode") or "*",
            rule.get("method") or "*",
            rule.get("path") or "*",
            rule["kind"],
            str(rule["fired"]),
        )
    return table


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    fault = sub.add_parser("fault", help="inject faults at the mediator (add, list, clear)")
    actions = fault.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="add a fault rule")
    add.add_argument("provider", help="member subsystem id, e.g. DPI/GOV/CRVS/registries")
    add.add_argument("--kind", choices=KINDS, default="error")
    add.add_argument("--service", help="service code (default: every service of the provider)")
    add.add_argument("--method")
    add.add_argument("--path", help="glob on the path after the service code, e.g. /Location*")
    add.add_argument("--status", type=int, help="kind error (default 503)")
    add.add_argument("--latency-ms", type=int)
    add.add_argument("--timeout-ms", type=int)
    add.add_argument("--limit", type=int, help="kind rate_limit: calls per window")
    add.add_argument("--window-s", type=float)
    add.add_argument("--times", type=int, help="fire this often, then go away")
    actions.add_parser("list", parents=[common], help="the rules in force")
    clear = actions.add_parser("clear", parents=[common], help="remove one rule, or all")
    clear.add_argument("id", nargs="?")
    fault.set_defaults(func=cmd_fault)
