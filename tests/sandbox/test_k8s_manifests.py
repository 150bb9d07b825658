"""The Kubernetes manifests: generated from the topology, kept in step by `dpi generate --check`,
rendered by `kubectl kustomize` (both overlays) and valid against the Kubernetes OpenAPI schemas
that `kubernetes-validate` ships (offline)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sandbox import generate
from sandbox.cli import main
from sandbox.generate import initdb_text, write_all
from sandbox.k8s import DEPLOY, k8s_files
from services.kernel.topology import Topology, load_topology

ROOT = Path(__file__).resolve().parents[2]
# the oldest and the newest Kubernetes the check covers
VERSIONS = ("1.25", kubernetes_validate.utils.latest_version())
SERVICES = ("id-registry", "interop-layer", "consent", "registries", "sectoral-platform")


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing: .ci/run installs Debian's kubernetes-client")
        pytest.skip("kubectl not installed (apt-get install kubernetes-client)")
    return found


def render(overlay: Path) -> list[dict[str, Any]]:
    done = subprocess.run(
        [kubectl(), "kustomize", str(overlay)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return [item for item in yaml.safe_load_all(done.stdout) if item]


def validate_all(objects: list[dict[str, Any]]) -> None:
    for item in objects:
        for version in VERSIONS:
            kubernetes_validate.validate(item, version, strict=True)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def write_tree(root: Path, topology: Topology, safe: frozenset[str] | None) -> Path:
    for path, text in k8s_files(topology, initdb_sql=initdb_text(topology), safe=safe).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return root / DEPLOY / "overlays"


@pytest.mark.parametrize("overlay", ["workshop", "national"])
def test_each_overlay_renders_and_every_object_validates(overlay):
    objects = render(ROOT / DEPLOY / "overlays" / overlay)
    validate_all(objects)
    namespace = f"dpi-{overlay}"
    assert set(by_kind(objects, "Namespace")) == {namespace}
    assert all(
        o["metadata"].get("namespace") == namespace for o in objects if o["kind"] != "Namespace"
    )
    deployments = by_kind(objects, "Deployment")
    workloads = {**deployments, **by_kind(objects, "StatefulSet")}
    stateless = set(SERVICES) - {"interop-layer"}
    assert set(deployments) == {*stateless, "console"}
    assert set(by_kind(objects, "Service")) == set(workloads) | {"interop-layer-pods"}
    assert not by_kind(objects, "PersistentVolumeClaim")  # the mediator's: one per pod
    assert set(by_kind(objects, "Ingress")) == {"console"}
    assert not by_kind(objects, "Secret"), "secrets are referenced, never written"
    # every service scales (issue 18 part 1); the console stays one process, never two at once
    replicas = {"workshop": (1, 1), "national": (3, 6)}[overlay]
    autoscalers = by_kind(objects, "HorizontalPodAutoscaler")
    budgets = by_kind(objects, "PodDisruptionBudget")
    assert set(autoscalers) == set(budgets) == set(SERVICES)
    for name in SERVICES:
        workload = workloads[name]
        assert workload["spec"]["replicas"] == replicas[0], name
        assert "strategy" not in workload["spec"], name  # rolling updates
        target = autoscalers[name]["spec"]
        assert target["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": workload["kind"],
            "name": name,
        }
        assert (target["minReplicas"], target["maxReplicas"]) == replicas
        assert budgets[name]["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        }
    console_spec = deployments["console"]["spec"]
    assert console_spec["replicas"] == 1 and console_spec["strategy"] == {"type": "Recreate"}
    assert (
        "one process" in deployments["console"]["metadata"]["annotations"]["dpi-sandbox/replicas"]
    )
    # the mediator: a StatefulSet, a volume and a stable name (its message-log chain) per pod
    mediator = workloads["interop-layer"]
    assert mediator["kind"] == "StatefulSet"
    assert mediator["spec"]["serviceName"] == "interop-layer-pods"
    assert by_kind(objects, "Service")["interop-layer-pods"]["spec"]["clusterIP"] == "None"
    (template,) = mediator["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "data"
    (container,) = mediator["spec"]["template"]["spec"]["containers"]
    replica = {e["name"]: e for e in container["env"]}["DPI_INTEROP_LAYER_REPLICA"]
    assert replica["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    consent = deployments["consent"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "data", "emptyDir": {}} in consent  # its signing key is in its database
    limits = {"workshop": "256Mi", "national": "1Gi"}[overlay]
    (console,) = deployments["console"]["spec"]["template"]["spec"]["containers"]
    compose = yaml.safe_load(generate.COMPOSE.read_text())["services"]["console"]
    assert console["command"] == compose["command"]  # one way to run it in a container
    assert console["command"][-1] == str(console["ports"][0]["containerPort"])
    for name in SERVICES:
        pod = workloads[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == "dpi-sandbox:latest"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["limits"]["memory"] == limits
        env = {e["name"]: e for e in container["env"]}
        url = env[f"DPI_{name.replace('-', '_').upper()}_DATABASE_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {
            "name": "dpi-database",
            "key": name.replace("-", "_"),
        }
    assert ("postgres" in by_kind(objects, "StatefulSet")) == (overlay == "workshop")


def test_the_workshop_database_gets_one_database_per_service():
    objects = render(ROOT / DEPLOY / "overlays" / "workshop")
    script = by_kind(objects, "ConfigMap")["postgres-initdb"]["data"]["01-databases.sql"]
    for name in ("id_registry", "interop_layer", "consent", "registries", "sectoral_platform"):
        assert f"CREATE DATABASE {name};" in script


def test_a_replica_safe_service_gets_an_autoscaler_and_a_disruption_budget(tmp_path):
    """With only registries safe (pretended): it alone scales; the others stay at one pod."""
    overlays = write_tree(tmp_path, load_topology(), frozenset({"registries"}))
    workshop = render(overlays / "workshop")
    national = render(overlays / "national")
    validate_all(workshop + national)
    for objects, replicas, ceiling in ((workshop, 1, 1), (national, 3, 6)):
        deployments = by_kind(objects, "Deployment")
        assert deployments["registries"]["spec"]["replicas"] == replicas
        assert "strategy" not in deployments["registries"]["spec"]
        assert deployments["consent"]["spec"]["replicas"] == 1
        assert deployments["consent"]["spec"]["strategy"] == {"type": "Recreate"}
        assert by_kind(objects, "StatefulSet")["interop-layer"]["spec"]["replicas"] == 1
        (hpa,) = by_kind(objects, "HorizontalPodAutoscaler").values()
        assert hpa["spec"]["scaleTargetRef"]["name"] == "registries"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (replicas, ceiling)
        (pdb,) = by_kind(objects, "PodDisruptionBudget").values()
        assert pdb["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "registries"}},
        }


def test_the_schema_check_can_fail():
    objects = render(ROOT / DEPLOY / "overlays" / "workshop")
    deployment = by_kind(objects, "Deployment")["registries"]
    deployment["spec"]["replica"] = 2  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    deployment["spec"].pop("replica")
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def copy_checkout(target: Path) -> Path:
    for name in ("compose", "deploy"):
        shutil.copytree(ROOT / name, target / name)
    shutil.copy(ROOT / "README.md", target / "README.md")
    return target


def test_check_names_a_hand_edited_manifest_and_generate_repairs_it(tmp_path, monkeypatch, capsys):
    root = copy_checkout(tmp_path)
    monkeypatch.setattr(generate, "ROOT", root)
    assert main(["generate", "--check"]) == 0
    edited = root / DEPLOY / "base" / "registries.yaml"
    edited.write_text(edited.read_text().replace("replicas: 2", "replicas: 5"))
    capsys.readouterr()
    assert main(["generate", "--check"]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "deploy/k8s/base/registries.yaml" in err
    assert "replicas: 5" in edited.read_text(), "--check changes nothing"
    assert main(["generate"]) == 0
    assert main(["generate", "--check"]) == 0
    assert "replicas: 5" not in edited.read_text()


def test_a_topology_change_makes_the_manifests_drift(tmp_path):
    root = copy_checkout(tmp_path)
    topology = load_topology()
    moved = topology.model_copy(
        update={
            "services": tuple(
                s.model_copy(update={"port": 8014}) if s.name == "registries" else s
                for s in topology.services
            )
        }
    )
    stale = write_all(check=True, root=root, topology=moved)
    # the port is in registries' own manifests, and in every workload's URL ConfigMap
    for name in (*SERVICES, "console"):
        assert f"deploy/k8s/base/{name}.yaml" in stale
    assert "compose/compose.yaml" in stale
    assert "deploy/k8s/overlays/national/scale.yaml" not in stale
    assert write_all(check=True, root=root) == []
