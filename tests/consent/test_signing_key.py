"""The receipt signing key is kept in the database: it survives a restart, replicas on one
database sign with one key (a receipt signed by one verifies on the other), a reset keeps it,
and the key file of a run before the keystore is taken over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from services.consent.base import Base
from services.consent.main import create_app
from services.consent.receipts.keys import KEY_FILE
from services.consent.receipts.keystore import load_or_create
from services.consent.settings import ConsentSettings
from services.kernel.db import Database
from services.kernel.testing import serve_in_process
from tests.conftest import scratch_database
from tests.consent.conftest import ORG, ORG_KEY, RECORD, SCHOOL_ENROLMENT_ID
from tests.support.replicas import two_replicas

pytestmark = pytest.mark.anyio
ADMIN_KEY = {"X-DPI-Admin-Key": "dpi-admin"}


def settings(url: str, data_dir: Path) -> ConsentSettings:
    return ConsentSettings(
        database_url=url,
        data_dir=data_dir,
        log_format="text",
        org_api_key=ORG_KEY,
        webhook_interval=3600,
    )


async def test_two_replicas_sign_with_one_key(tmp_path: Path) -> None:
    with scratch_database("consent_keys", tmp_path / "consent.db") as url:
        # each replica has a data dir of its own, as each pod has its own volume
        first = create_app(settings(url, tmp_path / "a"))
        second = create_app(settings(url, tmp_path / "b"))
        async with two_replicas(first, second) as (one, two):
            jwks = [(await c.get("/.well-known/jwks.json")).json() for c in (one, two)]
            assert jwks[0] == jwks[1] and len(jwks[0]["keys"]) == 1

            token = "tok-two-replicas"
            made = await one.post(
                "/service/individual/", json={"individual": {"externalId": token}}, headers=ORG
            )
            assert made.status_code == 200, made.text
            granted = await one.post(
                f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
                headers={**ORG, "X-ConsentBB-IndividualId": token},
                json=None,
            )
            assert granted.status_code == 200, granted.text
            record_id = granted.json()["consentRecord"]["id"]
            listed = await two.get(f"/v1/consent-records/{record_id}/receipts", headers=ORG)
            receipt = listed.json()["receipts"][0]
            verified = (await two.post("/v1/receipts/verify", json={"jws": receipt["jws"]})).json()
            assert verified["valid"] is True, verified
            assert verified["kid"] == jwks[0]["keys"][0]["kid"]

            # a reset through one replica keeps the key the other still signs with
            assert (await two.post("/admin/reset", headers=ADMIN_KEY)).status_code == 200
            assert (await one.get("/.well-known/jwks.json")).json() == jwks[0]
        third = create_app(settings(url, tmp_path / "c"))  # a replica started later
        async with serve_in_process(third) as three:
            assert (await three.get("/.well-known/jwks.json")).json() == jwks[0]
            again = (await three.post("/v1/receipts/verify", json={"jws": receipt["jws"]})).json()
            assert again["valid"] is True


def test_the_key_file_of_an_earlier_run_is_taken_over(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / KEY_FILE).write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    with scratch_database("consent_legacy", tmp_path / "consent.db") as url:
        database = Database(url, Base.metadata)
        database.create_all()
        try:
            with database.session() as session:
                signer = load_or_create(session, data_dir)
            assert signer.kid == key.thumbprint()
            with database.session() as session:  # another replica, without the file
                other = load_or_create(session, tmp_path / "elsewhere")
            assert other.kid == signer.kid
            token = signer.sign(b'{"consentReceiptID": "x"}')
            assert other.verify(token) == b'{"consentReceiptID": "x"}'
            detached = signer.sign_detached(b"artefact")
            assert other.verify_detached(detached, b"artefact")
            assert not other.verify_detached(detached, b"artefact!")
        finally:
            database.dispose()
