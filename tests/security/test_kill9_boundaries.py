"""A boundary tightened and acknowledged holds after kill -9: nothing reopens on restart.

`test_kill9_services` shows acknowledged writes survive; here the writes are the ones that close
a door (a consent withdrawn, an ID-system partner deactivated). Each service runs as a real
process, is SIGKILLed right after the 2xx, and restarted on the same database (SQLite, or
PostgreSQL with `DPI_TEST_DB=postgres`): the door is still closed, on the read path (a decision,
an authentication) the mediator and partners use.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from services.consent.seed import SCHOOL_ENROLMENT_ID
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from tests.conftest import scratch_database
from tests.security import kill9_writes as w
from tests.security.kill9_support import ServiceCase, running
from tests.security.test_kill9_services import DECISION

CONSENT = ServiceCase(
    service="consent",
    env={"DPI_CONSENT_ORG_API_KEY": "dpi-consent-org-key", "DPI_CONSENT_WEBHOOK_INTERVAL": "3600"},
    headers={"Authorization": "ApiKey dpi-consent-org-key"},
    writes=(),
)
ID_REGISTRY = ServiceCase(
    service="id_registry",
    env={
        "DPI_ID_REGISTRY_SEED_POPULATION": "5",  # `id_registry_setup` takes five
        "DPI_ID_REGISTRY_SUBSCRIBE_CIVIL_EVENTS": "false",
        "DPI_ID_REGISTRY_PUBLISH_EVENTS": "false",
    },
    headers={"X-DPI-Admin-Key": "dpi-admin"},
    writes=(),
)
RECORD = "/service/individual/record"
PERSON = "kill9-withdrawn"


def decide(client: httpx.Client) -> dict[str, str]:
    body = {"subject": PERSON, **DECISION}
    response = client.post(
        "/v1/decisions", json=body, headers={MEDIATOR_KEY_HEADER: mediator_key()}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, str] = response.json()
    return answer


def test_a_withdrawal_acknowledged_before_kill_9_still_denies(tmp_path: Path) -> None:
    with scratch_database("kill9_withdraw", tmp_path / "consent.db") as url:
        with running(CONSENT, url, tmp_path) as served, served.client(CONSENT) as client:
            made = client.post("/service/individual/", json={"individual": {"externalId": PERSON}})
            assert made.status_code == 200, made.text
            who = {"X-ConsentBB-IndividualId": PERSON}
            granted = client.post(f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", headers=who)
            assert granted.status_code == 200, granted.text
            assert decide(client)["decision"] == "permit"
            record_id = granted.json()["consentRecord"]["id"]
            body = {"consentRecord": {"optIn": False}}
            withdrawn = client.put(f"{RECORD}/consent-record/{record_id}/", json=body, headers=who)
            assert withdrawn.status_code == 200, withdrawn.text
            served.process.send_signal(signal.SIGKILL)  # right after the acknowledgement
            assert served.process.wait(timeout=10) == -signal.SIGKILL
        with running(CONSENT, url, tmp_path) as served, served.client(CONSENT) as client:
            answer = decide(client)
            assert answer["decision"] == "deny" and answer["reasonCode"] == "withdrawn", answer


def test_a_partner_deactivated_before_kill_9_stays_refused(tmp_path: Path) -> None:
    with scratch_database("kill9_partner", tmp_path / "id.db") as url:
        with running(ID_REGISTRY, url, tmp_path) as served, served.client(ID_REGISTRY) as client:
            context = w.id_registry_setup(client, {})
            call = w.ida(0, context, "auth")
            before = client.request(call.method, call.path, json=call.json)
            assert before.json()["errors"] is None, before.text
            off = client.patch("/v1/partners/moh-hmis", json={"status": "DEACTIVATED"})
            assert off.status_code == 200, off.text
            served.process.send_signal(signal.SIGKILL)
            assert served.process.wait(timeout=10) == -signal.SIGKILL
        with running(ID_REGISTRY, url, tmp_path) as served, served.client(ID_REGISTRY) as client:
            call = w.ida(1, context, "auth")
            after = client.request(call.method, call.path, json=call.json)
            assert after.status_code == 200
            assert [e["errorCode"] for e in after.json()["errors"]] == ["IDA-MPA-012"], after.text
