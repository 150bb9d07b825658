"""Export a consent record as a FHIR R4 Consent resource."""

from __future__ import annotations

from typing import Any

from services.consent.records.models import ConsentRecord
from services.consent.records.wire import status_at
from services.kernel.time import iso_millis_z

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
MEMBER_SYSTEM = "urn:dpi:x-road-member"
TOKEN_SYSTEM = "urn:dpi:psut:dpa-consent"
PURPOSE_SYSTEM = "urn:dpi:purpose"
CATEGORY_SYSTEM = "urn:dpi:data-category"
RECORD_SYSTEM = "urn:dpi:consent:consent-record"

# DEPA status -> FHIR Consent.status
_STATUS = {
    "ACTIVE": "active",
    "PAUSED": "inactive",
    "REVOKED": "inactive",
    "EXPIRED": "inactive",
    "PENDING": "proposed",
}


def _member(member_id: str) -> dict[str, Any]:
    return {"identifier": {"system": MEMBER_SYSTEM, "value": member_id}, "display": member_id}


def to_fhir(record: ConsentRecord, *, policy_url: str, controller: str) -> dict[str, Any]:
    status = status_at(record)
    return {
        "resourceType": "Consent",
        "id": record.id,
        "meta": {"lastUpdated": iso_millis_z(record.updated_at)},
        "identifier": [{"system": RECORD_SYSTEM, "value": record.id}],
        "status": _STATUS[status],
        "scope": {
            "coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy"}]
        },
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Consent"}]}
        ],
        "patient": {
            "identifier": {"system": TOKEN_SYSTEM, "value": record.subject},
            "display": "Individual (consent service token)",
        },
        "dateTime": iso_millis_z(record.created_at),
        "performer": [{"identifier": {"system": TOKEN_SYSTEM, "value": record.subject}}],
        "organization": [{"display": controller}],
        "policy": [{"uri": policy_url}],
        "provision": {
            "type": "permit" if record.opt_in else "deny",
            "period": {
                "start": iso_millis_z(record.consent_start),
                "end": iso_millis_z(record.consent_expiry),
            },
            "actor": [
                {
                    "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},
                    "reference": _member(record.data_consumer),
                },
                {
                    "role": {"coding": [{"system": PARTICIPATION, "code": "CST"}]},
                    "reference": _member(record.data_provider),
                },
            ],
            "action": [{"coding": [{"system": CONSENT_ACTION, "code": "access"}]}],
            "purpose": [
                {
                    "system": PURPOSE_SYSTEM,
                    "code": record.purpose_code,
                    "display": record.purpose_text,
                }
            ],
            "code": [
                {"coding": [{"system": CATEGORY_SYSTEM, "code": category}]}
                for category in record.data_categories
            ],
        },
    }
