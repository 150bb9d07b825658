"""Data agreement paths: `/config/data-agreement...`, service reads, verification and audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.consent.agreements.models import DataAgreementEnvelope, DataAgreementPublic
from services.consent.agreements.service import (
    agreement_revision,
    create_agreement,
    delete_agreement,
    get_agreement,
    list_agreements,
    public_agreement,
    update_agreement,
)
from services.consent.deps import OrgDep, Page
from services.consent.revisions.models import RevisionPublic
from services.consent.spec_route import SpecRoute
from services.kernel.db import SessionDep

router = APIRouter(tags=["config"], route_class=SpecRoute)
service_router = APIRouter(tags=["service"], route_class=SpecRoute)
audit_router = APIRouter(tags=["auditor"], route_class=SpecRoute)
PageDep = Annotated[Page, Depends()]


class AgreementWithRevision(BaseModel):
    dataAgreement: DataAgreementPublic
    revision: RevisionPublic


class AgreementOnly(BaseModel):
    dataAgreement: DataAgreementPublic


class RevisionOnly(BaseModel):
    revision: RevisionPublic


class AgreementListConfig(BaseModel):
    dataAgreement: list[DataAgreementPublic]


class AgreementList(BaseModel):
    dataAgreements: list[DataAgreementPublic]


def _with_revision(session: SessionDep, agreement_id: str) -> AgreementWithRevision:
    agreement = get_agreement(session, agreement_id=agreement_id)
    revision = agreement_revision(session, agreement=agreement)
    return AgreementWithRevision(
        dataAgreement=public_agreement(session, agreement), revision=revision.public()
    )


@router.post(
    "/config/data-agreement/",
    response_model=AgreementWithRevision,
    operation_id="configDataAgreementCreate",
)
def post_agreement(
    body: DataAgreementEnvelope, session: SessionDep, _: OrgDep
) -> AgreementWithRevision:
    agreement, revision = create_agreement(session, data=body.dataAgreement)
    return AgreementWithRevision(
        dataAgreement=public_agreement(session, agreement), revision=revision.public()
    )


@router.get(
    "/config/data-agreement/{dataAgreementId}/",
    response_model=AgreementWithRevision,
    operation_id="configDataAgreementRead",
)
def read_agreement(dataAgreementId: str, session: SessionDep, _: OrgDep) -> AgreementWithRevision:
    return _with_revision(session, dataAgreementId)


@router.put(
    "/config/data-agreement/{dataAgreementId}/",
    response_model=AgreementWithRevision,
    operation_id="configDataAgreementUpdate",
)
def put_agreement(
    dataAgreementId: str, body: DataAgreementEnvelope, session: SessionDep, _: OrgDep
) -> AgreementWithRevision:
    agreement, revision = update_agreement(
        session, agreement_id=dataAgreementId, data=body.dataAgreement
    )
    return AgreementWithRevision(
        dataAgreement=public_agreement(session, agreement), revision=revision.public()
    )


@router.delete(
    "/config/data-agreement/{dataAgreementId}/",
    response_model=RevisionOnly,
    operation_id="configDataAgreementDelete",
)
def remove_agreement(dataAgreementId: str, session: SessionDep, _: OrgDep) -> RevisionOnly:
    return RevisionOnly(revision=delete_agreement(session, agreement_id=dataAgreementId).public())


@router.get(
    "/config/data-agreements/",
    response_model=AgreementListConfig,
    operation_id="configDataAgreementList",
)
def config_agreements(session: SessionDep, _: OrgDep, page: PageDep) -> AgreementListConfig:
    found = list_agreements(session, offset=page.offset, limit=page.limit)
    return AgreementListConfig(dataAgreement=[public_agreement(session, a) for a in found])


@service_router.get(
    "/service/data-agreement/{dataAgreementId}/",
    response_model=AgreementWithRevision,
    operation_id="serviceDataAgreementRead",
)
def service_agreement(
    dataAgreementId: str, session: SessionDep, _: OrgDep
) -> AgreementWithRevision:
    return _with_revision(session, dataAgreementId)


@service_router.get(
    "/service/verification/data-agreements/",
    response_model=AgreementList,
    operation_id="serviceVerificationDataAgreementList",
)
def verification_agreements(session: SessionDep, _: OrgDep, page: PageDep) -> AgreementList:
    found = list_agreements(session, offset=page.offset, limit=page.limit)
    return AgreementList(dataAgreements=[public_agreement(session, a) for a in found])


@audit_router.get(
    "/audit/data-agreements/", response_model=AgreementList, operation_id="auditDataAgreementList"
)
def audit_agreements(session: SessionDep, _: OrgDep, page: PageDep) -> AgreementList:
    found = list_agreements(session, offset=page.offset, limit=page.limit, include_deleted=True)
    return AgreementList(dataAgreements=[public_agreement(session, a) for a in found])


@audit_router.get(
    "/audit/data-agreement/{dataAgreementId}/",
    response_model=AgreementOnly,
    operation_id="auditDataAgreementRead",
)
def audit_agreement(dataAgreementId: str, session: SessionDep, _: OrgDep) -> AgreementOnly:
    return AgreementOnly(
        dataAgreement=public_agreement(
            session, get_agreement(session, agreement_id=dataAgreementId, include_deleted=True)
        )
    )
