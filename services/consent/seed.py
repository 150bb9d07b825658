"""Sandbox seed data: the policy and the data agreements the scenarios need (idempotent)."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from services.consent.agreements.models import DataAgreement, DataAgreementCreate
from services.consent.agreements.service import create_agreement
from services.consent.policies.models import Policy, PolicyCreate
from services.consent.policies.service import create_policy
from services.consent.settings import ConsentSettings
from services.kernel.topology import load_topology

_NAMESPACE = uuid.UUID("6f1c2a52-8d0e-4c47-9a55-3f0f8f6c2d11")


def seed_id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


POLICY_ID = seed_id("policy:data-sharing")
SCHOOL_ENROLMENT_ID = seed_id("data-agreement:school-enrolment")
CASH_TRANSFER_ID = seed_id("data-agreement:cash-transfer")


def _member(member: str, subsystem: str) -> str:
    topology = load_topology()
    return f"{topology.instance}/{topology.member_class}/{member}/{subsystem}"


def seed_agreements(settings: ConsentSettings) -> list[DataAgreementCreate]:
    controller = {"id": "dpa", "name": settings.controller_name, "url": settings.controller_url}
    health = load_topology().member_id("sectoral_platform") or _member("MOH", "hmis")
    common = {"version": "1.0.0", "lawfulBasis": "consent", "forgettable": True, "active": True}
    return [
        DataAgreementCreate.model_validate(
            {
                **common,
                "id": SCHOOL_ENROLMENT_ID,
                "policy": POLICY_ID,
                "controller": controller,
                "purpose": "Immunisation status for school enrolment",
                "purposeCode": "school-enrolment",
                "dataUse": "data_using_service",
                "dpia": "Sandbox DPIA: immunisation status only, no clinical detail.",
                "dataConsumer": _member("MOE", "emis"),
                "dataProvider": health,
                "dataAttributes": [
                    {
                        "name": "Immunisation status",
                        "sensitivity": "health",
                        "category": "immunisation-status",
                    }
                ],
                "consentArtefactTemplate": {
                    "consentMode": "QUERY",
                    "fetchType": "PERIODIC",
                    "Frequency": {"unit": "MONTH", "value": 1},
                    "DataLife": {"unit": "DAY", "value": 0},
                    "validityDays": 365,
                },
            }
        ),
        DataAgreementCreate.model_validate(
            {
                **common,
                "id": CASH_TRANSFER_ID,
                "policy": POLICY_ID,
                "controller": controller,
                "purpose": "Pregnancy status for a cash-transfer programme",
                "purposeCode": "cash-transfer",
                "dataUse": "data_using_service",
                "dpia": "Sandbox DPIA: pregnancy status (yes/no, expected date) only.",
                "dataConsumer": _member("MSP", "spmis"),
                "dataProvider": health,
                "dataAttributes": [
                    {
                        "name": "Pregnancy status",
                        "sensitivity": "health",
                        "category": "pregnancy-status",
                    }
                ],
                "consentArtefactTemplate": {
                    "consentMode": "QUERY",
                    "fetchType": "PERIODIC",
                    "Frequency": {"unit": "MONTH", "value": 1},
                    "DataLife": {"unit": "DAY", "value": 30},
                    "validityDays": 270,
                },
            }
        ),
    ]


def seed(session: Session, settings: ConsentSettings) -> None:
    if session.get(Policy, POLICY_ID) is None:
        create_policy(
            session,
            policy_id=POLICY_ID,
            data=PolicyCreate(
                name="DPI Sandbox cross-sector data sharing policy",
                version="1.0",
                url=settings.policy_url,
                jurisdiction=settings.jurisdiction,
                industrySector="public-sector",
                dataRetentionPeriodDays=365,
                geographicRestriction="national",
                storageLocation="national",
            ),
        )
    for agreement in seed_agreements(settings):
        assert agreement.id is not None
        if session.get(DataAgreement, agreement.id) is None:
            create_agreement(session, data=agreement, agreement_id=agreement.id)
