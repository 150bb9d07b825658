"""What lets a replica-safe workload scale: a PodDisruptionBudget (one pod down at a time) and
a HorizontalPodAutoscaler on CPU, aimed at its Deployment or StatefulSet."""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]


def disruption_budget(host: str, labels: dict[str, str]) -> Object:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": host, "labels": labels},
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": host}},
        },
    }


def autoscaler(host: str, kind: str, labels: dict[str, str], replicas: int = 2) -> Object:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": host, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": host},
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
