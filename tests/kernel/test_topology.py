from pathlib import Path

import pytest
import yaml

from services.kernel import topology as topo


def test_topology_lists_the_five_services_with_unique_ports_and_members():
    t = topo.load_topology()
    assert set(t.names()) == {
        "id_registry",
        "interop_layer",
        "consent",
        "registries",
        "sectoral_platform",
    }
    ports = [s.port for s in t.services]
    assert len(set(ports)) == len(ports)
    members = [t.member_id(n) for n in t.names() if t.member_id(n)]
    assert len(set(members)) == len(members)
    assert t.member_id("id_registry") == "DPI/GOV/NIA/id-registry"
    assert t.member_id("interop_layer") is None


def test_start_order_puts_dependencies_first():
    order = [s.name for s in topo.load_topology().start_order()]
    for spec in topo.load_topology().services:
        for dep in spec.depends_on:
            assert order.index(dep) < order.index(spec.name)


def test_every_app_module_exists():
    import importlib.util

    for spec in topo.load_topology().services:
        module = spec.app.split(":")[0]
        assert importlib.util.find_spec(module) is not None, module


def test_cycle_and_unknown_dependency_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    raw = yaml.safe_load(topo.DEFAULT_PATH.read_text())
    raw["services"][0]["depends_on"] = ["sectoral_platform"]
    path = tmp_path / "cycle.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("DPI_TOPOLOGY", str(path))
    with pytest.raises(ValueError, match="dependency cycle"):
        topo.load_topology()
    raw["services"][0]["depends_on"] = ["nowhere"]
    path2 = tmp_path / "unknown.yaml"
    path2.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("DPI_TOPOLOGY", str(path2))
    with pytest.raises(KeyError, match="nowhere"):
        topo.load_topology()


def test_declared_subscriptions_name_member_services(tmp_path: Path, monkeypatch):
    t = topo.load_topology()
    health = [s for s in t.subscriptions if s.subscriber == "sectoral_platform"]
    assert [(s.room, s.event_type, s.push_path) for s in health] == [
        ("registries", "birth-registered", "/api/civilRegistration/events")
    ]
    raw = yaml.safe_load(topo.DEFAULT_PATH.read_text())
    good = {"subscriber": "id_registry", "room": "registries", "event_type": "x", "push_path": "/x"}
    for change, message in (
        ({"subscriber": "interop_layer"}, "is no member"),
        ({"room": "nowhere"}, "nowhere"),
        ({"push_path": None}, "needs push_path"),
        ({"event_type": "birth-registered", "push_path": "/y"}, "declared twice"),
        ({"push_path": "relative"}, "should match pattern"),
        ({"pushUrl": "http://x"}, "Extra inputs"),
    ):
        raw["subscriptions"] = [*yaml.safe_load(topo.DEFAULT_PATH.read_text())["subscriptions"]]
        raw["subscriptions"].append({**good, **change})
        path = tmp_path / f"subs-{len(message)}-{message[:4]}.yaml"
        path.write_text(yaml.safe_dump(raw))
        monkeypatch.setenv("DPI_TOPOLOGY", str(path))
        with pytest.raises((ValueError, KeyError), match=message):
            topo.load_topology()
