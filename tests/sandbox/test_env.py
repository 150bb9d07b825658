"""`dpi env`: base URLs with the offset, every credential and the mediator keys."""

from __future__ import annotations

import json
import subprocess

from sandbox.env import SERVICE_CREDENTIALS, sandbox_env
from services.consent.settings import ConsentSettings
from services.id_registry.settings import IdRegistrySettings
from services.kernel.credentials import client_key, mediator_key
from services.kernel.topology import load_topology
from services.registries.settings import RegistriesSettings
from services.sectoral_platform.settings import SectoralSettings
from tests.sandbox.helpers import dpi


def test_exports_carry_urls_with_the_offset_and_every_key(tmp_path):
    result = dpi("env", "--port-offset", "300", data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    script = f"eval \"$(cat <<'EOF'\n{result.stdout}\nEOF\n)\"; env"
    shell = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, env={}
    )
    seen = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    topology = load_topology()
    for spec in topology.services:
        assert seen[f"DPI_{spec.env_name}_URL"] == f"http://127.0.0.1:{spec.port + 300}"
    assert seen["DPI_CLIENT_KEY_MOH_HMIS"] == client_key("DPI/GOV/MOH/hmis")
    assert seen["DPI_CLIENT_KEY_MOE_EMIS"] == client_key("DPI/GOV/MOE/emis")
    assert seen["DPI_MEDIATOR_KEY"] == mediator_key()
    assert seen["DPI_ADMIN_KEY"] == "dpi-admin"
    assert seen["DPI_PARTNER_KEY_MOH_HMIS"] == IdRegistrySettings().api_key_for("moh-hmis")
    assert seen["DPI_SECTORAL_PLATFORM_ADMIN_PASSWORD"] == "district"


def test_json_names_the_same_values(tmp_path):
    result = dpi("env", "--json", "--port-offset", "0", data_dir=tmp_path / "d")
    document = json.loads(result.stdout)
    assert document["running"] is False
    assert document["urls"]["interop_layer"] == "http://127.0.0.1:8002"
    assert set(document["client_keys"]) == set(load_topology().subsystems())
    assert document["credentials"]["registries"]["api_key"] == "dpi-registries-sandbox-key"


def test_the_documented_defaults_are_the_services_own(monkeypatch, tmp_path):
    for values in SERVICE_CREDENTIALS.values():
        for variable, _ in values.values():
            monkeypatch.delenv(variable, raising=False)
    env = sandbox_env(load_topology(), tmp_path, 0)
    own = {
        "id_registry": {"misp_license_key": IdRegistrySettings().misp_license_key},
        "consent": {"org_api_key": ConsentSettings().org_api_key},
        "registries": {"api_key": RegistriesSettings().api_key},
        "sectoral_platform": {
            "admin_username": "admin",
            "admin_password": SectoralSettings().admin_password,
        },
    }
    assert env.credentials == own
    assert SectoralSettings().ida_api_key == env.partner_keys["DPI/GOV/MOH/hmis"]


def test_an_override_shows(tmp_path):
    result = dpi("env", "--json", data_dir=tmp_path / "d", env={"DPI_CONSENT_ORG_API_KEY": "mine"})
    assert json.loads(result.stdout)["credentials"]["consent"]["org_api_key"] == "mine"
