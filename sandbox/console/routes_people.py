"""Page 4, "how do I call this?": base URLs, credentials, a curl per service, people, keys."""

from __future__ import annotations

import shlex
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sandbox.console.html import e, page, table
from sandbox.console.state import ConsoleState, StateDep
from sandbox.env import sandbox_env
from services.kernel.credentials import client_key

router = APIRouter()
PEOPLE = 5

# Per service: the credential a direct call needs, and a call that answers 200 (path, curl
# arguments); `{...}` are filled from `credentials()`, so overridden settings show as they are.
CALLS: dict[str, tuple[str, str, list[str]]] = {
    "id_registry": (
        "admin API: X-DPI-Admin-Key: {admin}; IDA: MISP licence key {misp}, partner API keys "
        "<partner id>-sandbox-key in the path (docs/id_registry.md)",
        "/v1/identities?limit=1",
        ["-H", "X-DPI-Admin-Key: {admin}"],
    ),
    "interop_layer": (
        "X-Road-Client + X-DPI-Client-Key (keys below); admin API: X-DPI-Admin-Key: {admin}",
        "/r1/DPI/GOV/CRVS/registries/fhir/Location?_count=2",
        ["-H", "X-Road-Client: DPI/GOV/MOH/hmis", "-H", "X-DPI-Client-Key: {hmis_key}"],
    ),
    "consent": (
        "organisation: Authorization: ApiKey {consent_key}",
        "/config/policies/",
        ["-H", "Authorization: ApiKey {consent_key}"],
    ),
    "registries": (
        "FHIR reads: none; Data API: Authorization: {registries_key}",
        "/fhir/Location?_count=2",
        [],
    ),
    "sectoral_platform": (
        "DHIS2 basic auth: {dhis2_user} / {dhis2_password}",
        "/api/me",
        ["-u", "{dhis2_user}:{dhis2_password}"],
    ),
}


def credentials(state: ConsoleState) -> dict[str, str]:
    """The sandbox's credentials as `dpi env` shows them (settings override the defaults)."""
    found = sandbox_env(state.config.topology, None, state.config.port_offset).credentials
    return {
        "admin": state.config.admin_key,
        "hmis_key": client_key("DPI/GOV/MOH/hmis"),
        "misp": found["id_registry"]["misp_license_key"],
        "consent_key": found["consent"]["org_api_key"],
        "registries_key": found["registries"]["api_key"],
        "dhis2_user": found["sectoral_platform"]["admin_username"],
        "dhis2_password": found["sectoral_platform"]["admin_password"],
    }


def curl_of(state: ConsoleState, name: str) -> str:
    """A copy-paste curl that answers 200 against the running sandbox."""
    _, path, args = CALLS[name]
    values = credentials(state)
    filled = [a.format(**values) for a in args]
    return shlex.join(["curl", "-s", *filled, f"{state.config.public_url(name)}{path}"])


def _services(state: ConsoleState) -> str:
    values = credentials(state)
    rows = []
    for spec in state.config.topology.services:
        url = state.config.public_url(spec.name)
        credential = CALLS[spec.name][0].format(**values) if spec.name in CALLS else "—"
        rows.append(
            [
                f"<b>{e(spec.title)}</b><br><code>{e(spec.name)}</code>",
                f'<a href="{e(url)}/info">{e(url)}</a><br><a href="{e(url)}/docs">API docs</a>',
                e(credential),
                f'<pre class="curl" id="curl-{e(spec.name)}">{e(curl_of(state, spec.name))}</pre>'
                if spec.name in CALLS
                else "",
            ]
        )
    return table(["service", "base URL", "credentials", "try it"], rows, "people")


def _keys(state: ConsoleState) -> str:
    topology = state.config.topology
    rows = []
    for member_id, title in topology.subsystems().items():
        member = member_id.rsplit("/", 1)[0]
        rows.append(
            [
                e(title),
                f"<code>{e(member_id)}</code>",
                f"<code class='key'>{e(client_key(member_id))}</code>",
                f"<code>{e(member)}</code>: <code class='key'>{e(client_key(member))}</code>",
            ]
        )
    return table(["subsystem", "X-Road-Client", "X-DPI-Client-Key", "member key"], rows)


def _text(value: Any) -> str:
    """A MOSIP identity value: plain, or a list of `{"language", "value"}`."""
    if isinstance(value, list):
        return ", ".join(str(v.get("value", "")) for v in value if isinstance(v, dict))
    return "" if value is None else str(value)


async def _people(state: ConsoleState) -> str:
    found = await state.client.identities(PEOPLE)
    if not found:
        return "<p>The ID system does not answer (or has no one enrolled).</p>"
    id_url = state.config.public_url("id_registry")
    rows = []
    for person in found:
        uin = str(person.get("UIN", ""))
        identity = person.get("identity") or {}
        name = _text(identity.get("fullName"))
        outbox = shlex.join(
            [
                "curl",
                "-s",
                "-H",
                f"X-DPI-Admin-Key: {state.config.admin_key}",
                f"{id_url}/v1/mock/otp-outbox?individualId={uin}&limit=1",
            ]
        )
        rows.append(
            [
                e(name),
                e(identity.get("dateOfBirth")),
                f"<code>{e(uin)}</code>",
                e(identity.get("phone") or "—"),
                f'<pre class="curl">{e(outbox)}</pre>',
            ]
        )
    return table(
        ["name", "date of birth", "UIN", "phone", "their OTPs (after an OTP request)"], rows
    )


@router.get("/people", response_class=HTMLResponse)
async def people_page(state: StateDep) -> HTMLResponse:
    body = (
        "<h1>People and credentials</h1><p>How to call each service by hand (sandbox defaults; "
        "every URL has the port offset applied). The curls answer 200 as they are.</p>"
        f"<h2>Services</h2>{_services(state)}"
        "<h2>Mediator client keys</h2><p>A member's subsystem calls through the mediator with "
        "<code>X-Road-Client</code> and its <code>X-DPI-Client-Key</code> (derived from the "
        "sandbox secret; see docs/interop_layer.md).</p>"
        f"{_keys(state)}"
        "<h2>Seeded people</h2><p>For trying the ID system by hand: send an OTP request "
        "(docs/id_registry.md, “Calling it”), then read it from the outbox.</p>"
        f"{await _people(state)}"
    )
    return page("People and credentials", "people", body)
