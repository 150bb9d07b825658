"""The two overlays: `workshop` (one replica each, PostgreSQL in the cluster) and `national`
(replica-safe services scaled out, an external managed PostgreSQL, more resources)."""

from __future__ import annotations

from sandbox.k8s.base import Object, Workload, labels
from sandbox.k8s.policy import (
    NATIONAL_REPLICAS,
    NATIONAL_RESOURCES,
    POSTGRES_RESOURCES,
    POSTGRES_SECRET,
    replica_safe,
    single_reason,
)
from sandbox.k8s.scaling import autoscaler

POSTGRES_IMAGE = "postgres:16-alpine"  # as in compose/compose.yaml
POSTGRES_SIZE = "10Gi"


def namespace(name: str) -> Object:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def replicas_patch(work: Workload, replicas: int) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": work.kind,
        "metadata": {"name": work.host},
        "spec": {"replicas": replicas},
    }


def autoscaler_patch(work: Workload, replicas: int) -> Object:
    """The HPA's bounds: `replicas` to twice that, or exactly one."""
    full = autoscaler(work.host, work.kind, labels(work), replicas)
    ceiling = 1 if replicas == 1 else full["spec"]["maxReplicas"]
    return {
        "apiVersion": full["apiVersion"],
        "kind": full["kind"],
        "metadata": {"name": work.host},
        "spec": {"minReplicas": replicas, "maxReplicas": ceiling},
    }


def workshop_replicas(works: list[Workload], safe: frozenset[str] | None) -> list[Object]:
    found = []
    for work in works:
        found.append(replicas_patch(work, 1))
        if replica_safe(work.name, safe):
            found.append(autoscaler_patch(work, 1))
    return found


def national_scale(
    works: list[Workload], safe: frozenset[str] | None
) -> list[tuple[str | None, Object]]:
    """Each patch with the comment that goes above it (why a service stays at one replica)."""
    found: list[tuple[str | None, Object]] = []
    for work in works:
        if replica_safe(work.name, safe):
            patch = replicas_patch(work, NATIONAL_REPLICAS)
            found.append((None, patch))
            found.append((None, autoscaler_patch(work, NATIONAL_REPLICAS)))
        else:
            why = f"1 replica: {single_reason(work.name)}"
            patch = replicas_patch(work, 1)
            found.append((why, patch))
        containers = [{"name": work.host, "resources": NATIONAL_RESOURCES.manifest()}]
        patch["spec"]["template"] = {"spec": {"containers": containers}}
    return found


def postgres(initdb_sql: str) -> list[Object]:
    """One PostgreSQL for the workshop: a database per service, created by the init script."""
    labels = {"app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "dpi-sandbox"}
    selector = {"app.kubernetes.io/name": "postgres"}
    ready = {
        "exec": {"command": ["pg_isready", "-U", "postgres"]},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 6,
    }
    password = {"secretKeyRef": {"name": POSTGRES_SECRET, "key": "password"}}
    container: Object = {
        "name": "postgres",
        "image": POSTGRES_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}],
        "env": [
            {"name": "POSTGRES_PASSWORD", "valueFrom": password},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
        ],
        "readinessProbe": ready,
        "livenessProbe": ready | {"periodSeconds": 10},
        "resources": POSTGRES_RESOURCES.manifest(),
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "initdb", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": True},
        ],
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "postgres-initdb", "labels": labels},
            "data": {"01-databases.sql": initdb_sql},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "postgres", "labels": labels},
            "spec": {
                "selector": selector,
                "ports": [{"name": "postgres", "port": 5432, "targetPort": "postgres"}],
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "postgres", "labels": labels},
            "spec": {
                "serviceName": "postgres",
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [container],
                        "volumes": [
                            {"name": "initdb", "configMap": {"name": "postgres-initdb"}},
                        ],
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": POSTGRES_SIZE}},
                        },
                    }
                ],
            },
        },
    ]
