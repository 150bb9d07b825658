"""Message log: one record per exchange, queries, body modes, tamper detection, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.verify import verify_database
from services.kernel.testing import serve_in_process
from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

ECHO = f"/r1/{REGISTRIES}/echo"
TRACE = "0af7651916cd43dd8448eb211c80319c"


async def exchanges(client, n: int) -> list[str]:
    ids = []
    for i in range(n):
        response = await client.post(
            f"{ECHO}/item/{i}?i={i}", json={"i": i}, headers=client_headers(HEALTH)
        )
        assert response.status_code == 200
        ids.append(response.headers["x-road-id"])
    return ids


async def records(client, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/admin/messagelog/records?{query}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return list(response.json()["records"])


async def verify(client) -> dict[str, Any]:
    response = await client.post("/admin/messagelog/verify", headers=ADMIN)
    assert response.status_code == 200
    return dict(response.json())


async def test_newest_first_keyset_paging_and_status_filters(mediator):
    _, client = mediator
    ids = await exchanges(client, 4)
    denied = await client.get(f"{ECHO}/private", headers=client_headers(EDUCATION))
    assert denied.status_code == 500
    newest = await records(client, "order=desc&limit=2")
    assert [r["seq"] for r in newest] == [5, 4]
    assert [r["xRoadId"] for r in await records(client, "order=desc&beforeSeq=4&limit=2")] == [
        ids[2],
        ids[1],
    ]
    assert [r["seq"] for r in await records(client, "afterSeq=3")] == [4, 5]
    assert [r["seq"] for r in await records(client, "outcome=Failed")] == [5]
    assert [r["seq"] for r in await records(client, "statusCode=200&order=desc&limit=1")] == [4]
    assert len(await records(client, f"provider={REGISTRIES}")) == 5
    assert await records(client, "provider=DPI/GOV/CRVS/regis") == []  # whole identifiers only
    for bad in ("order=sideways", "outcome=Fine", "statusCode=42", "afterSeq=-1"):
        response = await client.get(f"/admin/messagelog/records?{bad}", headers=ADMIN)
        assert response.status_code == 400, bad


async def test_one_record_per_exchange_and_queries(mediator):
    _, client = mediator
    ids = await exchanges(client, 3)
    traced = await client.get(
        f"{ECHO}/t", headers=client_headers(HEALTH, traceparent=f"00-{TRACE}-b7ad6b7169203331-01")
    )
    denied = await client.get(f"{ECHO}/private", headers=client_headers(EDUCATION))
    assert denied.status_code == 500

    (one,) = await records(client, f"xRoadId={ids[1]}")
    assert one["client"] == HEALTH and one["service"] == f"{REGISTRIES}/echo"
    assert one["method"] == "POST" and one["path"] == f"{ECHO}/item/1" and one["query"] == "i=1"
    assert one["statusCode"] == 200 and one["outcome"] == "Successful"
    assert one["requestHash"] and one["durationMs"] >= one["upstreamMs"] > 0
    assert "requestBody" not in one and "requestFields" not in one  # metadata-only default

    by_trace = await client.get(f"/admin/messagelog/traces/{TRACE}", headers=ADMIN)
    (traced_record,) = by_trace.json()["records"]
    assert traced_record["xRoadId"] == traced.headers["x-road-id"]
    assert [r["xRoadId"] for r in await records(client, f"traceId={TRACE}")] == [
        traced.headers["x-road-id"]
    ]

    by_client = await records(client, f"client={EDUCATION}")
    assert [(r["statusCode"], r["outcome"], r["errorType"]) for r in by_client] == [
        (500, "Failed", "Server.ServerProxy.AccessDenied")
    ]
    assert len(await records(client, f"service={REGISTRIES}/echo")) == 5
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert await records(client, f"since={future}") == []
    assert len(await records(client, f"until={future}&limit=2")) == 2

    status = (await client.get("/admin/messagelog/status", headers=ADMIN)).json()
    assert status["statuses"]["Successful"] == 4 and status["statuses"]["Failed"] == 1
    assert status["statuses"]["Processing"] == 0 and status["headSeq"] == 5
    report = await verify(client)
    assert report["ok"] is True and report["checked"] == 5


@pytest.mark.parametrize("mode", ["full", "off"])
async def test_body_modes(provider, make_settings, fakes, mode):
    exchanger, decider = fakes
    settings = make_settings(provider[1], message_log_bodies=mode)
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        response = await client.post(
            f"{ECHO}/x",
            json={"person": {"name": "A", "age": 3}, "tags": [{"k": 1}]},
            headers=client_headers(HEALTH),
        )
        assert response.status_code == 200
        found = await records(client, "includeBodies=true")
        if mode == "off":
            assert found == []
            return
        (record,) = found
        assert '"name":"A"' in record["requestBody"].replace(" ", "")
        assert record["requestFields"] == [
            "person",
            "person.age",
            "person.name",
            "tags",
            "tags[].k",
        ]
        assert {"method", "path", "headers", "body"} <= set(record["responseFields"])
        assert record["responseBody"].startswith("{")
        assert (await verify(client))["ok"] is True


async def tamper(settings, statement: str, **params) -> None:
    from services.kernel.db import Database

    database = Database(settings.database())
    with database.engine.begin() as conn:
        conn.execute(text(statement), params)
    database.dispose()


@pytest.mark.parametrize(
    ("statement", "bad_seq", "reason"),
    [
        ("UPDATE im_log_record SET status_code = 404 WHERE seq = 3", 3, "modified"),
        # a JSON column (read as text and decoded by the verifier) is hashed too
        ("UPDATE im_log_record SET response_fields = '[\"forged\"]' WHERE seq = 2", 2, "modified"),
        ("DELETE FROM im_log_record WHERE seq = 2", 3, "missing"),
        ("DELETE FROM im_log_record WHERE seq = 5", None, "missing"),
        ("UPDATE im_log_record SET signature = 'AAAA' WHERE seq = 4", 4, "signature"),
    ],
)
async def test_verifier_names_the_first_bad_record(
    provider, make_settings, fakes, statement, bad_seq, reason
):
    exchanger, decider = fakes
    settings = make_settings(provider[1])
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        await exchanges(client, 5)
        assert (await verify(client))["ok"] is True
        await tamper(settings, statement)
        report = await verify(client)
    assert report["ok"] is False
    assert report["firstBadSeq"] == bad_seq
    assert reason in report["reason"]
    plain = verify_database(settings.database())
    assert plain.ok is False and plain.first_bad_seq == bad_seq


async def test_verifier_detects_an_inserted_record(provider, make_settings, fakes):
    exchanger, decider = fakes
    settings = make_settings(provider[1])
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        await exchanges(client, 4)
    # A forged copy of record 2 appended after the head, correctly linked and hashed.
    from services.interop_layer.messagelog.chain import record_digest
    from services.interop_layer.messagelog.models import LogRecord
    from services.kernel.db import Database

    database = Database(settings.database())
    with database.session() as session:
        last = session.get(LogRecord, 4)
        source = session.get(LogRecord, 2)
        assert last is not None and source is not None
        fields = {**source.model_dump(), "seq": 5, "position": 5, "prev_hash": last.record_hash}
        fields["record_hash"] = record_digest(last.record_hash, fields)
        session.add(LogRecord(**fields))
        session.commit()
    database.dispose()
    report = verify_database(settings.database())
    assert report.ok is False and report.first_bad_seq == 5
    assert "past the signed chain head" in (report.reason or "")


async def test_retention_purge_keeps_the_rest_verifiable(provider, make_settings, fakes):
    exchanger, decider = fakes
    settings = make_settings(provider[1])
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        await exchanges(client, 3)
        cutoff = datetime.now(UTC)
        kept = await exchanges(client, 2)
        purged = await client.post(
            "/admin/messagelog/purge", json={"before": cutoff.isoformat()}, headers=ADMIN
        )
        assert purged.json() == {"purged": 3, "anchorSeq": 3, "remaining": 2}
        assert [r["xRoadId"] for r in await records(client)] == kept
        report = await verify(client)
        assert report["ok"] is True and report["checked"] == 2 and report["anchorSeq"] == 3
        await exchanges(client, 1)
        assert (await verify(client))["checked"] == 3
        await tamper(settings, "DELETE FROM im_log_record WHERE seq = 4")
        broken = await verify(client)
        assert broken["ok"] is False and broken["firstBadSeq"] == 5


async def test_the_chain_continues_across_a_restart(provider, make_settings, fakes):
    exchanger, decider = fakes
    settings = make_settings(provider[1])
    for _ in range(2):
        app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
        async with serve_in_process(app) as client:
            await exchanges(client, 2)
            seqs = [r["seq"] for r in await records(client)]
    assert seqs == [1, 2, 3, 4]
    report = verify_database(settings.database())
    assert report.ok is True and report.checked == 4 and report.head_seq == 4


async def test_credentials_in_a_path_are_not_logged(mediator):
    """MOSIP IDA puts the licence and API keys in the path: the record keeps neither."""
    _, client = mediator
    path = f"{ECHO}/idauthentication/v1/auth/licence-0123456/moh-hmis/api-key-0123456"
    response = await client.post(
        path, json={"id": "mosip.identity.auth"}, headers=client_headers(HEALTH)
    )
    assert response.status_code == 200
    (one,) = await records(client, f"xRoadId={response.headers['x-road-id']}")
    assert one["path"] == f"{ECHO}/idauthentication/v1/auth/***/moh-hmis/***"
    assert "licence-0123456" not in str(one) and "api-key-0123456" not in str(one)


async def test_fields_only_from_whole_json_bodies(provider, make_settings, fakes):
    """Field names come from a stored body that is a whole JSON document, read back later."""
    exchanger, decider = fakes
    settings = make_settings(provider[1], message_log_bodies="full", message_log_body_limit=64)
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        big = await client.post(
            f"{ECHO}/big", json={"items": ["x" * 10] * 20}, headers=client_headers(HEALTH)
        )
        plain = await client.post(
            f"{ECHO}/plain",
            content=b"not json",
            headers=client_headers(HEALTH, **{"content-type": "text/plain"}),
        )
        assert big.status_code == plain.status_code == 200
        (cut,) = await records(client, f"xRoadId={big.headers['x-road-id']}&includeBodies=true")
        (text,) = await records(client, f"xRoadId={plain.headers['x-road-id']}&includeBodies=true")
    assert len(cut["requestBody"]) == 64 and cut.get("requestFields") is None
    assert text["requestBody"] == "not json" and text.get("requestFields") is None
