"""The writes of the kill -9 test: the i-th request of each kind, each carrying its own ids."""

from __future__ import annotations

from typing import Any

import httpx

from services.id_registry.settings import DEFAULT_MISP_LICENSE_KEY
from services.kernel.time import iso_millis_z, utcnow
from services.sectoral_platform.seed.orgunits import uid_for
from tests.security.kill9_support import Ack, Call, Context, Receiver

CONSENT_POOL = 150  # people who may be granted a consent record (one each: a second is a 409)


def letters(i: int) -> str:
    """A name part unique to write `i` (person names are letters only)."""
    out = ""
    while True:
        i, digit = divmod(i, 26)
        out += chr(ord("a") + digit)
        if i == 0:
            return out


def json_of(response: httpx.Response) -> Any:
    return response.json()


def listed(ack: Ack, response: httpx.Response) -> bool:
    return response.status_code == 200 and len(response.json()) > 0


# --- id_registry -----------------------------------------------------------------------------

IDA = f"/idauthentication/v1/{{kind}}/{DEFAULT_MISP_LICENSE_KEY}/moh-hmis/moh-hmis-sandbox-key"


def id_registry_setup(client: httpx.Client, context: Context) -> Context:
    people = client.get("/v1/identities", params={"limit": 5}).json()
    assert len(people) == 5, people
    return {"people": people}


def ida(i: int, context: Context, kind: str) -> Call:
    """An IDA demographic authentication or OTP request with its own transaction id."""
    person = context["people"][i % len(context["people"])]
    body: dict[str, Any] = {
        "id": f"mosip.identity.{kind}",
        "version": "1.0",
        "requestTime": iso_millis_z(utcnow()),  # within the ID system's window
        "transactionID": f"KILL9{kind.upper()}{i:06d}",
        "individualId": person["UIN"],
        "individualIdType": "UIN",
    }
    if kind == "otp":
        body["otpChannel"] = ["PHONE", "EMAIL"]
    else:
        identity = person["identity"]
        body["consentObtained"] = True
        body["request"] = {
            "timestamp": "2026-03-01T09:00:00.000Z",
            "demographics": {"name": identity["fullName"], "dob": identity["dateOfBirth"]},
        }
    return Call("POST", IDA.format(kind=kind), json=body)


def ida_ack(i: int, response: httpx.Response) -> Ack:
    return {"txn": json_of(response)["transactionID"]}


def enrolment(i: int, context: Context) -> Call:
    body = {
        "givenName": "Kilo",
        "familyName": f"Nine{letters(i)}",
        "dateOfBirth": "1990-01-01",
        "gender": "female",
        "civilRegistrationId": f"KILL9-{i}",
    }
    return Call("POST", "/v1/identities", json=body)


def vid(i: int, context: Context) -> Call:
    uin = context["people"][i % len(context["people"])]["UIN"]
    return Call(
        "POST", "/idrepository/v1/vid", json={"request": {"UIN": uin, "vidType": "TEMPORARY"}}
    )


def identity_events(client: httpx.Client, context: Context) -> set[str]:
    params = {"pending": "false", "limit": "1000"}
    events = client.get("/v1/events/outbox", params=params).json()
    return {event["payload"]["civilRegistrationId"] for event in events}


# --- consent ---------------------------------------------------------------------------------


def person(i: int) -> str:
    """The person of write `i` of a service loaded with three kinds of writes in turn."""
    assert i // 3 < CONSENT_POOL, "more writes than people to grant"
    return f"kill9-person-{i // 3}"


def consent_setup(client: httpx.Client, context: Context) -> Context:
    """A webhook to the test's receiver, and the people whose records the load grants."""
    hook: Receiver = context["hook"]
    webhook = {"payloadUrl": hook.url, "secretKey": "kill9-webhook-secret"}
    response = client.post("/config/webhook/", json={"webhook": webhook})
    assert response.status_code == 200, response.text
    for n in range(CONSENT_POOL):
        body = {"individual": {"externalId": f"kill9-person-{n}"}}
        response = client.post("/service/individual/", json=body)
        assert response.status_code == 200, response.text
    return {}


def delivered_grants(client: httpx.Client, context: Context) -> set[str]:
    hook: Receiver = context["hook"]
    grants = [body for body in hook.received() if body["type"] == "consent.allowed"]
    return {body["data"]["consentRecordId"] for body in grants}


# --- sectoral_platform -----------------------------------------------------------------------

FACILITIES = [uid_for(f"XD-R01-D0{d}-F00{f}") for d in (1, 2) for f in (1, 2, 3)]
ANC1, COC, DATA_SET = "u8jzPde0Igx", "HllvX50cXC0", "QX4ZTUbOt3a"


def slot(i: int) -> tuple[str, str]:
    """The (monthly period, facility) of data value write `i`: one of its own."""
    month, unit = divmod(i, len(FACILITIES))
    return f"{2001 + month // 12}{month % 12 + 1:02d}", FACILITIES[unit]


def data_value(i: int, context: Context) -> Call:
    period, unit = slot(i)
    values = [{"dataElement": ANC1, "value": str(i + 1)}]
    body = {"dataSet": DATA_SET, "period": period, "orgUnit": unit, "dataValues": values}
    return Call("POST", "/api/dataValueSets", json=body)


def data_value_read(ack: Ack) -> Call:
    period, unit = slot(int(ack["i"]))
    return Call("GET", "/api/dataValues", params={"de": ANC1, "pe": period, "ou": unit, "co": COC})


def data_value_found(ack: Ack, response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json() == [str(int(ack["i"]) + 1)]


def child(i: int, *, sync: bool) -> Call:
    """A child enrolled with a birth event giving BCG (which puts an event in the outbox)."""
    unit = FACILITIES[i % len(FACILITIES)]
    event = {
        "event": f"E{i:010d}",
        "programStage": "A03MvHHogjR",
        "orgUnit": unit,
        "occurredAt": "2026-01-05",
        "status": "COMPLETED",
        "dataValues": [
            {"dataElement": "UXz7xuGCEhU", "value": "3200"},
            {"dataElement": "bx6fsa0t90x", "value": "true"},
        ],
    }
    enrollment = {
        "enrollment": f"N{i:010d}",
        "program": "IpHINAT79UW",
        "orgUnit": unit,
        "enrolledAt": "2026-01-05",
        "events": [event],
    }
    entity = {
        "trackedEntity": f"T{i:010d}",
        "trackedEntityType": "nEenWmSyUEp",
        "orgUnit": unit,
        "attributes": [
            {"attribute": "w75KJ2mc4zz", "value": f"Kilo{letters(i)}"},
            {"attribute": "iESIqZ0R0R0", "value": "2026-01-05"},
        ],
        "enrollments": [enrollment],
    }
    params = {"async": "false" if sync else "true"}
    return Call("POST", "/api/tracker", params=params, json={"trackedEntities": [entity]})


def tracked(i: int, response: httpx.Response) -> Ack:
    return {"te": f"T{i:010d}", "event": f"E{i:010d}"}


def tracked_read(ack: Ack) -> Call:
    return Call("GET", f"/api/tracker/trackedEntities/{ack['te']}")


def immunisation_events(client: httpx.Client, context: Context) -> set[str]:
    return {
        event["payload"]["event"] for event in client.get("/api/events/outbox").json()["events"]
    }
