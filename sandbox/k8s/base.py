"""The kustomize base: per workload a ConfigMap (its environment), a Deployment, a Service, and
where it applies a PersistentVolumeClaim, a PodDisruptionBudget and a HorizontalPodAutoscaler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.console.config import container_command
from sandbox.env import SERVICE_CREDENTIALS
from sandbox.k8s.policy import (
    CONSOLE,
    DATABASE_SECRET,
    IMAGE,
    ISSUE,
    NATIONAL_REPLICAS,
    PART_OF,
    PERSISTENT_DATA,
    SANDBOX_SECRET,
    SINGLE_REPLICA,
    WORKSHOP_RESOURCES,
    replica_safe,
)
from services.kernel.serving import HTTP_PROTOCOL
from services.kernel.topology import Topology

Object = dict[str, Any]
DATA_SIZE = "1Gi"
ANNOTATION = "dpi-sandbox/replicas"


def dns_name(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True)
class Workload:
    """One Deployment: a topology service, or the console."""

    name: str  # topology name (the database Secret's key)
    app: str
    port: int
    component: str  # "service" or "console"
    database: bool

    @property
    def host(self) -> str:
        return dns_name(self.name)

    @property
    def env_name(self) -> str:
        return self.name.upper()


def workloads(topology: Topology) -> list[Workload]:
    found = [Workload(s.name, s.app, s.port, "service", True) for s in topology.start_order()]
    console = Workload(CONSOLE.name, CONSOLE.app, topology.control_port, "console", False)
    return [*found, console]


def labels(work: Workload) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": work.host,
        "app.kubernetes.io/component": work.component,
        "app.kubernetes.io/part-of": PART_OF,
    }


def selector(work: Workload) -> dict[str, str]:
    return {"app.kubernetes.io/name": work.host}


def config_map(work: Workload, topology: Topology) -> Object:
    data = {
        f"DPI_{s.env_name}_URL": f"http://{dns_name(s.name)}:{s.port}" for s in topology.services
    }
    data.update({"DPI_DATA_DIR": "/data", "DPI_LOG_LEVEL": "INFO", "DPI_LOG_FORMAT": "json"})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{work.host}-env", "labels": labels(work)},
        "data": data,
    }


def _secret_env(name: str, secret: str, key: str, *, optional: bool = False) -> Object:
    ref: Object = {"name": secret, "key": key}
    if optional:
        ref["optional"] = True
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def secret_env(work: Workload) -> list[Object]:
    """Secret references only: the values are created in the cluster (docs/deploy.md)."""
    env = []
    if work.database:
        env.append(_secret_env(f"DPI_{work.env_name}_DATABASE_URL", DATABASE_SECRET, work.name))
    env.append(_secret_env("DPI_ADMIN_KEY", SANDBOX_SECRET, "admin-key"))
    env.append(_secret_env("DPI_SANDBOX_SECRET", SANDBOX_SECRET, "sandbox-secret"))
    for variable, _ in SERVICE_CREDENTIALS.get(work.name, {}).values():
        env.append(_secret_env(variable, SANDBOX_SECRET, variable, optional=True))
    return env


def _probe(path: str, *, period: int, failures: int) -> Object:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def probes(_work: Workload) -> Object:
    """The services' probes; the console serves `/healthz` and `/readyz` too."""
    return {
        "startupProbe": _probe("/healthz", period=2, failures=30),
        "readinessProbe": _probe("/readyz", period=5, failures=3),
        "livenessProbe": _probe("/healthz", period=10, failures=3),
    }


def container(work: Workload) -> Object:
    if work.component == "console":  # as compose and `dpi up --docker` run it
        command = container_command(work.port)
    else:
        command = ["uvicorn", work.app, "--host", "0.0.0.0", "--port", str(work.port)]
        command += ["--http", HTTP_PROTOCOL]
    return {
        "name": work.host,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "ports": [{"name": "http", "containerPort": work.port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": f"{work.host}-env"}}],
        "env": secret_env(work),
        **probes(work),
        "resources": WORKSHOP_RESOURCES.manifest(),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def deployment(work: Workload, safe: frozenset[str] | None) -> Object:
    single = not replica_safe(work.name, safe)
    data: Object = {"name": "data", "emptyDir": {}}
    if work.name in PERSISTENT_DATA:
        data = {"name": "data", "persistentVolumeClaim": {"claimName": f"{work.host}-data"}}
    metadata: Object = {"name": work.host, "labels": labels(work)}
    spec: Object = {"replicas": 1 if single else 2, "selector": {"matchLabels": selector(work)}}
    if single:
        # never two pods at once, not even during a rollout
        metadata["annotations"] = {ANNOTATION: f"1 until {ISSUE}: {SINGLE_REPLICA[work.name]}"}
        spec["strategy"] = {"type": "Recreate"}
    spec["template"] = {
        "metadata": {"labels": labels(work)},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65534,  # `nobody`, as compose/Dockerfile runs it
                "runAsGroup": 65534,
                "fsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container(work)],
            "volumes": [data, {"name": "tmp", "emptyDir": {}}],
        },
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def service(work: Workload) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": work.host, "labels": labels(work)},
        "spec": {
            "selector": selector(work),
            "ports": [{"name": "http", "port": work.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def claim(work: Workload) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": f"{work.host}-data",
            "labels": labels(work),
            "annotations": {"dpi-sandbox/holds": PERSISTENT_DATA[work.name]},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": DATA_SIZE}},
        },
    }


def disruption_budget(work: Workload) -> Object:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": work.host, "labels": labels(work)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(work)}},
    }


def autoscaler(work: Workload, replicas: int = 2) -> Object:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": work.host, "labels": labels(work)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": work.host},
            "minReplicas": replicas,
            "maxReplicas": 2 * replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def ingress(work: Workload) -> Object:
    backend = {"service": {"name": work.host, "port": {"name": "http"}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": work.host,
            "labels": labels(work),
            # the console streams live exchanges (server-sent events): no proxy buffering
            "annotations": {"nginx.ingress.kubernetes.io/proxy-buffering": "off"},
        },
        "spec": {
            "rules": [
                {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
            ]
        },
    }


def workload_objects(
    work: Workload, topology: Topology, safe: frozenset[str] | None
) -> list[Object]:
    found = [config_map(work, topology)]
    if work.name in PERSISTENT_DATA:
        found.append(claim(work))
    found += [deployment(work, safe), service(work)]
    if replica_safe(work.name, safe):
        found += [disruption_budget(work), autoscaler(work)]
    if work.component == "console":
        found.append(ingress(work))
    return found


__all__ = ["NATIONAL_REPLICAS", "Object", "Workload", "workload_objects", "workloads"]
