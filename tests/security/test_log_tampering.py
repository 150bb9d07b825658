"""`dpi log verify` trusts only what lies outside the checked database: every tampering fails.

A real mediator writes eight exchanges (each its own signed batch) and exports its pinned keys
and signed head anchors. Each case restores that log, tampers with the database as a forger
with write access would (in the strongest cases holding the mediator's own private key too),
and runs the verifier: exit 1, naming the first missing or bad record where there is one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sandbox.cli import main as dpi_main
from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chain import key_id_of, public_pem, sign
from services.interop_layer.messagelog.models import LogRecord
from services.interop_layer.messagelog.trust import anchor_message
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from services.kernel.testing import serve_in_process
from tests.conftest import scratch_database
from tests.security.logtrust_support import (
    Forger,
    PristineLog,
    make_pristine,
    mediator_settings,
)

ATTACKER = Ed25519PrivateKey.generate()
ATTACKER_ID = key_id_of(public_pem(ATTACKER))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PristineLog]:
    root = tmp_path_factory.mktemp("logtamper")
    with scratch_database("logtamper", root / "interop_layer.db") as url:
        yield make_pristine(url, root / "data")


@dataclass
class Verdict:
    code: int
    output: str


def run_verify(log: PristineLog, capsys: pytest.CaptureFixture[str], *extra: str) -> Verdict:
    capsys.readouterr()
    code = dpi_main(
        ["log", "verify", "--data-dir", str(log.data_dir), "--database-url", log.url, *extra]
    )
    captured = capsys.readouterr()
    return Verdict(code, " ".join((captured.out + captured.err).split()))


@pytest.fixture
def log(pristine: PristineLog, tmp_path: Path) -> Iterator[PristineLog]:
    """The pristine log restored, its trust files as the mediator left them."""
    pristine.restore()
    saved = tmp_path / "trust"
    shutil.copytree(pristine.trust, saved)
    (pristine.trust / "verified.json").unlink(missing_ok=True)
    yield pristine
    shutil.rmtree(pristine.trust)
    shutil.copytree(saved, pristine.trust)


Tamper = Callable[[Forger, PristineLog], None]


def edit_field(f: Forger, _: PristineLog) -> None:
    f.sql("UPDATE im_log_record SET status_code = 200 WHERE seq = 3")


def edit_body(f: Forger, _: PristineLog) -> None:
    f.sql("UPDATE im_log_record SET request_body = '{\"amount\": 1}' WHERE seq = 3")


def edit_rehash(f: Forger, log: PristineLog) -> None:
    edit_field(f, log)
    f.rechain(log.key, key_id_of(public_pem(log.key)), sign_records=False)


def edit_rehash_resign_attacker_key(f: Forger, log: PristineLog) -> None:
    edit_field(f, log)
    f.rechain(ATTACKER, f.add_key(ATTACKER))


def edit_rehash_resign_stolen_key(f: Forger, log: PristineLog) -> None:
    edit_field(f, log)
    f.rechain(log.key, key_id_of(public_pem(log.key)))


def delete_middle(f: Forger, _: PristineLog) -> None:
    f.sql("DELETE FROM im_log_record WHERE seq = 5")


def truncate_resign_attacker_key(f: Forger, _: PristineLog) -> None:
    f.sql("DELETE FROM im_log_record WHERE seq > 5")
    f.resign_head(ATTACKER, f.add_key(ATTACKER))


def truncate_resign_stolen_key(f: Forger, log: PristineLog) -> None:
    f.sql("DELETE FROM im_log_record WHERE seq > 5")
    f.resign_head(log.key, key_id_of(public_pem(log.key)))


def truncate_with_an_older_genuine_anchor(f: Forger, log: PristineLog) -> None:
    """Only the verifier's own anchor (it proved seq 8 before) can catch this one."""
    truncate_resign_stolen_key(f, log)
    shutil.copy(log.old_head, log.trust / "head.json")


def delete_all(f: Forger, _: PristineLog) -> None:
    f.sql("DELETE FROM im_log_record")


def delete_all_with_marks(f: Forger, _: PristineLog) -> None:
    f.sql("DELETE FROM im_log_record")
    f.sql("DELETE FROM im_log_mark")


