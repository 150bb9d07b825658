"""Data agreement CRUD with hash-chained revisions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.consent.agreements.models import (
    DataAgreement,
    DataAgreementCreate,
    DataAgreementLifecycle,
    DataAgreementPublic,
)
from services.consent.ids import check_id, new_id
from services.consent.policies.models import Policy
from services.consent.policies.service import get_policy
from services.consent.revisions.models import Revision
from services.consent.revisions.service import create_revision, get_revision, latest_revision
from services.kernel.errors import BadRequest, NotFound
from services.kernel.time import utcnow

SCHEMA = "dataagreement"
ORG = "organisation"
COMPLETE = DataAgreementLifecycle(id="complete", name="Complete")


def to_public(agreement: DataAgreement, policy: Policy | None) -> DataAgreementPublic:
    return DataAgreementPublic.model_validate(
        {
            "id": agreement.id,
            "version": agreement.version,
            "controller": agreement.controller,
            "policy": policy.public() if policy else None,
            "purpose": agreement.purpose,
            "lawfulBasis": agreement.lawful_basis,
            "dataUse": agreement.data_use,
            "dpia": agreement.dpia,
            "active": agreement.active,
            "forgettable": agreement.forgettable,
            "lifecycle": agreement.lifecycle,
            "purposeCode": agreement.purpose_code,
            "dataConsumer": agreement.data_consumer,
            "dataProvider": agreement.data_provider,
            "dataAttributes": agreement.data_attributes,
            "consentArtefactTemplate": agreement.artefact_template,
            "dataCategories": agreement.categories,
        }
    )


def public_agreement(session: Session, agreement: DataAgreement) -> DataAgreementPublic:
    return to_public(agreement, session.get(Policy, agreement.policy_id))


def get_agreement(
    session: Session, *, agreement_id: str, include_deleted: bool = False
) -> DataAgreement:
    agreement = session.get(DataAgreement, check_id(agreement_id, "dataAgreementId"))
    if agreement is None or (agreement.deleted and not include_deleted):
        raise NotFound(f"No data agreement {agreement_id}.", code="data-agreement-not-found")
    return agreement


def _policy_id(data: DataAgreementCreate) -> str:
    if isinstance(data.policy, str):
        return data.policy
    policy_id = data.policy.get("id")
    if not isinstance(policy_id, str):
        raise BadRequest("dataAgreement.policy must name an existing policy by id.")
    return policy_id


def _apply(session: Session, agreement: DataAgreement, data: DataAgreementCreate) -> None:
    policy = get_policy(session, policy_id=_policy_id(data))
    attributes: list[dict[str, Any]] = []
    for attribute in data.dataAttributes:
        attributes.append({**attribute.model_dump(), "id": attribute.id or new_id()})
    agreement.version = data.version
    agreement.controller = data.controller.model_dump() if data.controller else None
    agreement.policy_id = policy.id
    agreement.purpose = data.purpose
    agreement.lawful_basis = data.lawfulBasis
    agreement.data_use = data.dataUse
    agreement.dpia = data.dpia
    agreement.active = data.active
    agreement.forgettable = data.forgettable
    agreement.lifecycle = (data.lifecycle or COMPLETE).model_dump()
    agreement.purpose_code = data.purposeCode
    agreement.data_consumer = data.dataConsumer
    agreement.data_provider = data.dataProvider
    agreement.data_attributes = attributes
    agreement.artefact_template = data.consentArtefactTemplate.model_dump()


def _revise(session: Session, agreement: DataAgreement, **extra: Any) -> Revision:
    data = public_agreement(session, agreement).model_dump()
    return create_revision(
        session,
        schema_name=SCHEMA,
        object_id=agreement.id,
        object_data={**data, **extra},
        authorized_by_other=ORG,
    )


def create_agreement(
    session: Session, *, data: DataAgreementCreate, agreement_id: str | None = None
) -> tuple[DataAgreement, Revision]:
    agreement = DataAgreement(
        id=agreement_id or new_id(),
        created_at=utcnow(),
        version="",
        policy_id="",
        purpose="",
        lawful_basis="",
        dpia="",
        purpose_code="",
        data_consumer="",
        data_provider="",
        data_attributes=[],
        artefact_template={},
    )
    _apply(session, agreement, data)
    session.add(agreement)
    session.flush()
    revision = _revise(session, agreement)
    session.commit()
    return agreement, revision


def update_agreement(
    session: Session, *, agreement_id: str, data: DataAgreementCreate
) -> tuple[DataAgreement, Revision]:
    """A new revision; existing consent records keep pointing at the revision they consented to."""
    agreement = get_agreement(session, agreement_id=agreement_id)
    if data.id is not None and data.id != agreement.id:
        raise BadRequest("dataAgreement.id does not match the path.", code="id-mismatch")
    _apply(session, agreement, data)
    session.add(agreement)
    revision = _revise(session, agreement)
    session.commit()
    return agreement, revision


def delete_agreement(session: Session, *, agreement_id: str) -> Revision:
    agreement = get_agreement(session, agreement_id=agreement_id)
    agreement.deleted = True
    agreement.active = False
    session.add(agreement)
    revision = _revise(session, agreement, deleted=True)
    session.commit()
    return revision


def agreement_revision(
    session: Session, *, agreement: DataAgreement, revision_id: str | None = None
) -> Revision:
    if revision_id is not None:
        revision = get_revision(session, revision_id=check_id(revision_id, "revisionId"))
        if revision.object_id != agreement.id:
            raise BadRequest(
                f"Revision {revision_id} is not a revision of data agreement {agreement.id}.",
                code="revision-mismatch",
            )
        return revision
    latest = latest_revision(session, object_id=agreement.id)
    if latest is None:  # pragma: no cover - created with a revision
        raise NotFound(f"Data agreement {agreement.id} has no revision.")
    return latest


def list_agreements(
    session: Session, *, offset: int, limit: int, include_deleted: bool = False
) -> list[DataAgreement]:
    statement = select(DataAgreement)
    if not include_deleted:
        statement = statement.where(col(DataAgreement.deleted).is_(False))
    statement = (
        statement.order_by(col(DataAgreement.created_at), col(DataAgreement.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))
