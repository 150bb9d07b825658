"""`dpi up --replicas N`: what cannot run is refused before anything starts — more than one
process per service on SQLite (embedded), with `--docker` (one container per service), or none.
Replicas on PostgreSQL run in `tests/sandbox/test_replicas_e2e.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.cli import main
from services.kernel.topology import load_topology

NAMES = [spec.name for spec in load_topology().services]


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No database URL from the environment or a `.env`; a data directory that does not exist."""
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(f"DPI_{name.upper()}_DATABASE_URL", raising=False)
    monkeypatch.setenv("DPI_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "data"


def up(data_dir: Path, *args: str) -> int:
    return main(["up", "--detach", "--data-dir", str(data_dir), *args])


def test_more_than_one_replica_on_sqlite_is_refused_before_anything_starts(clean_env, capsys):
    assert up(clean_env, "--replicas", "2") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--replicas 2 needs PostgreSQL" in err
    for name in NAMES:
        assert f"DPI_{name.upper()}_DATABASE_URL" in err
    assert not clean_env.exists(), "nothing was prepared, let alone started"
    assert not (clean_env.parent / "state").exists()


def test_only_the_services_left_on_sqlite_are_named(clean_env, capsys, monkeypatch):
    for name in NAMES:
        if name != "registries":
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
            monkeypatch.setenv(f"DPI_{name.upper()}_DATABASE_URL", url)
    assert up(clean_env, "--replicas", "3") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "registries would use it" in err
    assert "DPI_REGISTRIES_DATABASE_URL" in err and "DPI_CONSENT_DATABASE_URL" not in err
    assert not clean_env.exists()


def test_docker_mode_with_replicas_is_refused_pointing_at_the_compose_file(clean_env, capsys):
    assert main(["up", "--docker", "--replicas", "2"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--docker --replicas 2 is not implemented" in err
    assert (
        "DPI_REPLICAS=2 docker compose -f compose/compose.yaml -f compose/compose.replicas.yaml up"
        in err
    )


def test_zero_replicas_is_refused(clean_env, capsys):
    assert up(clean_env, "--replicas", "0") == 2
    assert "at least one process per service" in capsys.readouterr().err
    assert not clean_env.exists()