def insert_middle(f: Forger, _: PristineLog) -> None:
    f.sql("UPDATE im_log_record SET seq = seq + 100, position = position + 100 WHERE seq >= 5")
    f.sql("UPDATE im_log_record SET seq = seq - 99, position = position - 99 WHERE seq >= 100")
    f.sql(
        "INSERT INTO im_log_record SELECT 5, replica, 5, 'forged', request_id, trace_id, kind,"
        " client, service, method, path, query, status_code, outcome, started_at, duration_us,"
        " upstream_us, request_hash, subject_hash, purpose, decision_id, consent_record_id,"
        " error_type, request_body, response_body, request_fields, response_fields, key_id,"
        " prev_hash, record_hash, signature FROM im_log_record WHERE seq = 4"
    )


def insert_and_resign_stolen_key(f: Forger, log: PristineLog) -> None:
    insert_middle(f, log)
    f.rechain(log.key, key_id_of(public_pem(log.key)))


def reorder(f: Forger, _: PristineLog) -> None:
    f.sql("UPDATE im_log_record SET seq = 100, position = 100 WHERE seq = 3")
    f.sql("UPDATE im_log_record SET seq = 3, position = 3 WHERE seq = 4")
    f.sql("UPDATE im_log_record SET seq = 4, position = 4 WHERE seq = 100")


def swap_key_row(f: Forger, log: PristineLog) -> None:
    """The mediator's key id now names the attacker's public key; everything re-signed."""
    real_id = key_id_of(public_pem(log.key))
    edit_field(f, log)
    f.add_key(ATTACKER, key_id=real_id)
    f.rechain(ATTACKER, real_id)


def forged_head_anchor(f: Forger, log: PristineLog) -> None:
    truncate_resign_attacker_key(f, log)
    anchor = json.loads((log.trust / "head.json").read_text())
    anchor.update(position=5, recordSeq=5, keyId=ATTACKER_ID)
    message = anchor_message(anchor["replica"], 5, 5, anchor["recordHash"], anchor["time"])
    anchor["signature"] = sign(ATTACKER, message)
    (log.trust / "head.json").write_text(json.dumps(anchor))


def head_anchor_removed(f: Forger, log: PristineLog) -> None:
    truncate_resign_stolen_key(f, log)
    (log.trust / "head.json").unlink()


@dataclass(frozen=True)
class Case:
    tamper: Tamper
    expect: str  # in the verifier's message
    first_bad: int | None = None  # the record it names
    remembered: bool = False  # the verifier proved the pristine log before


