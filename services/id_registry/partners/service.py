"""Partner registry, the MISP/partner/API-key check of IDA's URL path, and an in-memory cache."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.id_registry.errors import MosipError
from services.id_registry.hashing import hash_secret, presented_hash
from services.id_registry.ida.sealed import PartnerCertificate
from services.id_registry.partners.models import (
    PARTNER_ACTIVE,
    Partner,
    PartnerCertificateRow,
    PartnerCreate,
    PartnerCreated,
    PartnerPublic,
    PartnerUpdate,
    Policy,
)
from services.kernel.invalidation import SharedCache


@dataclass(frozen=True, slots=True)
class ActivePartner:
    """What a request needs to know about its partner, cached between writes."""

    partner_id: str
    name: str
    api_key_hash: str
    policy: Policy
    active: bool
    certificate: PartnerCertificate | None = None


class PartnerCache(SharedCache):
    """Partners change rarely and are read on every IDA call, so they are kept in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._partners: dict[str, ActivePartner] | None = None

    def drop(self) -> None:
        with self._lock:
            self._partners = None

    def loaded(self) -> dict[str, ActivePartner] | None:
        """The cached partners, or None when they must be (re)loaded with `all`."""
        return self._partners

    def all(self, session: Session) -> dict[str, ActivePartner]:
        with self._lock:
            if self._partners is None:
                rows = session.exec(select(Partner)).all()
                certificates = {
                    row.partner_id: PartnerCertificate.from_pem(
                        row.certificate_id, row.certificate_pem
                    )
                    for row in session.exec(select(PartnerCertificateRow)).all()
                }
                self._partners = {
                    row.partner_id: ActivePartner(
                        partner_id=row.partner_id,
                        name=row.name,
                        api_key_hash=row.api_key_hash,
                        policy=Policy.model_validate(row.policy),
                        active=row.status == PARTNER_ACTIVE,
                        certificate=certificates.get(row.partner_id),
                    )
                    for row in rows
                }
            return self._partners


def check_partner(
    *,
    partners: Mapping[str, ActivePartner],
    license_key: str,
    expected_license_key: str,
    partner_id: str,
    api_key: str,
    envelope_id: str,
) -> ActivePartner:
    """IDA's path check, in MOSIP's order: MISP license key, partner, partner status, API key;
    failures answer HTTP 200 with `errors[]`, as MOSIP does."""
    if not hmac.compare_digest(license_key.encode(), expected_license_key.encode()):
        raise MosipError("IDA-MPA-007", status_code=200, envelope_id=envelope_id)
    partner = partners.get(partner_id)
    if partner is None:
        raise MosipError("IDA-MPA-009", status_code=200, envelope_id=envelope_id)
    if not hmac.compare_digest(presented_hash(api_key), partner.api_key_hash):
        raise MosipError(
            "IDA-MPA-009",
            "Partner is not registered with this API key",
            status_code=200,
            envelope_id=envelope_id,
        )
    if not partner.active:
        raise MosipError("IDA-MPA-012", status_code=200, envelope_id=envelope_id)
    return partner


def create_partner(
    *, session: Session, cache: PartnerCache, data: PartnerCreate, now: datetime
) -> PartnerCreated:
    api_key = data.apiKey or secrets.token_urlsafe(24)
    row = Partner(
        partner_id=data.partnerId,
        name=data.name,
        api_key_hash=hash_secret(api_key),
        policy=data.policy.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise MosipError(
            "PMS_PMP_008", f"Partner {data.partnerId!r} already exists", status_code=409
        ) from exc
    cache.invalidate()
    return PartnerCreated(**row.public().model_dump(), apiKey=api_key)


def get_partner(*, session: Session, partner_id: str) -> Partner:
    row = session.get(Partner, partner_id)
    if row is None:
        raise MosipError(
            "PMS_PMP_024", f"Partner {partner_id!r} is not registered", status_code=404
        )
    return row


def list_partners(*, session: Session) -> list[PartnerPublic]:
    rows = session.exec(select(Partner).order_by(Partner.partner_id)).all()
    return [row.public() for row in rows]


def update_partner(
    *, session: Session, cache: PartnerCache, partner_id: str, data: PartnerUpdate, now: datetime
) -> PartnerPublic:
    row = get_partner(session=session, partner_id=partner_id)
    if data.name is not None:
        row.name = data.name
    if data.policy is not None:
        row.policy = data.policy.model_dump(mode="json")
    if data.status is not None:
        row.status = data.status
    row.updated_at = now
    session.add(row)
    session.commit()
    cache.invalidate()
    return row.public()


def rotate_api_key(
    *, session: Session, cache: PartnerCache, partner_id: str, now: datetime
) -> PartnerCreated:
    row = get_partner(session=session, partner_id=partner_id)
    api_key = secrets.token_urlsafe(24)
    row.api_key_hash = hash_secret(api_key)
    row.updated_at = now
    session.add(row)
    session.commit()
    cache.invalidate()
    return PartnerCreated(**row.public().model_dump(), apiKey=api_key)
