from pathlib import Path

import pytest

from services.kernel.settings import ServiceSettings, load_settings
from services.kernel.topology import load_topology, service_url


def test_database_defaults_to_sqlite_file_in_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DPI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DPI_CONSENT_DATABASE_URL", raising=False)
    settings = load_settings("consent")
    assert settings.data_dir == tmp_path
    assert settings.database() == f"sqlite:///{tmp_path.resolve() / 'consent.db'}"


def test_database_url_is_per_service(monkeypatch: pytest.MonkeyPatch):
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/consent"
    monkeypatch.setenv("DPI_CONSENT_DATABASE_URL", url)
    assert load_settings("consent").database() == url
    assert load_settings("registries").database().startswith("sqlite:///")


def test_service_specific_settings_use_the_service_prefix(monkeypatch: pytest.MonkeyPatch):
    class IdSettings(ServiceSettings):
        psut_secret: str = "default"

    monkeypatch.setenv("DPI_ID_REGISTRY_PSUT_SECRET", "s3cret")
    monkeypatch.setenv("DPI_LOG_LEVEL", "DEBUG")
    settings = load_settings("id_registry", IdSettings)
    assert settings.psut_secret == "s3cret"
    assert settings.log_level == "DEBUG"
    assert settings.data_dir == Path(".dpi-data")


def test_service_urls_follow_topology_and_offset(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DPI_CONSENT_URL", raising=False)
    monkeypatch.setenv("DPI_PORT_OFFSET", "100")
    port = load_topology().service("consent").port
    assert service_url("consent") == f"http://127.0.0.1:{port + 100}"
    monkeypatch.setenv("DPI_CONSENT_URL", "http://consent:8003/")
    assert service_url("consent") == "http://consent:8003"


def test_bad_port_offset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DPI_PORT_OFFSET", "ten")
    with pytest.raises(ValueError, match="DPI_PORT_OFFSET must be an integer"):
        service_url("consent")
