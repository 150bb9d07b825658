"""The national-volume benchmark's loaders write rows the services accept as their own: people
enrolled through the ID system's batch API that it finds (and refuses to enrol twice), and
message-log records bulk-copied through the writer that verify as an intact chain.
PostgreSQL only (`DPI_TEST_DB=postgres`), tiny sizes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.console import START, record
from bench.national import id as national_id
from bench.national import logbulk, main, pg
from bench.national.measure import Part
from bench.national.messagelog import fill
from services.id_registry.base import Base
from services.id_registry.identities.service import get_by_uin
from services.id_registry.main import create_app as create_id_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.main import create_app as create_mediator_app
from services.interop_layer.messagelog.chain import GENESIS
from services.interop_layer.messagelog.models import LogRecord
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.runtime import InteropRuntime
from services.interop_layer.settings import InteropSettings
from services.kernel.db import Database
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process, serve_on_loopback
from tests.conftest import USE_POSTGRES

pytestmark = pytest.mark.skipif(
    not USE_POSTGRES, reason="the benchmark runs on PostgreSQL: DPI_TEST_DB=postgres"
)


COUNT = "SELECT count(*), count(DISTINCT uin) FROM identity"


def test_people_enrolled_by_the_bench_are_found_and_not_enrolled_twice(tmp_path: Path) -> None:
    with pg.database("test_id") as (sa_url, url):
        settings = IdRegistrySettings(
            service="id_registry",
            database_url=sa_url,
            data_dir=tmp_path,
            seed_population=0,
            publish_events=False,
            log_format="text",
        )
        app = create_id_app(settings, run_drainer=False, configure_logs=False)
        with serve_on_loopback(app) as base:
            assert asyncio.run(national_id.enrol_batches(base, 0, 2_500)) == 0
            assert asyncio.run(national_id.enrol_singly(base, 40_000_000, 20)) == 0
            assert pg.execute(url, COUNT) == [(2_520, 2_520)]
            demo = national_id._demo(url)  # a sample of them, for authentication
            database = Database(sa_url, Base.metadata)
            try:
                with database.session() as session:
                    for uin, name, born in demo[:5]:
                        found = get_by_uin(session=session, uin=uin)
                        assert f"{found.given_name} {found.family_name}" == name
                        assert found.date_of_birth.strftime("%Y/%m/%d") == born
            finally:
                database.dispose()
            # the same people again: every one refused (the bench counts refusals)
            assert asyncio.run(national_id.enrol_batches(base, 1_000, 1_500)) == 1_500
            assert pg.execute(url, COUNT) == [(2_520, 2_520)]


def test_bulk_copied_log_records_verify_as_one_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logbulk, "CHUNK", 50)  # several chunks, COPYed while the next is made
    with pg.database("test_log") as (sa_url, url):
        settings = InteropSettings(database_url=sa_url, data_dir=tmp_path, log_format="text",
                                   declared_subscriptions=False)  # fmt: skip
        part = Part("log", 60, [])
        asyncio.run(fill(settings, 0, 120, part))
        asyncio.run(fill(settings, 120, 30, part))  # the chain goes on after a restart
        report = verify_database(sa_url)
        assert report.ok, report.reason
        assert report.checked == 150
        pg.execute(url, "UPDATE im_log_record SET status_code = 404 WHERE seq = 130")
        report = verify_database(sa_url)
        assert not report.ok and report.first_bad_seq == 130


def test_the_bulk_path_stores_the_rows_the_writer_stores(tmp_path: Path) -> None:
    records = [record(i, START) for i in range(12)]
    records[3]["path"] = "/r1/a\tb\\c\nd"  # COPY's escapes
    records[4]["request_fields"] = ["name", "birth"]

    async def through_writer(sa_url: str, data_dir: Path, *, batch: int) -> tuple[Any, str]:
        settings = InteropSettings(database_url=sa_url, data_dir=data_dir, log_format="text",
                                   declared_subscriptions=False,
                                   message_log_signature_interval=0.0)  # fmt: skip
        app = create_mediator_app(settings)
        async with serve_in_process(app):
            writer = runtime_of(app, InteropRuntime).message_log
            for first in range(0, len(records) if batch else 0, batch or 1):
                await writer._write([dict(r) for r in records[first : first + batch]])
            return writer.key, writer.key_id

    columns = [c.name for c in LogRecord.__table__.columns]  # type: ignore[attr-defined]
    texts = ", ".join(f"{c}::text" for c in columns)
    rows = f"SELECT {texts} FROM im_log_record ORDER BY im_log_record.seq"
    with (
        pg.database("test_writer") as (writer_sa, writer_url),
        pg.database("test_bulk") as (
            bulk_sa,
            bulk_url,
        ),
    ):
        key, key_id = asyncio.run(through_writer(writer_sa, tmp_path / "w", batch=5))
        asyncio.run(through_writer(bulk_sa, tmp_path / "b", batch=0))  # the tables, no records
        indexes = logbulk.secondary_indexes(bulk_url)
        assert [name for name, _ in indexes] == sorted(
            index.name
            for index in LogRecord.__table__.indexes  # type: ignore[attr-defined]
        )
        head = logbulk.load(bulk_url, key=key, key_id=key_id, replica="main", head=(0, GENESIS),
                            records=lambda i: dict(records[i]), start=0, count=12, batch=5,
                            rebuild_from=1)  # fmt: skip
        # dropped for the load and built again as they were: the mediator's schema check passes
        assert logbulk.secondary_indexes(bulk_url) == indexes
        assert pg.execute(bulk_url, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == [(0,)]
        asyncio.run(through_writer(bulk_sa, tmp_path / "b", batch=0))
        written = pg.execute(writer_url, rows)
        assert len(written) == 12 and sum(1 for row in written if row[-1]) == 3  # 5, 10, 12
        bulk = pg.execute(bulk_url, rows)
        for a, b in zip(bulk, written, strict=True):
            assert a == b, [(c, x, y) for c, x, y in zip(columns, a, b, strict=True) if x != y]
        marks = "SELECT seq, record_hash, signature FROM im_log_mark WHERE name = 'head'"
        assert pg.execute(bulk_url, marks) == pg.execute(writer_url, marks)
        assert head == (12, written[-1][columns.index("record_hash")], 12)


def test_a_failed_bulk_load_still_builds_the_indexes_again(tmp_path: Path) -> None:
    def records(i: int) -> dict[str, Any]:
        if i == 70:
            raise RuntimeError("the source failed")
        return record(i, START)

    with pg.database("test_failed") as (sa_url, url):
        settings = InteropSettings(database_url=sa_url, data_dir=tmp_path, log_format="text",
                                   declared_subscriptions=False)  # fmt: skip
        asyncio.run(fill(settings, 0, 0, Part("log", 60, [])))  # the tables, no records
        indexes = logbulk.secondary_indexes(url)
        assert len(indexes) == 2
        key = Ed25519PrivateKey.generate()
        with pytest.raises(RuntimeError, match="the source failed"):
            logbulk.load(url, key=key, key_id="k", replica="main", head=(0, GENESIS),
                         records=records, start=0, count=100, rebuild_from=1)  # fmt: skip
        assert logbulk.secondary_indexes(url) == indexes
        assert pg.execute(url, "SELECT count(*) FROM im_log_record") == [(0,)]


def test_an_unknown_part_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--only", "id,census"])
    assert exited.value.code == 2
    assert "unknown part(s) census" in capsys.readouterr().err
