"""Chains of several replicas in one log (one replica after the other, so on SQLite too): purged
each from its own anchor, and a replica that comes back goes on with its own chain."""

from __future__ import annotations

import pytest

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.settings import InteropSettings
from services.kernel.testing import serve_in_process
from tests.interop_layer.support import ADMIN, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio


async def exchanges(settings: InteropSettings, fakes, replica: str, calls: int) -> None:
    exchanger, decider = fakes
    named = settings.model_copy(update={"replica": replica})
    app = create_app(named, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        for n in range(calls):
            url = f"/r1/{REGISTRIES}/echo/item/{n}"
            assert (await client.get(url, headers=client_headers(HEALTH))).status_code == 200


async def test_every_chain_is_purged_from_its_own_anchor(provider, make_settings, fakes):
    settings = make_settings(provider[1])
    await exchanges(settings, fakes, "a", 2)
    await exchanges(settings, fakes, "b", 3)
    exchanger, decider = fakes
    named = settings.model_copy(update={"replica": "b"})
    app = create_app(named, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        purged = await client.post(
            "/admin/messagelog/purge", json={"before": "2999-01-01T00:00:00Z"}, headers=ADMIN
        )
        assert purged.json() == {"purged": 5, "anchorSeq": 3, "remaining": 0}
        status = (await client.get("/admin/messagelog/status", headers=ADMIN)).json()
        assert status["chains"] == {
            "a": {"headPosition": 2, "anchorPosition": 2},
            "b": {"headPosition": 3, "anchorPosition": 3},
        }
    report = verify_database(settings.database(), replica="b")
    assert report.ok is True, report
    assert (report.head_seq, report.anchor_seq, report.checked) == (3, 3, 0)

    await exchanges(settings, fakes, "a", 1)  # a comes back: its chain goes on from its anchor
    app = create_app(named, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        records = (await client.get("/admin/messagelog/records", headers=ADMIN)).json()
    [record] = records["records"]
    assert (record["seq"], record["replica"], record["position"]) == (6, "a", 3)
    report = verify_database(settings.database(), replica="a")
    assert report.ok is True, report
    assert (report.head_seq, report.anchor_seq, report.checked) == (3, 2, 1)


def test_the_replica_name_is_set_or_the_pods_or_main(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr("socket.gethostname", lambda: "interop-layer-0")
    assert InteropSettings(data_dir=tmp_path).replica_id() == "main"
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert InteropSettings(data_dir=tmp_path).replica_id() == "interop-layer-0"
    assert InteropSettings(data_dir=tmp_path, replica="r2").replica_id() == "r2"
    with pytest.raises(ValueError, match="a replica name is 1-100 letters"):
        InteropSettings(data_dir=tmp_path, replica="a:b")
