"""`dpi log verify` proves the mediator's message log from its database, naming a bad record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chain import load_or_create_key, record_digest, sign
from services.interop_layer.messagelog.models import LogMark, LogRecord
from services.interop_layer.messagelog.trust import read_anchor, read_keys
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import client_key
from services.kernel.db import Database
from services.kernel.testing import serve_in_process
from tests.sandbox.helpers import dpi

HEALTH = "DPI/GOV/MOH/hmis"


@pytest.mark.anyio
async def test_log_verify_passes_then_names_the_tampered_record(settings_for, tmp_path):
    settings = settings_for("interop_layer", cls=InteropSettings, provider_connect_timeout=0.2)
    headers = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    async with serve_in_process(create_app(settings)) as client:
        for _ in range(3):  # the registries are not running: each is a logged NetworkError
            response = await client.get(
                "/r1/DPI/GOV/CRVS/registries/fhir/Location", headers=headers
            )
            assert response.headers["x-road-error"] == "Server.ServerProxy.NetworkError"
        records = await client.get(
            "/admin/messagelog/records", headers={"X-DPI-Admin-Key": settings.admin_key}
        )
        assert len(records.json()["records"]) == 3

    url = settings.database()
    verified = dpi("log", "verify", "--database-url", url, data_dir=tmp_path / "data")
    assert verified.returncode == 0, verified.stderr
    assert "3 records in 1 chain(s)" in " ".join(verified.stdout.split())
    assert "main (head 3, purge anchor None, 3 records)" in " ".join(verified.stdout.split())

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE im_log_record SET status_code = 200 WHERE seq = 2"))
    engine.dispose()
    tampered = dpi("log", "verify", "--database-url", url, data_dir=tmp_path / "data")
    assert tampered.returncode == 1
    assert "FAILED at record 2 (replica main, position 2," in " ".join(tampered.stderr.split())


def test_log_verify_without_a_log_says_so(tmp_path):
    result = dpi("log", "verify", data_dir=tmp_path / "empty")
    assert result.returncode == 2 and "no message log" in result.stderr


def test_log_verify_refuses_no_workers(tmp_path):
    result = dpi("log", "verify", "--workers", "0", data_dir=tmp_path / "empty")
    assert result.returncode == 2 and "--workers must be at least 1" in result.stderr


async def log_calls(settings: InteropSettings, calls: int) -> list[dict[str, Any]]:
    """`calls` exchanges through a mediator with `settings`; the log's records afterwards."""
    headers = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    async with serve_in_process(create_app(settings)) as client:
        for _ in range(calls):  # the registries are not running: each is a logged NetworkError
            await client.get("/r1/DPI/GOV/CRVS/registries/fhir/Location", headers=headers)
        listed = await client.get(
            "/admin/messagelog/records", headers={"X-DPI-Admin-Key": settings.admin_key}
        )
    records: list[dict[str, Any]] = listed.json()["records"]
    return records


def verify(url: str, data_dir: Path, *extra: str) -> tuple[int, str]:
    result = dpi("log", "verify", "--database-url", url, *extra, data_dir=data_dir)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


@pytest.mark.anyio
async def test_log_verify_checks_every_replicas_chain_and_names_the_replica(settings_for, tmp_path):
    settings = settings_for("interop_layer", cls=InteropSettings, provider_connect_timeout=0.2)
    await log_calls(settings.model_copy(update={"replica": "a"}), 2)
    records = await log_calls(settings.model_copy(update={"replica": "b"}), 3)
    assert [(r["replica"], r["position"]) for r in records] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("b", 2),
        ("b", 3),
    ]
    url, data = settings.database(), tmp_path / "data"
    code, output = verify(url, data)
    assert code == 0, output
    assert "5 records in 2 chain(s)" in output
    assert "a (head 2, purge anchor None, 2 records), b (head 3" in output
    # a chain without its replica's head anchor is not proved
    trust = data / "interop_layer" / "trust"
    code, output = verify(url, data, "--anchor", str(trust / "head-a.json"))
    assert code == 1 and "no head anchor of replica(s) b" in output

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE im_log_record SET path = '/x' WHERE seq = :seq"), records[3])
    engine.dispose()
    code, output = verify(url, data)
    assert code == 1
    assert f"FAILED at record {records[3]['seq']} (replica b, position 2," in output
    assert "content does not match its hash (modified) (3 records checked before it)" in output


@pytest.mark.anyio
async def test_a_log_from_before_chains_per_replica_still_verifies(settings_for, tmp_path):
    """Records written before chains were per replica (no replica, hashed the older way) start
    the `main` chain; the mediator adds the columns and continues it."""
    settings = settings_for("interop_layer", cls=InteropSettings, provider_connect_timeout=0.2)
    await log_calls(settings, 3)
    url, data = settings.database(), tmp_path / "data"
    trust = data / "interop_layer" / "trust"
    key = load_or_create_key(data / "interop_layer" / "messagelog.pem")
    database = Database(url)
    with database.session() as session:  # what the previous version wrote
        prev = "0" * 64
        for record in session.exec(select(LogRecord).order_by(col(LogRecord.seq))):
            record.replica = record.position = None
            record.prev_hash, record.record_hash = prev, record_digest(prev, record.model_dump())
            record.signature = sign(key, record.record_hash.encode())
            prev = record.record_hash
            session.add(record)
        head = session.get(LogMark, "head")
        assert head is not None and head.seq == 3
        head.record_hash, head.signature = prev, sign(key, f"head:3:{prev}".encode())
        session.add(head)
        session.commit()
    with database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE im_log_record DROP COLUMN replica"))
        conn.execute(text("ALTER TABLE im_log_record DROP COLUMN position"))
    database.dispose()
    anchor = json.loads((trust / "head.json").read_text())
    legacy = {"seq": 3, "recordHash": prev, "time": anchor["time"], "keyId": anchor["keyId"]}
    legacy["signature"] = sign(key, f"head-anchor:3:{prev}:{anchor['time']}".encode())
    (trust / "head.json").write_text(json.dumps(legacy))
    (trust / "verified.json").write_text(json.dumps({"seq": 3, "recordHash": prev}))
    code, output = verify(url, data)
    assert code == 0, output  # the older verifier state and anchor are still read

    records = await log_calls(settings, 2)  # the mediator migrates the log and goes on
    assert [(r["seq"], r["replica"], r["position"]) for r in records] == [
        (1, "main", 1),
        (2, "main", 2),
        (3, "main", 3),
        (4, "main", 4),
        (5, "main", 5),
    ]
    code, output = verify(url, data)
    assert code == 0, output
    assert "main (head 5, purge anchor None, 5 records)" in output
    exported = read_anchor(trust / "head.json", read_keys(trust / "keys.json"))
    assert (exported.replica, exported.seq, exported.record_seq) == ("main", 5, 5)
    assert exported.record_hash == records[4]["recordHash"] and not exported.legacy

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE im_log_record SET status_code = 200 WHERE seq = 2"))
    engine.dispose()
    code, output = verify(url, data)
    assert code == 1 and "FAILED at record 2 (replica main, position 2," in output
