"""What the Kubernetes manifests must know about each service beyond `topology.yaml`: whether it
may run as several replicas, what it keeps on disk, and how much it is given.

The tooling may not import the services, so these facts are stated here, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

ISSUE = "issue 18 part 1"
IMAGE = "dpi-sandbox:latest"  # the image compose/compose.yaml builds from compose/Dockerfile
PART_OF = "dpi-sandbox"
DATABASE_SECRET = "dpi-database"  # one key per service (its name): a PostgreSQL URL
SANDBOX_SECRET = "dpi-sandbox"  # admin-key, sandbox-secret, optional service credentials
POSTGRES_SECRET = "dpi-postgres"  # workshop overlay only: the in-cluster PostgreSQL's password
NATIONAL_REPLICAS = 3  # for a replica-safe service; its HPA may go to twice that

# Every service is held at one replica until issue 18 part 1 lands; the reason is written into
# the Deployment's annotations and the national overlay. A service leaves this table only when
# it is proven safe with N processes on one database.
SINGLE_REPLICA: dict[str, str] = {
    "id_registry": (
        "its caches are shared (LISTEN/NOTIFY) and its outbox claimed, and group commit is "
        "SQLite-only; two replicas starting at once on an empty database are not tested yet"
    ),
    "interop_layer": (
        "injected faults live in the process, and its message-log signing key and trust anchors "
        "are on its /data volume (each replica keeps its own hash chain, named after its pod)"
    ),
    "consent": "the receipt signing key is on its /data volume (each replica would make its own)",
    "registries": (
        "its outbox is replica-safe (published under a claim); two replicas starting at once "
        "on an empty database (schema creation, seed) are not tested yet"
    ),
    "sectoral_platform": (
        "its outbox, async tracker import jobs and periodic tracker aggregation are claimed; "
        "two replicas starting at once on an empty database (schema creation, seed) are not "
        "tested yet"
    ),
    "console": "the workshop console (issue 17) is one process: runs and live streams are in it",
}

# Services that write files under DPI_DATA_DIR even on PostgreSQL: a PersistentVolumeClaim.
PERSISTENT_DATA: dict[str, str] = {
    "consent": "the receipt and consent-record signing key",
    "interop_layer": "the message-log signing key and the exported, signed head anchors",
}


@dataclass(frozen=True)
class Resources:
    """Requests and limits of one container (Kubernetes quantities)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def manifest(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


# base and workshop: the compose file's 256m per service; national: room for national volumes
WORKSHOP_RESOURCES = Resources("100m", "128Mi", "1", "256Mi")
NATIONAL_RESOURCES = Resources("500m", "512Mi", "2", "1Gi")
POSTGRES_RESOURCES = Resources("250m", "256Mi", "2", "512Mi")


@dataclass(frozen=True)
class Console:
    """The workshop console (issue 17), on the topology's control port, behind the Ingress."""

    name: str = "console"
    app: str = "sandbox.console.main:app"


CONSOLE = Console()


def replica_safe(name: str, safe: frozenset[str] | None = None) -> bool:
    """A service may run as several replicas (given `safe`, that set decides: for tests)."""
    if safe is not None:
        return name in safe
    return name not in SINGLE_REPLICA
