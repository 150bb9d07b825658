"""Two replicas importing metadata with the same new uid at the same instant (one PostgreSQL
database): the second answers what DHIS2 answers when the object exists (an update with the
default strategy, E5000 in the import report with CREATE, E5003 for a taken unique code), never
a 500. Each import validates against the other's write, as one after the other."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from services.sectoral_platform.base import Base
from services.sectoral_platform.metadata import importer
from services.sectoral_platform.metadata.importer import ImportResult, run_import
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.metadata.validation import ImportOptions, validate_object
from tests.conftest import SHARED_POSTGRES
from tests.support.replicas import shared_database

pytestmark = SHARED_POSTGRES
UID = "DeRace00001"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with shared_database("metadata_race", Base.metadata, tmp_path) as database:
        yield database.engine


def element(uid: str, name: str, code: str) -> dict[str, Any]:
    return {
        "id": uid,
        "name": name,
        "shortName": name,
        "code": code,
        "valueType": "NUMBER",
        "domainType": "AGGREGATE",
        "aggregationType": "SUM",
    }


def race(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, payloads: list[Any], strategy: str
) -> list[ImportResult]:
    """Both imports validate before either writes, unless one waits for the other (then the
    meeting times out after a second and the waiting one validates against the first's write)."""
    stores = [MetadataStore(engine), MetadataStore(engine)]
    for store in stores:
        store.load()
    meeting = threading.Barrier(2, timeout=1.0)

    def validate_together(*args: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return validate_object(*args)

    monkeypatch.setattr(f"{importer.__name__}.validate_object", validate_together)
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(run_import, store, {"dataElements": [payload]}, ImportOptions(strategy))
            for store, payload in zip(stores, payloads, strict=True)
        ]
        results = [f.result(timeout=30) for f in futures]  # an IntegrityError was raised here
    for store in stores:
        store.refresh()
        assert store.get("dataElements", UID) is not None or strategy != "CREATE"
    return results


def test_the_second_create_and_update_is_an_update(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = [element(UID, "Race A", "RACE_A"), element(UID, "Race B", "RACE_B")]
    results = race(engine, monkeypatch, payloads, "CREATE_AND_UPDATE")
    assert [r.status() for r in results] == ["OK", "OK"]
    stats = sorted((r.stats()["created"], r.stats()["updated"]) for r in results)
    assert stats == [(0, 1), (1, 0)]


def test_the_second_create_gets_the_import_report_conflict(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = [element(UID, "Race A", "RACE_A"), element(UID, "Race B", "RACE_B")]
    results = race(engine, monkeypatch, payloads, "CREATE")
    assert sorted(r.status() for r in results) == ["ERROR", "OK"]
    refused = next(r for r in results if r.has_errors).report()
    report = refused["typeReports"][0]["objectReports"][0]
    assert report["uid"] == UID and report["errorReports"][0]["errorCode"] == "E5000"


def test_a_code_taken_at_the_same_instant_is_refused(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = [element(UID, "Race A", "RACE"), element("DeRace00002", "Race B", "RACE")]
    results = race(engine, monkeypatch, payloads, "CREATE_AND_UPDATE")
    assert sorted(r.status() for r in results) == ["ERROR", "OK"]
    refused = next(r for r in results if r.has_errors).report()
    codes = [e["errorCode"] for e in refused["typeReports"][0]["objectReports"][0]["errorReports"]]
    assert codes == ["E5003"]
