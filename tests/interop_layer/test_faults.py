"""Faults injected at the mediator, against a real sandbox (the pytest plugin's fixture): each
kind, how the message log records it, and the bad input the admin API refuses."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sandbox.cli import main
from sandbox.display import console
from sandbox.handle import DpiSandbox
from sandbox.scenarios.loader import load_scenario
from sandbox.scenarios.runner import Runner

pytestmark = pytest.mark.e2e

REGISTRIES = "DPI/GOV/CRVS/registries"
NIA = "DPI/GOV/NIA/id-registry"
LOCATIONS = f"/r1/{REGISTRIES}/fhir/Location"


@pytest.fixture
def health(dpi_sandbox: DpiSandbox) -> httpx.Client:
    return dpi_sandbox.mediator("DPI/GOV/MOH/hmis")


def _record(dpi_sandbox: DpiSandbox, response: httpx.Response) -> dict[str, Any]:
    x_road_id = response.headers["x-road-id"]
    found = dpi_sandbox.client("interop_layer").get(
        "/admin/messagelog/records", params={"xRoadId": x_road_id}
    )
    records = found.json()
    records = records.get("records", records) if isinstance(records, dict) else records
    assert len(records) == 1, found.text
    record: dict[str, Any] = records[0]
    return record


def test_error_in_the_providers_own_format_then_back_to_normal(dpi_sandbox, health):
    with dpi_sandbox.fault(REGISTRIES, status=503, path="/Location") as rule:
        failed = health.get(LOCATIONS)
        assert failed.status_code == 503
        assert failed.json() == {"detail": f"Injected fault {rule['id']} on {REGISTRIES}/fhir."}
        assert failed.headers["x-dpi-fault"] == rule["id"]
        record = _record(dpi_sandbox, failed)
        assert record["errorType"] == "Injected.error" and record["statusCode"] == 503
    assert health.get(LOCATIONS).status_code == 200


def test_an_id_system_error_is_mosip_shaped_and_a_body_can_be_given(dpi_sandbox):
    school = dpi_sandbox.mediator("DPI/GOV/MOE/emis")
    path = f"/r1/{NIA}/idauth/idauthentication/v1/auth/x/y/z"
    with dpi_sandbox.fault(NIA, status=500, service_code="idauth", method="POST"):
        answer = school.post(path, json={})
        assert (
            answer.status_code == 500 and answer.json()["errors"][0]["errorCode"] == "IDA-FLT-500"
        )
    with dpi_sandbox.fault(NIA, status=502, body={"mine": True}, method="POST"):
        assert school.post(path, json={}).json() == {"mine": True}


def test_latency_is_added_before_forwarding(dpi_sandbox, health):
    with dpi_sandbox.fault(REGISTRIES, kind="latency", latency_ms=400):
        started = time.monotonic()
        answer = health.get(LOCATIONS)
        assert answer.status_code == 200 and time.monotonic() - started >= 0.4
        assert _record(dpi_sandbox, answer)["errorType"] == "Injected.latency"


def test_provider_down_and_timeout_are_the_mediators_own_errors(dpi_sandbox, health):
    with dpi_sandbox.fault(REGISTRIES, kind="down"):
        down = health.get(LOCATIONS)
    assert down.status_code == 500 and down.json()["type"] == "Server.ServerProxy.NetworkError"
    assert _record(dpi_sandbox, down)["errorType"] == "Injected.down"
    with dpi_sandbox.fault(REGISTRIES, kind="timeout", timeout_ms=300):
        started = time.monotonic()
        late = health.get(LOCATIONS)
    assert late.status_code == 500 and time.monotonic() - started >= 0.3
    assert late.json()["type"] == "Server.ServerProxy.ServiceFailed"


def test_a_dropped_connection(dpi_sandbox, health):
    with dpi_sandbox.fault(REGISTRIES, kind="drop"), pytest.raises(httpx.TransportError):
        health.get(LOCATIONS)
    assert health.get(LOCATIONS).status_code == 200


def test_rate_limit_lets_the_limit_through_then_429(dpi_sandbox, health):
    with dpi_sandbox.fault(REGISTRIES, kind="rate_limit", limit=2, window_s=30):
        statuses = [health.get(LOCATIONS).status_code for _ in range(4)]
        limited = health.get(LOCATIONS)
    assert statuses == [200, 200, 429, 429]
    assert limited.headers["retry-after"] == "30"


def test_times_removes_the_rule_after_firing(dpi_sandbox, health):
    admin = dpi_sandbox.client("interop_layer")
    created = admin.post("/admin/faults", json={"provider": REGISTRIES, "kind": "down", "times": 1})
    assert created.status_code == 201, created.text
    assert [health.get(LOCATIONS).status_code for _ in range(2)] == [500, 200]
    assert admin.get("/admin/faults").json() == []


@pytest.mark.parametrize(
    ("rule", "names"),
    [
        ({"provider": "DPI/GOV/NOPE/x", "kind": "down"}, [REGISTRIES, NIA]),
        ({"provider": REGISTRIES, "serviceCode": "nope", "kind": "down"}, ["fhir"]),
        ({"provider": REGISTRIES, "kind": "down", "path": "/admin/faults"}, ["admin API"]),
        ({"provider": REGISTRIES, "serviceCode": "listMethods", "kind": "down"}, ["own service"]),
        ({"provider": REGISTRIES, "kind": "latency"}, ["latencyMs"]),
        ({"provider": REGISTRIES, "kind": "melt"}, ["kind"]),
        ({"provider": REGISTRIES, "kind": "error", "status": 200}, ["status"]),
    ],
)
def test_bad_rules_are_refused_naming_what_exists(dpi_sandbox, rule, names):
    admin = dpi_sandbox.client("interop_layer")
    refused = admin.post("/admin/faults", json=rule)
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"] == "Client.BadRequest"
    for name in names:
        assert name in refused.text
    assert admin.get("/admin/faults").json() == []


def test_admin_only_and_clear(dpi_sandbox):
    url = dpi_sandbox.url("interop_layer")
    assert httpx.post(f"{url}/admin/faults", json={}).status_code == 401
    admin = dpi_sandbox.client("interop_layer")
    for _ in range(2):
        admin.post("/admin/faults", json={"provider": REGISTRIES, "kind": "down"})
    assert len(admin.get("/admin/faults").json()) == 2
    assert admin.delete("/admin/faults").status_code == 204
    assert admin.get("/admin/faults").json() == []
    assert admin.delete("/admin/faults/nope").status_code == 404


def test_dpi_fault_add_list_clear(dpi_sandbox, health, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 200)
    where = ["--data-dir", str(dpi_sandbox.data_dir)]
    added = main(["fault", "add", REGISTRIES, "--kind", "error", "--status", "500", *where])
    assert added == 0 and "Added fault" in capsys.readouterr().out
    assert health.get(LOCATIONS).status_code == 500
    assert main(["fault", "list", *where]) == 0
    assert REGISTRIES in capsys.readouterr().out
    assert main(["fault", "add", "DPI/GOV/NOPE/x", *where]) == 1
    assert "Unknown provider" in " ".join(capsys.readouterr().err.split())
    assert main(["fault", "clear", *where]) == 0
    assert health.get(LOCATIONS).status_code == 200


SCENARIO = """
title: A registry outage, injected at the mediator
pattern: Resilience
summary: A fault rule by a scenario step; the mediated call gets the registries' own error.
description: The trainer injects a fault at the mediator, the health system's call fails, the
  trainer clears the fault.
