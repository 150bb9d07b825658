"""What the Kubernetes manifests must know about each service beyond `topology.yaml`: whether it
may run as several replicas, what it keeps on disk, and how much it is given.

The tooling may not import the services, so these facts are stated here, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGE = "dpi-sandbox:latest"  # the image compose/compose.yaml builds from compose/Dockerfile
PART_OF = "dpi-sandbox"
DATABASE_SECRET = "dpi-database"  # one key per service (its name): a PostgreSQL URL
SANDBOX_SECRET = "dpi-sandbox"  # admin-key, sandbox-secret, optional service credentials
POSTGRES_SECRET = "dpi-postgres"  # workshop overlay only: the in-cluster PostgreSQL's password
NATIONAL_REPLICAS = 3  # for a replica-safe service; its HPA may go to twice that

# What may not run as several replicas, with its reason (written into the workload's annotation
# and the national overlay). Every topology service is replica-safe on PostgreSQL (issue 18 part
# 1): caches shared (LISTEN/NOTIFY), background work claimed, the consent signing key and the
# injected faults in the database, writes serialised where they read before they write, and
# replicas starting together on an empty database take turns (`services/kernel/startlock.py`,
# from the `rep-launch` work). docs/deploy.md lists the tests that prove each.
SINGLE_REPLICA: dict[str, str] = {
    "console": "the workshop console (issue 17) is one process: runs and live streams are in it",
}

# Services that keep files of their own under DPI_DATA_DIR even on PostgreSQL: a StatefulSet,
# whose every pod gets a volume of its own and a stable name (a volumeClaimTemplate).
PERSISTENT_DATA: dict[str, str] = {
    "interop_layer": (
        "each replica's message-log signing key and its exported, signed head anchors; the pod's "
        "stable name is the replica's name, so its hash chain goes on after a restart"
    ),
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


def single_reason(name: str) -> str:
    """Why `name` stays at one replica (one that tests pretend unsafe has no reason of its own)."""
    return SINGLE_REPLICA.get(name, "not marked replica-safe")
