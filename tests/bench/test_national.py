"""The national-volume benchmark's loaders write rows the services accept as their own: people
enrolled through the ID system's batch API that it finds (and refuses to enrol twice), and
message-log records bulk-copied through the writer that verify as an intact chain.
PostgreSQL only (`DPI_TEST_DB=postgres`), tiny sizes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.national import id as national_id
from bench.national import main, pg
from bench.national.measure import Part
from bench.national.messagelog import fill
from services.id_registry.base import Base
from services.id_registry.identities.service import get_by_uin
from services.id_registry.main import create_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.settings import InteropSettings
from services.kernel.db import Database
from services.kernel.testing import serve_on_loopback
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
        app = create_app(settings, run_drainer=False, configure_logs=False)
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


def test_bulk_copied_log_records_verify_as_one_chain(tmp_path: Path) -> None:
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


def test_an_unknown_part_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--only", "id,census"])
    assert exited.value.code == 2
    assert "unknown part(s) census" in capsys.readouterr().err
