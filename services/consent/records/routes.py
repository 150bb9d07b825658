"""The individual's consent record paths (`/service/individual/record/...`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel

from services.consent.agreements.service import get_agreement
from services.consent.deps import (
    INDIVIDUAL_HEADER,
    IndividualHeaderDep,
    OptionalIndividualHeaderDep,
    OrgDep,
    Page,
    SettingsDep,
    SignerDep,
)
from services.consent.individuals.service import resolve_individual
from services.consent.records import signatures
from services.consent.records.erasure import ErasureResult, forget_individual
from services.consent.records.models import (
    ConsentOptions,
    ConsentRecordPublic,
    ConsentRecordSignatureEnvelope,
    ConsentRecordUpdateEnvelope,
    SignatureEnvelope,
    SignaturePublic,
)
from services.consent.records.reads import current_record, list_records
from services.consent.records.service import (
    create_record,
    update_record,
)
from services.consent.records.wire import signature_public, to_public
from services.consent.revisions.models import RevisionPublic
from services.consent.spec_route import SpecRoute
from services.kernel.db import SessionDep
from services.kernel.errors import BadRequest
from services.kernel.openapi import errors

router = APIRouter(tags=["service"], route_class=SpecRoute)
PageDep = Annotated[Page, Depends()]
PREFIX = "/service/individual/record"


class RecordOnly(BaseModel):
    consentRecord: ConsentRecordPublic


class RecordWithRevision(BaseModel):
    consentRecord: ConsentRecordPublic
    revision: RevisionPublic


class RecordDraft(BaseModel):
    consentRecord: ConsentRecordPublic
    signature: SignaturePublic


class RecordSigned(BaseModel):
    consentRecord: ConsentRecordPublic
    revision: RevisionPublic
    signature: SignaturePublic


class SignatureOnly(BaseModel):
    signature: SignaturePublic


class RecordList(BaseModel):
    consentRecords: list[ConsentRecordPublic]


def _who(session: SessionDep, header: str | None, query: str | None) -> str:
    """The individual: header (preferred by the spec's prose) or the `individualId` query."""
    if (
        header
        and query
        and header != query
        and resolve_individual(session, reference=header).id
        != resolve_individual(session, reference=query).id
    ):
        raise BadRequest(
            f"{INDIVIDUAL_HEADER} and individualId name different individuals.",
            code="individual-mismatch",
        )
    who = header or query
    if not who:
        raise BadRequest(
            f"Name the individual in {INDIVIDUAL_HEADER} (or the individualId query).",
            code="individual-required",
        )
    return who


@router.post(
    f"{PREFIX}/data-agreement/{{dataAgreementId}}/",
    response_model=RecordWithRevision,
    operation_id="serviceIndividualConsentRecordCreate",
)
def post_record(
    dataAgreementId: str,
    session: SessionDep,
    _: OrgDep,
    signer: SignerDep,
    settings: SettingsDep,
    header: OptionalIndividualHeaderDep,
    individualId: Annotated[str | None, Query()] = None,
    revisionId: Annotated[str | None, Query()] = None,
    body: Annotated[ConsentOptions | None, Body()] = None,
) -> RecordWithRevision:
    record, revision = create_record(
        session,
        agreement_id=dataAgreementId,
        individual_ref=_who(session, header, individualId),
        revision_id=revisionId,
        choices=body.consentArtefact if body else None,
        signer=signer,
        settings=settings,
    )
    return RecordWithRevision(
        consentRecord=to_public(record, session=session), revision=revision.public()
    )


@router.get(
    f"{PREFIX}/data-agreement/{{dataAgreementId}}/",
    response_model=RecordOnly,
    operation_id="serviceIndividualConsentRecordRead",
)
def get_record_for_agreement(
    dataAgreementId: str, session: SessionDep, _: OrgDep, who: IndividualHeaderDep
) -> RecordOnly:
    record = current_record(session, agreement_id=dataAgreementId, individual_ref=who)
    return RecordOnly(consentRecord=to_public(record, session=session))


@router.post(
    f"{PREFIX}/consent-record/draft/",
    response_model=RecordDraft,
    operation_id="serviceIndividualConsentRecordDraftCreate",
    responses=errors(404),
)
def post_draft(
    session: SessionDep,
    _: OrgDep,
    header: OptionalIndividualHeaderDep,
    dataAgreementId: Annotated[str, Query()],
    individualId: Annotated[str | None, Query()] = None,
    revisionId: Annotated[str | None, Query()] = None,
) -> RecordDraft:
    record, signature = signatures.draft(
        session,
        agreement_id=dataAgreementId,
        individual_ref=_who(session, header, individualId),
        revision_id=revisionId,
    )
    return RecordDraft(consentRecord=record, signature=signature)


@router.post(
    f"{PREFIX}/consent-record/",
    response_model=RecordSigned,
    operation_id="serviceIndividualConsentRecordSignatureCreate",
    responses=errors(404),
)
def post_signed_record(
    body: ConsentRecordSignatureEnvelope,
    session: SessionDep,
    _: OrgDep,
    signer: SignerDep,
    settings: SettingsDep,
    header: OptionalIndividualHeaderDep,
) -> RecordSigned:
    record, revision, signature = signatures.create_signed(
        session,
        data=body.consentRecord,
        given=body.signature,
        individual_ref=header,
        signer=signer,
        settings=settings,
    )
    return RecordSigned(
        consentRecord=to_public(record, session=session),
        revision=revision.public(),
        signature=signature_public(signature),
    )


@router.get(
    f"{PREFIX}/consent-record/",
    response_model=RecordList,
    operation_id="serviceIndividualConsentRecordList",
    responses=errors(404),
)
def my_records(
    session: SessionDep, _: OrgDep, who: IndividualHeaderDep, page: PageDep
) -> RecordList:
    individual = resolve_individual(session, reference=who)
    found = list_records(session, offset=page.offset, limit=page.limit, individual_id=individual.id)
    return RecordList(consentRecords=[to_public(r, session=session) for r in found])


@router.put(
    f"{PREFIX}/consent-record/{{consentRecordId}}/",
    response_model=RecordWithRevision,
    operation_id="serviceIndividualConsentRecordUpdate",
)
def put_record(
    consentRecordId: str,
    body: ConsentRecordUpdateEnvelope,
    session: SessionDep,
    _: OrgDep,
    who: IndividualHeaderDep,
    signer: SignerDep,
    settings: SettingsDep,
) -> RecordWithRevision:
    record, revision = update_record(
        session,
        record_id=consentRecordId,
        individual_ref=who,
        data=body.consentRecord,
        signer=signer,
        settings=settings,
    )
    return RecordWithRevision(
        consentRecord=to_public(record, session=session), revision=revision.public()
    )


@router.post(
    f"{PREFIX}/consent-record/{{consentRecordId}}/signature/",
    response_model=SignatureOnly,
    operation_id="serviceIndividualSignatureCreate",
)
def post_signature(
    consentRecordId: str,
    body: SignatureEnvelope,
    session: SessionDep,
    _: OrgDep,
    who: IndividualHeaderDep,
) -> SignatureOnly:
    signature = signatures.create_signature(
        session, record_id=consentRecordId, individual_ref=who, given=body.signature
    )
    return SignatureOnly(signature=signature_public(signature))


@router.put(
    f"{PREFIX}/consent-record/{{consentRecordId}}/signature/",
    response_model=SignatureOnly,
    operation_id="serviceIndividualSignatureUpdate",
)
def put_signature(
    consentRecordId: str,
    body: SignatureEnvelope,
    session: SessionDep,
    _: OrgDep,
    who: IndividualHeaderDep,
) -> SignatureOnly:
    signature = signatures.sign(
        session, record_id=consentRecordId, individual_ref=who, given=body.signature
    )
    return SignatureOnly(signature=signature_public(signature))


@router.get(
    f"{PREFIX}/data-agreement/{{dataAgreementId}}/all/",
    response_model=RecordList,
    operation_id="serviceIndividualDataAgreementConsentRecordList",
)
def records_for_agreement(
    dataAgreementId: str, session: SessionDep, _: OrgDep, who: IndividualHeaderDep, page: PageDep
) -> RecordList:
    agreement = get_agreement(session, agreement_id=dataAgreementId)
    individual = resolve_individual(session, reference=who)
    found = list_records(
        session,
        offset=page.offset,
        limit=page.limit,
        individual_id=individual.id,
        agreement_id=agreement.id,
    )
    return RecordList(consentRecords=[to_public(r, session=session) for r in found])


@router.delete(
    f"{PREFIX}/",
    response_model=ErasureResult,
    operation_id="serviceIndividualConsentRecordDeleteAll",
    responses=errors(404),
)
def forget_me(
    session: SessionDep, _: OrgDep, who: IndividualHeaderDep, settings: SettingsDep
) -> ErasureResult:
    return forget_individual(session, individual_ref=who, secret=settings.sandbox_secret)
