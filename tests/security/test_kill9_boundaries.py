"""A boundary tightened and acknowledged holds after kill -9: nothing reopens on restart.

`test_kill9_services` shows acknowledged writes survive; here the writes are the ones that close
a door: a consent withdrawn, an ID-system partner deactivated, a mediator access right revoked
(the mediator seeds its catalogue's rights once, so a restart must not bring one back). Each
service runs as a real process, is SIGKILLed right after the 2xx, and restarted on the same
database (SQLite, or PostgreSQL with `DPI_TEST_DB=postgres`): the door is still closed on the
read path (a decision, an authentication, the rights a client sees).
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from services.consent.seed import SCHOOL_ENROLMENT_ID
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from tests.conftest import scratch_database
from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, client_headers
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
MEDIATOR = ServiceCase(service="interop_layer", env={}, headers=ADMIN, writes=())
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


def allowed_services(client: httpx.Client) -> list[str]:
    answer = client.get(f"/r1/{HEALTH}/allowedMethods", headers=client_headers(EDUCATION))
    assert answer.status_code == 200, answer.text
    return [s["service_code"] for s in answer.json()["service"]]


def test_an_access_right_revoked_before_kill_9_stays_revoked(tmp_path: Path) -> None:
    with scratch_database("kill9_right", tmp_path / "mediator.db") as url:
        with running(MEDIATOR, url, tmp_path) as served, served.client(MEDIATOR) as client:
            rights = client.get("/admin/rights", params={"client": EDUCATION, "provider": HEALTH})
            assert rights.status_code == 200, rights.text
            right = rights.json()[0]
            assert right["serviceCode"] in allowed_services(client)
            revoked = client.delete(f"/admin/rights/{right['id']}")
            assert revoked.status_code in (200, 204), revoked.text
            served.process.send_signal(signal.SIGKILL)
            assert served.process.wait(timeout=10) == -signal.SIGKILL
        with running(MEDIATOR, url, tmp_path) as served, served.client(MEDIATOR) as client:
            assert right["serviceCode"] not in allowed_services(client)
            again = client.get("/admin/rights", params={"client": EDUCATION, "provider": HEALTH})
            assert right["id"] not in [r["id"] for r in again.json()]
