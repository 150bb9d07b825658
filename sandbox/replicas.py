"""`dpi up --replicas N`: N processes per service sharing its port, on PostgreSQL only; what
cannot run is refused before a process starts, saying why."""

from __future__ import annotations

from sandbox.errors import LaunchError
from services.kernel.settings import load_settings
from services.kernel.topology import Topology


def on_sqlite(topology: Topology) -> list[str]:
    """The services that would open a SQLite file (no `DPI_<SERVICE>_DATABASE_URL` set)."""
    return [
        spec.name
        for spec in topology.start_order()
        if load_settings(spec.name).database().startswith("sqlite")
    ]


def check_replicas(topology: Topology, replicas: int, *, docker: bool = False) -> None:
    """Raise LaunchError unless `replicas` processes per service can run here."""
    if replicas < 1:
        raise LaunchError(f"--replicas {replicas}: at least one process per service is needed.")
    if replicas == 1:
        return
    if docker:
        raise LaunchError(
            f"--docker --replicas {replicas} is not implemented: `dpi up --docker` runs one "
            "container per service. Scale the PostgreSQL compose file instead: "
            f"DPI_REPLICAS={replicas} docker compose -f compose/compose.yaml -f "
            "compose/compose.replicas.yaml up "
            "(docs/deploy.md)."
        )
    embedded = on_sqlite(topology)
    if embedded:
        variables = ", ".join(f"DPI_{name.upper()}_DATABASE_URL" for name in embedded)
        raise LaunchError(
            f"--replicas {replicas} needs PostgreSQL: SQLite is a file inside one process, and "
            f"{', '.join(embedded)} would use it. Set {variables} to PostgreSQL URLs "
            "(postgresql+psycopg://…), or run one replica."
        )
