"""The kustomize base: per workload a ConfigMap (its environment), a Deployment (a StatefulSet
with a volume per pod where it keeps files of its own), a Service, and for a replica-safe
workload a PodDisruptionBudget and a HorizontalPodAutoscaler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.console.config import container_command
from sandbox.env import SERVICE_CREDENTIALS
from sandbox.k8s.policy import (
    CONSOLE,
    DATABASE_SECRET,
    IMAGE,
    NATIONAL_REPLICAS,
    PART_OF,
    PERSISTENT_DATA,
    SANDBOX_SECRET,
    WORKSHOP_RESOURCES,
    replica_safe,
    single_reason,
)
from sandbox.k8s.scaling import autoscaler, disruption_budget
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
    stateful: bool = False  # files of its own per replica: a StatefulSet

    @property
    def kind(self) -> str:
        return "StatefulSet" if self.stateful else "Deployment"

    @property
    def pods(self) -> str:
        """A StatefulSet's governing (headless) Service: each pod's stable DNS name."""
        return f"{self.host}-pods"

    @property
    def host(self) -> str:
        return dns_name(self.name)

    @property
    def env_name(self) -> str:
        return self.name.upper()


def workloads(topology: Topology) -> list[Workload]:
    found = [
        Workload(s.name, s.app, s.port, "service", True, s.name in PERSISTENT_DATA)
        for s in topology.start_order()
    ]
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
    if work.stateful:  # the replica's name (its message-log chain): the pod's stable name
        pod_name = {"fieldRef": {"fieldPath": "metadata.name"}}
        env.append({"name": f"DPI_{work.env_name}_REPLICA", "valueFrom": pod_name})
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
    """The workload: a Deployment, or a StatefulSet whose pods each get a volume of their own."""
    single = not replica_safe(work.name, safe)
    metadata: Object = {"name": work.host, "labels": labels(work)}
    spec: Object = {"replicas": 1 if single else 2, "selector": {"matchLabels": selector(work)}}
    if single:
        metadata["annotations"] = {ANNOTATION: f"1: {single_reason(work.name)}"}
        if not work.stateful:  # never two pods at once, not even during a rollout
            spec["strategy"] = {"type": "Recreate"}
    volumes: list[Object] = [{"name": "tmp", "emptyDir": {}}]
    if work.stateful:
        # a StatefulSet replaces a pod only once the old one is gone; its pods start together
        spec["serviceName"] = work.pods
        spec["podManagementPolicy"] = "Parallel"
        metadata["annotations"] = {
            **metadata.get("annotations", {}),
            "dpi-sandbox/holds": PERSISTENT_DATA[work.name],
        }
    else:
        volumes.insert(0, {"name": "data", "emptyDir": {}})
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
            "volumes": volumes,
        },
    }
    if work.stateful:
        spec["volumeClaimTemplates"] = [data_claim()]
    return {"apiVersion": "apps/v1", "kind": work.kind, "metadata": metadata, "spec": spec}


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


def data_claim() -> Object:
    """A StatefulSet pod's own `/data` volume (it outlives the pod, and a scale down)."""
    return {
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": DATA_SIZE}},
        },
    }


def pods_service(work: Workload) -> Object:
    """The StatefulSet's governing Service: headless, a DNS name per pod."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": work.pods, "labels": labels(work)},
        "spec": {
            "clusterIP": "None",
            "selector": selector(work),
            "ports": [{"name": "http", "port": work.port, "targetPort": "http", "protocol": "TCP"}],
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
    found = [config_map(work, topology), deployment(work, safe), service(work)]
    if work.stateful:
        found.append(pods_service(work))
    if replica_safe(work.name, safe):
        found += [
            disruption_budget(work.host, labels(work)),
            autoscaler(work.host, work.kind, labels(work)),
        ]
    if work.component == "console":
        found.append(ingress(work))
    return found


__all__ = ["NATIONAL_REPLICAS", "Object", "Workload", "workload_objects", "workloads"]