steps:
  - title: The trainer takes the registries down for the health system
    actor: Workshop trainer
    boundary: trainer → interop_layer (admin API)
    kind: fault
    request:
      service: interop_layer
      method: POST
      path: /admin/faults
      json: {provider: DPI/GOV/CRVS/registries, kind: error, status: 503}
    expect:
      status: 201
    save:
      fault_id: $.id
  - title: The health system's facility search fails
    actor: Health system
    boundary: MOH/hmis → mediator → CRVS/registries
    request:
      client: DPI/GOV/MOH/hmis
      provider: DPI/GOV/CRVS/registries/fhir
      method: GET
      path: /Location
    expect:
      status: 503
      json: {detail: {contains: Injected fault}}
  - title: The trainer clears the fault
    actor: Workshop trainer
    boundary: trainer → interop_layer (admin API)
    kind: fault
    request:
      service: interop_layer
      method: DELETE
      path: /admin/faults/${fault_id}
    expect:
      status: 204
"""


def test_a_scenario_step_injects_and_clears_a_fault(dpi_sandbox, health, tmp_path):
    path = tmp_path / "registry-outage.yaml"
    path.write_text(SCENARIO)
    result = Runner(urls=dpi_sandbox.url).run(load_scenario(path))
    assert result.ok, result.failure_message()
    assert health.get(LOCATIONS).status_code == 200
