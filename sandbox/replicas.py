"""`dpi up --replicas N`: one process per service is all the sandbox runs today; anything else
is refused before a process starts, saying why."""

from __future__ import annotations

from sandbox.launcher import LaunchError
from services.kernel.settings import load_settings
from services.kernel.topology import Topology

ISSUE = "issue 18 part 1"


def on_sqlite(topology: Topology) -> list[str]:
    """The services that would open a SQLite file (no `DPI_<SERVICE>_DATABASE_URL` set)."""
    return [
        spec.name
        for spec in topology.start_order()
        if load_settings(spec.name).database().startswith("sqlite")
    ]


def check_replicas(topology: Topology, replicas: int, *, docker: bool = False) -> None:
    """Raise LaunchError unless `replicas` is what the sandbox can run (one)."""
    if replicas < 1:
        raise LaunchError(f"--replicas {replicas}: at least one process per service is needed.")
    if replicas == 1:
        return
    embedded = [] if docker else on_sqlite(topology)
    if embedded:
        variables = ", ".join(f"DPI_{name.upper()}_DATABASE_URL" for name in embedded)
        raise LaunchError(
            f"--replicas {replicas} needs PostgreSQL: SQLite is a file inside one process, and "
            f"{', '.join(embedded)} would use it. Set {variables} to PostgreSQL URLs "
            "(postgresql+psycopg://…), or run one replica."
        )
    raise LaunchError(
        f"--replicas {replicas} on PostgreSQL is not implemented yet ({ISSUE}): in-process "
        "caches are not invalidated across replicas, outboxes and pub/sub delivery do not claim "
        "their rows. Run --replicas 1."
    )
