"""Incremental sync of org units from the registry's FHIR mCSD `Location`s, via the mediator."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.engine import Engine

from services.kernel.claims import StreamClaim
from services.kernel.mediator import MediatorClient
from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.base import table_of
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.facility_registry.models import FacilitySyncState
from services.sectoral_platform.metadata.importer import run_import
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.metadata.validation import ImportOptions
from services.sectoral_platform.seed.defaults import ADMIN_UID
from services.sectoral_platform.seed.orgunits import OPENING_DATE, point, uid_for

log = logging.getLogger("dpi.sectoral_platform.facility_registry")
REGISTRY = "registries"
SOURCE = "DPI/GOV/CRVS/registries/fhir/Location"  # the cursor's key in the sync state table
STATE = table_of(FacilitySyncState)
CLAIM_WAIT_SECONDS = 60.0  # for another replica's sync to end
Obj = dict[str, Any]


class RegistryUnavailable(Exception):
    """The mediator or the registry did not answer: the cursor stays where it was."""


@dataclass
class FacilitySync:
    engine: Engine
    store: MetadataStore
    lock: asyncio.Lock
    mediator: MediatorClient
    claim: StreamClaim  # one sync at a time among the replicas too

    async def run(self) -> Obj:
        """One incremental sync; answers what changed. Serialised: one sync at a time, here and
        among the replicas, each starting from what the one before it stored."""
        async with self.lock:
            if not await run_in_threadpool(self.claim.wait, CLAIM_WAIT_SECONDS):
                raise RegistryUnavailable("another replica is still syncing; try again")
            try:
                if self.claim.shared:  # the replica before us may have changed org units
                    await run_in_threadpool(self.store.load)
                cursor = await run_in_threadpool(self._cursor)
                locations = await self._fetch(cursor)
                return await run_in_threadpool(self._apply, locations, cursor)
            finally:
                await run_in_threadpool(self.claim.release)

    def _cursor(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(STATE.c.last_updated).where(STATE.c.source == SOURCE)).first()
        return None if row is None else str(row[0])

    async def _fetch(self, cursor: str | None) -> list[Obj]:
        params = {"_count": "1000"}
        if cursor:
            params["_lastUpdated"] = f"gt{cursor}"
        found: list[Obj] = []
        try:
            async with self.mediator.session() as session:
                response = await session.call("GET", REGISTRY, "fhir/Location", params=params)
                while True:
                    if response.status_code != 200:
                        raise RegistryUnavailable(f"registry answered {response.status_code}")
                    bundle = response.json()
                    found += [e["resource"] for e in bundle.get("entry") or []]
                    url = next(
                        (lk["url"] for lk in bundle.get("link") or [] if lk["relation"] == "next"),
                        None,
                    )
                    if url is None:
                        break
                    response = await session.request("GET", url)
        except (httpx.HTTPError, ValueError) as exc:
            raise RegistryUnavailable(f"registry unreachable: {type(exc).__name__}") from exc
        return found

    def _apply(self, locations: list[Obj], cursor: str | None) -> Obj:
        units = [_unit(loc) for loc in locations if loc.get("id")]
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        changed = []
        for unit in units:
            current = self.store.get("organisationUnits", unit["id"])
            merged = unit if current is None else {**current, **unit}
            if "closedDate" not in unit:
                merged.pop("closedDate", None)
            if current is None:
                counts["created"] += 1
            elif all(current.get(k) == merged.get(k) for k in {*unit, "parent", "closedDate"}):
                counts["unchanged"] += 1
                continue
            else:
                counts["updated"] += 1
            changed.append(merged)
        if changed:
            result = run_import(
                self.store,
                {"organisationUnits": changed},
                ImportOptions(strategy="CREATE_AND_UPDATE", user=ADMIN_UID),
            )
            if result.has_errors:
                errors = [e["message"] for o in result.outcomes for e in o.errors][:3]
                raise Dhis2Error(f"Facility sync could not apply the changes: {errors}")
        latest = max((str(loc["meta"]["lastUpdated"]) for loc in locations), default=cursor)
        if latest is not None and latest != cursor:
            with self.engine.begin() as conn:
                conn.execute(STATE.delete().where(STATE.c.source == SOURCE))
                conn.execute(
                    STATE.insert().values(
                        source=SOURCE, last_updated=latest, synced_at=dhis2_timestamp()
                    )
                )
        return {**counts, "received": len(locations), "cursor": latest}


def _unit(location: Obj) -> Obj:
    """A FHIR Location as a DHIS2 org unit; its UID derives from the registry code (its id)."""
    code = str(location["id"])
    name = str(location.get("name") or code)
    unit: Obj = {"id": uid_for(code), "code": code, "name": name, "shortName": name[:50],
                 "openingDate": OPENING_DATE}  # fmt: skip
    parent = ((location.get("partOf") or {}).get("reference") or "").removeprefix("Location/")
    if parent:
        unit["parent"] = {"id": uid_for(parent)}
    position = location.get("position") or {}
    lat, lon = position.get("latitude"), position.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        unit["geometry"] = point(float(lat), float(lon))
    if location.get("status") == "inactive":
        unit["closedDate"] = str(location["meta"]["lastUpdated"])[:10] + "T00:00:00.000"
    return unit
