"""Two mediator replicas on one PostgreSQL database each keep their own message-log chain (as each
X-Road security server keeps its own log): interleaved records, both chains verify, a tampered
record is named with its replica and position."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import create_engine, text

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chains import ChainInUse
from services.interop_layer.messagelog.trust import read_anchor, read_keys
from services.interop_layer.messagelog.verify import KnownHead, verify_database
from services.kernel.testing import serve_in_process
from tests.conftest import SHARED_POSTGRES
from tests.interop_layer.support import ADMIN, HEALTH, REGISTRIES, client_headers, mediator_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]
CALLS = 12  # per replica


async def test_two_replicas_keep_one_chain_each(provider, make_settings, fakes):
    first, second = mediator_replicas(provider, make_settings, fakes)
    settings = make_settings(provider[1])  # the replicas' own (the same data directory)
    async with serve_in_process(first) as one, serve_in_process(second) as two:

        async def call(client, n: int) -> None:
            url = f"/r1/{REGISTRIES}/echo/item/{n}"
            response = await client.get(url, headers=client_headers(HEALTH))
            assert response.status_code == 200, response.text

        # both replicas write at once: their batches interleave in the log
        await asyncio.gather(*(call(c, n) for n in range(CALLS) for c in (one, two)))
        listed = await one.get("/admin/messagelog/records?limit=1000", headers=ADMIN)
        status = (await two.get("/admin/messagelog/status", headers=ADMIN)).json()
        verified = (await one.post("/admin/messagelog/verify", headers=ADMIN)).json()
    records = listed.json()["records"]
    assert len(records) == 2 * CALLS
    seqs = [r["seq"] for r in records]
    assert seqs == sorted(set(seqs))  # one order of the whole log, no number taken twice
    for name in ("a", "b"):
        positions = [r["position"] for r in records if r["replica"] == name]
        assert positions == list(range(1, CALLS + 1))
    assert {r["replica"] for r in records[: CALLS + 1]} == {"a", "b"}  # interleaved
    assert status["replica"] == "b" and status["headSeq"] == CALLS
    assert status["chains"] == {
        "a": {"headPosition": CALLS, "anchorPosition": None},
        "b": {"headPosition": CALLS, "anchorPosition": None},
    }
    assert verified["ok"] is True and verified["checked"] == 2 * CALLS
    assert [(c["replica"], c["checked"]) for c in verified["chains"]] == [
        ("a", CALLS),
        ("b", CALLS),
    ]

    # each replica exported its own signed head anchor; the log reaches both
    trust = settings.state_dir() / "trust"
    pinned = read_keys(trust / "keys.json")
    anchors = [read_anchor(trust / f"head-{name}.json", pinned) for name in ("a", "b")]
    assert [(a.replica, a.seq) for a in anchors] == [("a", CALLS), ("b", CALLS)]
    assert json.loads((trust / "head-b.json").read_text())["replica"] == "b"
    known = [KnownHead(a.seq, a.record_hash, "head anchor", a.replica) for a in anchors]
    url = settings.database()
    assert verify_database(url, pinned=pinned, known=known).ok is True

    victim = [r for r in records if r["replica"] == "b"][4]  # b's fifth record
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE im_log_record SET status_code = 201 WHERE seq = :seq"),
            {"seq": victim["seq"]},
        )
    engine.dispose()
    report = verify_database(url, pinned=pinned, known=known)
    assert report.ok is False
    assert (report.first_bad_replica, report.first_bad_position) == ("b", 5)
    assert report.first_bad_seq == victim["seq"]
    assert report.first_bad_x_road_id == victim["xRoadId"]
    assert report.reason == "content does not match its hash (modified)"
    # every record of the log before it was checked, a's included
    assert report.checked == seqs.index(victim["seq"])


async def test_a_second_process_with_the_same_replica_name_refuses_to_start(
    provider, make_settings, fakes
):
    exchanger, decider = fakes
    settings = make_settings(provider[1], replica="twin")
    first = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    second = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(first):
        with pytest.raises(ChainInUse, match="replica 'twin' is being written by another"):
            async with serve_in_process(second):
                pass
    async with serve_in_process(second) as client:  # the first one gone, its name is free
        status = await client.get("/admin/messagelog/status", headers=ADMIN)
        assert status.json()["replica"] == "twin"
