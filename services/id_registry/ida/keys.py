"""The ID system's own IDA keys: partner encryption (`PARTNER`) and response signing (`SIGN`).

RSA-2048 keys with self-signed certificates, generated on first use and kept in the service's
database (table `ida_key`) so that every process on it and every restart use the same ones.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey
from sqlalchemy import Text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session

from services.id_registry.base import Base

PARTNER, SIGN = "PARTNER", "SIGN"
VALIDITY = timedelta(days=3 * 365)


class IdaKey(Base, table=True):
    __tablename__ = "ida_key"

    reference_id: str = Field(primary_key=True, max_length=16)
    private_pem: str = Field(sa_type=Text)
    certificate_pem: str = Field(sa_type=Text)
    created_at: datetime


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(certificate: x509.Certificate) -> str:
    """MOSIP's `thumbprint`: base64url of the SHA-256 of the certificate (DER)."""
    return b64url(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    certificate_pem: str
    thumbprint: str
    jwk: RSAKey
    x5c: str


def _pair(private_pem: str, certificate_pem: str) -> KeyPair:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    return KeyPair(
        key,
        certificate,
        certificate_pem,
        thumbprint(certificate),
        RSAKey.import_key(private_pem),
        base64.b64encode(der).decode(),
    )


def _name(reference_id: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"IDA {reference_id}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DPI Sandbox ID system"),
        ]
    )


def _generate(reference_id: str, now: datetime) -> IdaKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(reference_id))
        .issuer_name(_name(reference_id))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return IdaKey(
        reference_id=reference_id,
        private_pem=private_pem.decode(),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=now,
    )


def _load_or_create(session: Session, reference_id: str, now: datetime) -> KeyPair:
    """The stored key; generated on first use. Of two racing processes the first insert wins."""
    row = session.get(IdaKey, reference_id)
    if row is None:
        session.add(_generate(reference_id, now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        row = session.get(IdaKey, reference_id)
        assert row is not None
    return _pair(row.private_pem, row.certificate_pem)


@dataclass(frozen=True, slots=True)
class ServerKeys:
    encryption: KeyPair
    signing: KeyPair

    def by_reference(self, reference_id: str) -> KeyPair | None:
        return {PARTNER: self.encryption, SIGN: self.signing}.get(reference_id)

    def countersign(self, certificate: x509.Certificate, now: datetime) -> str:
        """MOSIP's `signedCertificateData`: the partner's key and subject, issued by the ID
        system's signing certificate."""
        signed = (
            x509.CertificateBuilder()
            .subject_name(certificate.subject)
            .issuer_name(self.signing.certificate.subject)
            .public_key(certificate.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(min(certificate.not_valid_after_utc, now + VALIDITY))
            .sign(self.signing.private_key, hashes.SHA256())
        )
        return signed.public_bytes(serialization.Encoding.PEM).decode()


class ServerKeyHolder:
    """Loaded once per process, by the first request that needs the keys."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: ServerKeys | None = None

    def loaded(self) -> ServerKeys | None:
        return self._keys

    def get(self, session: Session, now: datetime) -> ServerKeys:
        with self._lock:
            if self._keys is None:
                self._keys = ServerKeys(
                    _load_or_create(session, PARTNER, now), _load_or_create(session, SIGN, now)
                )
            return self._keys
