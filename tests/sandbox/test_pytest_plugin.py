"""The pytest plugin, as an adapter's suite uses it: a real sandbox started by the fixture."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import USE_POSTGRES

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(USE_POSTGRES, reason="runs once, in the SQLite pass (starts a sandbox)"),
]

ADAPTER_TESTS = """
import httpx
import pytest

def test_handle(dpi_sandbox):
    consent = dpi_sandbox.url("consent")
    assert httpx.get(f"{consent}/readyz").json()["service"] == "consent"
    info = dpi_sandbox.client("sectoral_platform").get("/api/system/info")
    assert info.status_code == 200, info.text
    for name in ("id_registry", "interop_layer", "consent", "registries"):
        assert dpi_sandbox.client(name).get("/readyz").status_code == 200
    births = dpi_sandbox.client("registries").get("/data/births/1.0")
    assert births.status_code == 200, births.text
    hmis = dpi_sandbox.mediator("DPI/GOV/MOH/hmis")
    through = hmis.get("/r1/DPI/GOV/CRVS/registries/fhir/Location")
    assert through.status_code == 200, through.text
    assert through.json()["resourceType"] == "Bundle"
    person = dpi_sandbox.people.any()
    assert person.attributes
    one = dpi_sandbox.client("id_registry").get(f"/v1/identities/{person.uin}")
    assert one.status_code == 200 and one.json()["UIN"] == person.uin
    uid = dpi_sandbox.dhis2.uid("ANC 1st visit")
    element = dpi_sandbox.client("sectoral_platform").get(f"/api/dataElements/{uid}")
    assert element.json()["name"] == "ANC 1st visit"

def test_names_are_checked(dpi_sandbox):
    with pytest.raises(KeyError, match="did you mean 'consent'"):
        dpi_sandbox.url("consnet")
    with pytest.raises(KeyError, match="DPI/GOV/MOH/hmis"):
        dpi_sandbox.mediator("DPI/GOV/NOPE/x")
    with pytest.raises(KeyError, match="did you mean 'ANC 1st visit'"):
        dpi_sandbox.dhis2.uid("ANC 1st visti")

@pytest.mark.dpi_fault("DPI/GOV/CRVS/registries", status=503)
def test_a_fault_marker(dpi_sandbox):
    hmis = dpi_sandbox.mediator("DPI/GOV/MOH/hmis")
    assert hmis.get("/r1/DPI/GOV/CRVS/registries/fhir/Location").status_code == 503

def test_the_marker_fault_is_gone(dpi_sandbox):
    hmis = dpi_sandbox.mediator("DPI/GOV/MOH/hmis")
    assert hmis.get("/r1/DPI/GOV/CRVS/registries/fhir/Location").status_code == 200

def test_reset_gives_a_clean_sandbox(dpi_sandbox):
    seeded = [p.uin for p in dpi_sandbox.people.list(limit=500)]
    person = dpi_sandbox.people.any()
    path = f"/v1/identities/{person.uin}"
    changed = dpi_sandbox.client("id_registry").patch(path, json={"familyName": "Changed"})
    assert changed.status_code == 200, changed.text
    platform = dpi_sandbox.client("sectoral_platform")
    units = platform.get("/api/organisationUnits", params={"level": 4, "fields": "id"})
    key = {"de": dpi_sandbox.dhis2.uid("ANC 1st visit"), "pe": "202401",
           "ou": units.json()["organisationUnits"][0]["id"]}
    created = platform.post("/api/dataValues", params={**key, "value": "7"})
    assert created.status_code == 201, created.text
    assert platform.get("/api/dataValues", params=key).json() == ["7"]
    registries = dpi_sandbox.client("registries")
    births = registries.get("/data/births/1.0").json()
    with dpi_sandbox.fault("DPI/GOV/CRVS/registries", status=503):
        took = dpi_sandbox.reset()
    assert set(took) == set(dpi_sandbox.topology.names())
    admin = {"X-DPI-Admin-Key": dpi_sandbox.env.admin_key}
    for name in took:  # every service kept its seeded rows at start: no reset ran a seed
        answer = httpx.post(dpi_sandbox.url(name) + "/admin/reset", headers=admin).json()
        assert (answer["seeded"], answer["baseline"]) == (False, "start"), answer
    assert [p.uin for p in dpi_sandbox.people.list(limit=500)] == seeded
    again = dpi_sandbox.client("id_registry").get(f"/v1/identities/{person.uin}").json()
    assert again["identity"] == person.attributes
    assert platform.get("/api/dataValues", params=key).status_code == 404
    assert registries.get("/data/births/1.0").json() == births
    hmis = dpi_sandbox.mediator("DPI/GOV/MOH/hmis")
    assert hmis.get("/r1/DPI/GOV/CRVS/registries/fhir/Location").status_code == 200
    log = dpi_sandbox.client("interop_layer").post("/admin/messagelog/verify")
    assert log.json()["ok"] is True, log.text
    refused = httpx.post(dpi_sandbox.url("consent") + "/admin/reset")
    assert refused.status_code == 401
"""


def _pytest(
    directory: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if k != "DPI_SANDBOX_URL"}, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_fixture_starts_a_sandbox_and_the_handle_works(tmp_path):
    (tmp_path / "test_adapter.py").write_text(textwrap.dedent(ADAPTER_TESTS))
    result = _pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout


def test_attaching_to_nothing_is_a_session_error_that_says_how_to_start_one(tmp_path):
    (tmp_path / "test_adapter.py").write_text("def test_x(dpi_sandbox):\n    pass\n")
    result = _pytest(tmp_path, "--dpi-url", "http://127.0.0.1:1")
    assert result.returncode == 4
    output = " ".join((result.stdout + result.stderr).split())
    assert "no DPI sandbox mediator answers there" in output and "dpi up -d" in output


def test_docker_mode_without_a_daemon_fails_the_tests_saying_why(tmp_path):
    (tmp_path / "test_adapter.py").write_text("def test_x(dpi_sandbox):\n    pass\n")
    env = {"DOCKER_HOST": "unix:///nonexistent"}
    result = _pytest(tmp_path, "--dpi-docker", env=env)
    assert result.returncode == 1
    assert "did not start in Docker: No Docker daemon answers" in " ".join(result.stdout.split())
