"""Registration: eKYC through the mediator, then a tracked entity holding only the PSUT."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from services.kernel.time import dhis2_timestamp, utcnow
from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.base import table_of
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import Dhis2Error, bad_request
from services.sectoral_platform.identity.ida import IdaClient, IdSystemUnavailable, kyc_request
from services.sectoral_platform.identity.models import PendingVerification, VerificationOutcome
from services.sectoral_platform.identity.sealing import seal, unseal
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.tracker.bundle import ImportParams, flatten
from services.sectoral_platform.tracker.importer import import_bundle
from services.sectoral_platform.tracker.state import TE, TEAV

log = logging.getLogger("dpi.sectoral_platform.identity")
PENDING = table_of(PendingVerification)
OUTCOME = table_of(VerificationOutcome)
Obj = dict[str, Any]

PERSON = "nEenWmSyUEp"
CHILD_PROGRAMME = "IpHINAT79UW"
TOKEN_ATTRIBUTE = "NatIdTok0en"
# The health sector's policy: which eKYC attributes it keeps, and where.
KEPT = {"givenName": "w75KJ2mc4zz", "familyName": "zDhUuAYrxNC",
        "dateOfBirth": "iESIqZ0R0R0", "gender": "cejWyOfXge6"}  # fmt: skip


@dataclass
class Registrar:
    engine: Engine
    store: MetadataStore
    ida: IdaClient
    box: Fernet

    async def register(self, body: Any, scope: Scope) -> tuple[int, Obj]:
        if not isinstance(body, dict):
            raise bad_request("A registration must be a JSON object")
        individual = body.get("individualId")
        id_type = str(body.get("individualIdType") or "UIN").upper()
        if not isinstance(individual, str) or not individual or id_type not in ("UIN", "VID"):
            raise bad_request("`individualId` (a UIN or VID) and `individualIdType` are required")
        if not isinstance(body.get("orgUnit"), str):
            raise bad_request("`orgUnit` is required")
        self._require_capture(scope, body["orgUnit"])  # before the ID system is asked anything
        capture = scope.capture_limit()
        request = kyc_request(
            individual_id=individual,
            id_type=id_type,
            demographics=body.get("demographics"),
            otp=body.get("otp"),
            transaction_id=body.get("transactionID"),
        )
        te = generate_uid()
        try:
            result = await self.ida.kyc(request)
        except IdSystemUnavailable as exc:
            log.warning("ID system unavailable, registration %s pending: %s", te, exc)
            await self._create(te, body, [], capture, pending=seal(self.box, request))
            return 202, {"status": "PENDING_VERIFICATION", "trackedEntity": te}
        if not result.ok:
            raise Dhis2Error(
                f"The ID system did not confirm the person: {result.error_message}",
                status_code=409,
                error_code=result.error_code,
            )
        assert result.token is not None
        existing = await run_in_threadpool(self._holder, result.token)
        if existing is not None:
            if not scope.covers_path(Kind.SEARCH, self.org_unit_path(existing)):
                raise Dhis2Error(
                    "The person is already registered outside your search scope",
                    status_code=409,
                    error_code="E1064",
                )
            return 200, {"status": "VERIFIED", "trackedEntity": existing, "existing": True}
        attributes = [*kyc_attributes(result.identity), _token(result.token)]
        await self._create(te, body, attributes, capture, pending=None)
        return 201, {"status": "VERIFIED", "trackedEntity": te}

    def _require_capture(self, scope: Scope, org_unit: str) -> None:
        if self.store.get("organisationUnits", org_unit) is None:
            return  # the import reports the unknown org unit
        if not scope.covers(Kind.CAPTURE, org_unit):
            raise Dhis2Error(
                f"User: `{scope.username}`, has no write access to organisation unit: "
                f"`{org_unit}`.",
                status_code=409,
                error_code="E1000",
            )

    async def _create(
        self,
        te: str,
        body: Obj,
        verified: list[Obj],
        capture: list[str] | None,
        pending: str | None,
    ) -> None:
        given = [a for a in body.get("attributes") or [] if isinstance(a, dict)]
        chosen = {a.get("attribute"): a for a in given if a.get("attribute") != TOKEN_ATTRIBUTE}
        chosen.update({a["attribute"]: a for a in verified})
        entity: Obj = {
            "trackedEntity": te,
            "trackedEntityType": PERSON,
            "orgUnit": body["orgUnit"],
            "attributes": list(chosen.values()),
        }
        program = body.get("program", CHILD_PROGRAMME)
        if program:
            entity["enrollments"] = [{
                "program": program, "orgUnit": body["orgUnit"],
                "enrolledAt": body.get("enrolledAt") or utcnow().date().isoformat(),
            }]  # fmt: skip

        def write() -> Obj:
            report = import_bundle(
                engine=self.engine,
                store=self.store,
                bundle=flatten({"trackedEntities": [entity]}),
                params=ImportParams(strategy="CREATE"),
                capture=capture,
            )
            if report["status"] == "OK":
                with self.engine.begin() as conn:
                    if pending is not None:
                        conn.execute(PENDING.insert().values(
                            tracked_entity=te, sealed_request=pending, attempts=0,
                            created=dhis2_timestamp()))  # fmt: skip
                    status = "PENDING_VERIFICATION" if pending else "VERIFIED"
                    conn.execute(OUTCOME.insert().values(
                        tracked_entity=te, status=status, updated=dhis2_timestamp()))  # fmt: skip
            return report

        report = await run_in_threadpool(write)
        if report["status"] != "OK":
            raise Dhis2Error("The registration did not validate", status_code=409,
                             response=report)  # fmt: skip

    def _holder(self, token: str) -> str | None:
        query = select(TEAV.c.te).where(TEAV.c.attribute == TOKEN_ATTRIBUTE, TEAV.c.value == token)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else str(row[0])

    def outcome(self, te: str) -> Obj | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(OUTCOME).where(OUTCOME.c.tracked_entity == te)).mappings()
            found = row.first()
        if found is None:
            return None
        return {"trackedEntity": te, "status": found["status"], "errorCode": found["error_code"],
                "updatedAt": found["updated"]}  # fmt: skip

    def org_unit_path(self, te: str) -> str | None:
        with self.engine.connect() as conn:
            path: str | None = conn.execute(
                select(TE.c.ou_path).where(TE.c.uid == te)
            ).scalar_one_or_none()
        return path

    async def verify_pending(self) -> Obj:
        """One round over the pending checks; each verified or refused one is dropped."""
        counts = {"verified": 0, "refused": 0, "pending": 0}
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(select(PENDING)).mappings()]
        for row in rows:
            counts[await self._verify(row)] += 1
        return counts

    async def _verify(self, row: Obj) -> str:
        te = row["tracked_entity"]
        request = unseal(self.box, row["sealed_request"])
        if request is None:
            await run_in_threadpool(self._finish, te, "REFUSED", "SEAL-KEY-CHANGED")
            return "refused"
        try:
            result = await self.ida.kyc(request)
        except IdSystemUnavailable as exc:
            await run_in_threadpool(self._retry_later, te, str(exc))
            return "pending"
        if not result.ok or result.token is None:
            await run_in_threadpool(self._finish, te, "REFUSED", result.error_code)
            return "refused"
        holder = await run_in_threadpool(self._holder, result.token)
        if holder is not None and holder != te:
            await run_in_threadpool(self._finish, te, "REFUSED", "DUPLICATE-OF-" + holder)
            return "refused"
        update = {
            "trackedEntity": te,
            "attributes": [*kyc_attributes(result.identity), _token(result.token)],
        }

        def write() -> None:
            import_bundle(
                engine=self.engine,
                store=self.store,
                bundle=flatten({"trackedEntities": [update]}),
                params=ImportParams(strategy="UPDATE"),
                capture=None,
            )
            self._finish(te, "VERIFIED", None)

        await run_in_threadpool(write)
        return "verified"

    def _retry_later(self, te: str, reason: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(PENDING.update().where(PENDING.c.tracked_entity == te).values(
                attempts=PENDING.c.attempts + 1, last_error=reason[:255]))  # fmt: skip

    def _finish(self, te: str, status: str, code: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(PENDING).where(PENDING.c.tracked_entity == te))
            conn.execute(OUTCOME.update().where(OUTCOME.c.tracked_entity == te).values(
                status=status, error_code=code, updated=dhis2_timestamp()))  # fmt: skip


def _token(token: str) -> Obj:
    return {"attribute": TOKEN_ATTRIBUTE, "value": token}


def kyc_attributes(identity: Obj) -> list[Obj]:
    """The eKYC attributes the health policy keeps, as tracked entity attribute values."""
    values: list[Obj] = []
    given, family = _text(identity.get("givenName")), _text(identity.get("familyName"))
    if given is None and (full := _text(identity.get("fullName"))):
        given, _, rest = full.partition(" ")
        family = family or rest or None
    dob = identity.get("dateOfBirth")
    gender = _text(identity.get("gender"))
    found = {"givenName": given, "familyName": family,
             "dateOfBirth": dob.replace("/", "-") if isinstance(dob, str) else None,
             "gender": gender.capitalize() if gender in ("male", "female", "Male", "Female")
             else None}  # fmt: skip
    for name, attribute in KEPT.items():
        if found.get(name):
            values.append({"attribute": attribute, "value": found[name]})
    return values


def _text(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0].get("value")
    return value if isinstance(value, str) and value else None
