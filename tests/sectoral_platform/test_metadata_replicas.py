"""Two replicas' metadata stores on one PostgreSQL database: what one writes, the other reads
once it refreshed (`refresh`, run when the other replica announces a write: the next request
through the app, `test_replicas.py`), and a write by a replica that had not seen the other's
latest does not lose it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from services.sectoral_platform.base import Base
from services.sectoral_platform.metadata.store import Change, MetadataStore
from tests.conftest import SHARED_POSTGRES
from tests.support.replicas import shared_database

pytestmark = SHARED_POSTGRES


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with shared_database("metadata_replicas", Base.metadata, tmp_path) as database:
        yield database.engine


def element(uid: str, name: str) -> Change:
    return Change("create", "dataElements", uid, {"id": uid, "name": name})


def test_what_one_replica_writes_the_other_reads_after_refresh(engine: Engine) -> None:
    a, b = MetadataStore(engine), MetadataStore(engine)
    a.load()
    b.load()
    assert not b.refresh(), "nothing changed: no reload"
    a.apply([element("DeReplica01", "Written by A")])
    assert b.get("dataElements", "DeReplica01") is None  # not yet refreshed
    assert b.refresh()
    assert b.get("dataElements", "DeReplica01") == {"id": "DeReplica01", "name": "Written by A"}
    assert not b.refresh()
    b.apply([Change("update", "dataElements", "DeReplica01", {"id": "DeReplica01", "name": "B"})])
    assert a.refresh()
    assert a.get("dataElements", "DeReplica01") == {"id": "DeReplica01", "name": "B"}


def test_a_write_by_a_replica_behind_the_other_keeps_both(engine: Engine) -> None:
    a, b = MetadataStore(engine), MetadataStore(engine)
    a.load()
    b.load()
    a.apply([element("DeReplica0A", "A")])
    b.apply([element("DeReplica0B", "B")])  # b had not refreshed: it reads A's write with its own
    assert {o["id"] for o in b.all("dataElements")} >= {"DeReplica0A", "DeReplica0B"}
    assert a.refresh()
    assert {o["id"] for o in a.all("dataElements")} >= {"DeReplica0A", "DeReplica0B"}
    assert not a.refresh() and not b.refresh(), "both loaded under the latest stamp"