CASES = {
    "edit a field": Case(edit_field, "modified", 3),
    "edit a body": Case(edit_body, "modified", 3),
    "edit and re-hash the chain": Case(edit_rehash, "signature is invalid", 3),
    "edit, re-hash, re-sign with an added key": Case(
        edit_rehash_resign_attacker_key, f"key {ATTACKER_ID} in the database is not pinned"
    ),
    "edit, re-hash, re-sign with the stolen key": Case(
        edit_rehash_resign_stolen_key,
        "differs from the mediator's head anchor of replica main (position 8)",
        8,
    ),
    "delete a middle record": Case(delete_middle, "record(s) 5..5 are missing", 6),
    "truncate, re-sign the head with an added key": Case(
        truncate_resign_attacker_key, f"key {ATTACKER_ID} in the database is not pinned"
    ),
    "truncate, re-sign the head with the stolen key": Case(
        truncate_resign_stolen_key, "record(s) 6..8 are missing", 6
    ),
    "truncate, stolen key, older genuine anchor": Case(
        truncate_with_an_older_genuine_anchor,
        "shorter than the head this verifier proved before for replica main (position 8)",
        6,
        remembered=True,
    ),
    "delete every record": Case(delete_all, "record(s) 1..8", None),
    "delete every record and the chain marks": Case(
        delete_all_with_marks, "record(s) 1..8 are missing", 1
    ),
    "insert a record": Case(insert_middle, "does not link", 5),
    "insert, re-hash, re-sign with the stolen key": Case(
        insert_and_resign_stolen_key,
        "differs from the mediator's head anchor of replica main (position 8)",
        8,
    ),
    "reorder two records": Case(reorder, "does not link", 3),
    "swap the key row": Case(swap_key_row, "differs from the pinned key (swapped)"),
    "forge the head anchor file": Case(forged_head_anchor, "unpinned key"),
    "remove the head anchor file": Case(head_anchor_removed, "no head anchor"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tampering_fails_verification(
    name: str, log: PristineLog, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    if case.remembered:
        assert run_verify(log, capsys).code == 0
    forger = Forger(log.url)
    try:
        case.tamper(forger, log)
    finally:
        forger.close()
    verdict = run_verify(log, capsys)
    assert verdict.code == 1, verdict.output
    assert "FAILED" in verdict.output and case.expect in verdict.output, verdict.output
    if case.first_bad is not None:
        assert f"at record {case.first_bad}" in verdict.output, verdict.output


def test_the_untampered_log_verifies_and_is_remembered(
    log: PristineLog, capsys: pytest.CaptureFixture[str]
) -> None:
    verdict = run_verify(log, capsys)
    assert verdict.code == 0, verdict.output
    assert "verified" in verdict.output and "8 records" in verdict.output
    remembered = json.loads((log.trust / "verified.json").read_text())
    assert remembered["chains"]["main"]["position"] == 8
    assert run_verify(log, capsys).code == 0  # and again, against its own anchor


def test_the_served_keys_are_the_pinned_keys(log: PristineLog) -> None:
    pinned = json.loads((log.trust / "keys.json").read_text())["keys"]
    served = log.served_keys["keys"]
    assert [(k["keyId"], k["publicKey"]) for k in pinned] == [
        (k["keyId"], k["publicKey"]) for k in served
    ]
    assert served[0]["keyId"] == key_id_of(public_pem(log.key))


def test_a_replaced_pinned_file_is_caught_by_a_copy_kept_elsewhere(
    log: PristineLog, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The data directory's own keys.json is only as safe as the directory: keep a copy."""
    kept = tmp_path / "keys.json"
    shutil.copy(log.trust / "keys.json", kept)
    forger = Forger(log.url)
    try:
        edit_rehash_resign_attacker_key(forger, log)
    finally:
        forger.close()
    replaced = {"keys": [{"keyId": ATTACKER_ID, "publicKey": public_pem(ATTACKER)}]}
    (log.trust / "keys.json").write_text(json.dumps(replaced))
    verdict = run_verify(log, capsys, "--keys", str(kept))
    assert verdict.code == 1 and f"key {ATTACKER_ID}" in verdict.output, verdict.output


def test_without_pinned_keys_the_verifier_refuses(
    log: PristineLog, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    verdict = run_verify(log, capsys, "--keys", str(tmp_path / "absent.json"))
    assert verdict.code == 2 and "no pinned key file" in verdict.output


def test_a_retention_purge_still_verifies_against_the_anchors(
    log: PristineLog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Purging old records is not tampering: the signed purge anchor covers the known heads."""
    assert run_verify(log, capsys).code == 0  # the verifier now remembers seq 8
    database = Database(log.url)
    with database.session() as session:
        sixth = session.get(LogRecord, 6)
        assert sixth is not None
    writer = LogWriter(database, log.key)
    writer.open()
    try:
        report = asyncio.run(writer.purge(before=sixth.started_at))
    finally:
        writer.close()
    database.dispose()
    assert report.purged == 5 and report.remaining == 3
    verdict = run_verify(log, capsys)
    assert verdict.code == 0, verdict.output
    assert "3 records" in verdict.output and "purge anchor 5" in verdict.output


def test_a_restarted_mediator_keeps_the_anchor_a_truncated_log_no_longer_reaches(
    log: PristineLog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Restarting the mediator on a truncated log must not overwrite the evidence."""
    forger = Forger(log.url)
    try:
        truncate_resign_stolen_key(forger, log)
    finally:
        forger.close()
    kept = (log.trust / "head.json").read_text()

    settings = mediator_settings(log.url, log.data_dir)

    async def restart() -> dict[str, Any]:
        async with serve_in_process(create_app(settings)) as client:
            admin = {"X-DPI-Admin-Key": settings.admin_key}
            response = await client.post("/admin/messagelog/verify", headers=admin)
            assert response.status_code == 200
            return dict(response.json())

    report = asyncio.run(restart())
    assert report["ok"] is False and "record(s) 6..8 are missing" in report["reason"]
    assert (log.trust / "head.json").read_text() == kept
    verdict = run_verify(log, capsys)
    assert verdict.code == 1 and "record(s) 6..8 are missing" in verdict.output, verdict.output
