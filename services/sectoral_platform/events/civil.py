"""`birth-registered` from the civil register pre-registers the newborn in the Child Programme."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.kernel.mediator import MediatorClient, Subscriber, Subscription
from services.sectoral_platform.errors import Dhis2Error, bad_request
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.seed.orgunits import uid_for
from services.sectoral_platform.tracker.bundle import ImportParams, flatten
from services.sectoral_platform.tracker.importer import import_bundle
from services.sectoral_platform.tracker.state import TEAV

SERVICE = "sectoral_platform"
PUSH_PATH = "/api/civilRegistration/events"
CIVIL_ID = "CrvsBirthId"
SEX = {"male": "Male", "female": "Female"}


@dataclass
class BirthConsumer:
    engine: Engine
    store: MetadataStore

    def handle(self, item: Any) -> dict[str, Any]:
        """Idempotent: a repeated delivery finds the child already registered."""
        if not isinstance(item, dict) or item.get("eventType") != "birth-registered":
            raise bad_request("Only `birth-registered` event items are accepted")
        event = item.get("event") or {}
        child = event.get("child") or {}
        record = event.get("civilRegistrationId")
        if (
            not isinstance(record, str)
            or not isinstance(child, dict)
            or not child.get("dateOfBirth")
        ):
            raise bad_request("`civilRegistrationId` and `child.dateOfBirth` are required")
        with self.engine.connect() as conn:
            holder = conn.execute(
                select(TEAV.c.te).where(TEAV.c.attribute == CIVIL_ID, TEAV.c.value == record)
            ).first()
        if holder is not None:
            return {"eventId": item.get("id"), "outcome": "already-registered",
                    "trackedEntity": holder[0]}  # fmt: skip
        ou = uid_for(str(child.get("placeOfBirth") or ""))
        if self.store.get("organisationUnits", ou) is None:
            # not synced from the facility registry yet: the mediator redelivers later
            raise Dhis2Error(
                f"Unknown place of birth `{child.get('placeOfBirth')}`", status_code=503
            )
        attributes = [
            {"attribute": "w75KJ2mc4zz", "value": child.get("givenName")},
            {"attribute": "zDhUuAYrxNC", "value": child.get("familyName")},
            {"attribute": "iESIqZ0R0R0", "value": child["dateOfBirth"]},
            {"attribute": "cejWyOfXge6", "value": SEX.get(str(child.get("sex")).lower())},
            {"attribute": CIVIL_ID, "value": record},
        ]
        te = {"trackedEntityType": "nEenWmSyUEp", "orgUnit": ou,
              "attributes": [a for a in attributes if a["value"]],
              "enrollments": [{"program": "IpHINAT79UW", "orgUnit": ou,
                               "enrolledAt": child["dateOfBirth"],
                               "occurredAt": child["dateOfBirth"]}]}  # fmt: skip
        bundle = flatten({"trackedEntities": [te]})
        report = import_bundle(engine=self.engine, store=self.store, bundle=bundle,
                               params=ImportParams(strategy="CREATE"), capture=None)  # fmt: skip
        if report["status"] != "OK":
            errors = report["validationReport"]["errorReports"]
            raise Dhis2Error("The newborn could not be registered", status_code=409,
                             response={"errorReports": errors})  # fmt: skip
        return {"eventId": item.get("id"), "outcome": "registered",
                "trackedEntity": bundle.tracked_entities[0]["trackedEntity"]}  # fmt: skip

    async def handle_async(self, item: Any) -> dict[str, Any]:
        return await run_in_threadpool(self.handle, item)


BIRTHS = Subscription(
    "registries",
    "birth-registered",
    {"delivery": "PUSH", "pushPath": PUSH_PATH, "options": {"TTL": 86400, "FIFO": True}},
)


async def subscribe() -> bool:
    """PUSH subscription to `birth-registered` in the civil register's room (409: exists).

    The mediator creates it at its own start from `topology.yaml` (durable, so births published
    before this platform is up are queued for it); this call only matters to a mediator whose
    topology does not declare it, and never creates a second subscription."""
    return await MediatorClient(SERVICE).subscribe(BIRTHS)


def birth_subscriber(mediator: MediatorClient, retry_seconds: float) -> Subscriber:
    """A worker that subscribes, retrying until the mediator accepts."""
    return Subscriber(mediator, [BIRTHS], retry=retry_seconds)
