"""The mediator and its echo provider as processes, for the tests that kill them or their
database (`test_messagelog_kill9.py`, `test_database_outage.py`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from bench.common import free_port, start_uvicorn

HEALTH = "DPI/GOV/MOH/hmis"
REGISTRIES = "DPI/GOV/CRVS/registries"


def start_provider(processes: list[subprocess.Popen[bytes]]) -> str:
    """The echo provider (`tests.interop_layer.support:provider_app`); its base URL."""
    port = free_port()
    processes.append(
        start_uvicorn(
            "tests.interop_layer.support:provider_app",
            port,
            {"DPI_LOG_LEVEL": "WARNING"},
            factory=True,
            probe="/openapi-doc",
        )
    )
    return f"http://127.0.0.1:{port}"


def start_mediator(
    data_dir: Path, url: str, provider: str, processes: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], str]:
    catalogue = data_dir / "catalogue.yaml"
    catalogue.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {
                        "provider": REGISTRIES,
                        "serviceCode": "echo",
                        "baseUrl": provider,
                        "pathPrefix": "/echo",
                    }
                ],
                "rights": [{"client": HEALTH, "provider": REGISTRIES, "serviceCode": "echo"}],
            }
        )
    )
    port = free_port()
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_INTEROP_LAYER_DATABASE_URL": url,
        "DPI_INTEROP_LAYER_CATALOGUE_PATH": str(catalogue),
    }
    process = start_uvicorn(
        "services.interop_layer.main:app", port, env, log=data_dir / f"mediator-{port}.log"
    )
    processes.append(process)
    return process, f"http://127.0.0.1:{port}/r1/{REGISTRIES}/echo"


def logged(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT x_road_id, status_code FROM im_log_record"))
        found = {str(x_road_id): int(status) for x_road_id, status in rows}
    engine.dispose()
    return found
