"""Two replicas of a service starting at the same moment on an empty PostgreSQL database: both
become ready and the database ends up exactly as one replica alone leaves it (the schema made
once, the seed written once) — the kernel's start-up lock lets one replica at a time create and
seed. Real processes, as `dpi up --replicas 2` starts them."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from bench.common import free_port, start_uvicorn, stop
from services.kernel.topology import load_topology
from tests.conftest import SHARED_POSTGRES, scratch_database

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.replicas,
    SHARED_POSTGRES,
]
SERVICES = [spec for spec in load_topology().services]


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the database's public schema."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}  # type: ignore[index]


def start(
    app: str, env_name: str, url: str, data_dir: Path, replica: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"{replica}.log"
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_PORT_OFFSET": "20000",  # the other services are not running: nobody there
        f"DPI_{env_name}_DATABASE_URL": url,
        "DPI_INTEROP_LAYER_REPLICA": replica,
        "DPI_SEED_CACHE": "",
    }
    process = start_uvicorn(app, port, env, probe=None, log=log)
    return process, f"http://127.0.0.1:{port}", log


def wait_all_ready(started: list[tuple[subprocess.Popen[bytes], str, Path]]) -> None:
    deadline = time.monotonic() + 90
    pending = list(started)
    with httpx.Client(timeout=2) as client:
        while pending:
            for entry in list(pending):
                process, url, log = entry
                if process.poll() is not None:
                    raise AssertionError(
                        f"{url} exited:\n{log.read_text(errors='replace')[-3000:]}"
                    )
                try:
                    if client.get(f"{url}/readyz").status_code == 200:
                        pending.remove(entry)
                except httpx.HTTPError:
                    pass
            assert time.monotonic() < deadline, f"not ready: {[url for _, url, _ in pending]}"
            time.sleep(0.1)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_two_replicas_starting_together_create_and_seed_once(spec, tmp_path: Path) -> None:
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    with (
        scratch_database(f"alone_{spec.name}", tmp_path / "unused.db") as alone,
        scratch_database(f"pair_{spec.name}", tmp_path / "unused.db") as pair,
    ):
        try:
            started.append(start(spec.app, spec.env_name, alone, tmp_path / "alone", "r1"))
            wait_all_ready(started)
            both = [
                start(spec.app, spec.env_name, pair, tmp_path / "pair", r) for r in ("r1", "r2")
            ]
            started += both
            wait_all_ready(both)
            one, two = row_counts(alone), row_counts(pair)
        finally:
            for process, _, _ in started:
                if process.poll() is None:
                    stop(process)
    assert sum(one.values()) > 0, "the service seeds something"
    assert two == one
