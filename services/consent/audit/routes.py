"""Verification (data consumers), audit (auditors) and revision-chain paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from services.consent.deps import OrgDep, Page
from services.consent.ids import check_id
from services.consent.records.models import ConsentRecordPublic
from services.consent.records.reads import list_records, record_revision
from services.consent.records.service import get_record
from services.consent.records.wire import to_public
from services.consent.revisions.models import RevisionPublic
from services.consent.revisions.service import chain_problems, public_chain, revision_chain
from services.consent.spec_route import SpecRoute
from services.kernel.db import SessionDep
from services.kernel.errors import NotFound

service_router = APIRouter(tags=["service"], route_class=SpecRoute)
audit_router = APIRouter(tags=["auditor"], route_class=SpecRoute)
revisions_router = APIRouter(prefix="/v1", tags=["revisions (sandbox)"])
PageDep = Annotated[Page, Depends()]


class RecordList(BaseModel):
    consentRecords: list[ConsentRecordPublic]


class RecordWithRevision(BaseModel):
    consentRecord: ConsentRecordPublic
    revision: RevisionPublic | None


class RecordOnly(BaseModel):
    consentRecord: ConsentRecordPublic


class RevisionChain(BaseModel):
    objectId: str
    revisions: list[RevisionPublic]
    chainValid: bool
    problems: list[str]


@service_router.get(
    "/service/verification/consent-records/",
    response_model=RecordList,
    operation_id="serviceVerificationConsentRecordList",
)
def verify_records(
    session: SessionDep,
    _: OrgDep,
    page: PageDep,
    individualId: Annotated[str | None, Query()] = None,
    dataAgreementId: Annotated[str | None, Query()] = None,
    dataConsumer: Annotated[str | None, Query()] = None,
    purposeCode: Annotated[str | None, Query()] = None,
    optIn: Annotated[bool | None, Query()] = None,
) -> RecordList:
    """Query whether consent exists, filtered (ConsentRecordFilter)."""
    found = list_records(
        session,
        offset=page.offset,
        limit=page.limit,
        individual_id=check_id(individualId, "individualId") if individualId else None,
        agreement_id=check_id(dataAgreementId, "dataAgreementId") if dataAgreementId else None,
        data_consumer=dataConsumer,
        purpose_code=purposeCode,
        opt_in=optIn,
    )
    return RecordList(consentRecords=[to_public(r, session=session) for r in found])


@service_router.get(
    "/service/verification/consent-record/{consentRecordId}/",
    response_model=RecordWithRevision,
    operation_id="serviceVerificationConsentRecordRead",
)
def verify_record(consentRecordId: str, session: SessionDep, _: OrgDep) -> RecordWithRevision:
    record = get_record(session, record_id=consentRecordId)
    revision = record_revision(session, record=record)
    return RecordWithRevision(
        consentRecord=to_public(record, session=session),
        revision=revision.public() if revision else None,
    )


@audit_router.get(
    "/audit/consent-records/", response_model=RecordList, operation_id="auditConsentRecordList"
)
def audit_records(session: SessionDep, _: OrgDep, page: PageDep) -> RecordList:
    found = list_records(session, offset=page.offset, limit=page.limit)
    return RecordList(consentRecords=[to_public(r, session=session) for r in found])


@audit_router.get(
    "/audit/consent-record/{consentRecordId}/",
    response_model=RecordOnly,
    operation_id="auditConsentRecordRead",
)
def audit_record(consentRecordId: str, session: SessionDep, _: OrgDep) -> RecordOnly:
    return RecordOnly(
        consentRecord=to_public(get_record(session, record_id=consentRecordId), session=session)
    )


@revisions_router.get(
    "/revisions/{objectId}",
    response_model=RevisionChain,
    summary="An object's revision chain and whether it verifies",
)
def object_revisions(objectId: str, session: SessionDep, _: OrgDep) -> RevisionChain:
    chain = revision_chain(session, object_id=check_id(objectId, "objectId"))
    if not chain:
        raise NotFound(f"No revisions of {objectId}.", code="revision-not-found")
    problems = chain_problems(chain)
    return RevisionChain(
        objectId=objectId,
        revisions=public_chain(chain),
        chainValid=not problems,
        problems=problems,
    )
