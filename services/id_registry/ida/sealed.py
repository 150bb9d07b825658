"""MOSIP IDA's encrypted and signed envelopes, the server's side (contract: "Encrypted and
signed envelopes"). Every failure is its own IDA error code; no failure message carries the
request's content, and nothing here logs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jws

from services.id_registry.errors import MosipError
from services.id_registry.ida.keys import ServerKeys, b64url, thumbprint

TAG_BYTES = 16
IV_LENGTHS = (16, 12)  # MOSIP's reference client uses 16; 12 is GCM's usual nonce
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
ALGORITHM = "RS256"


class _Registry(jws.JWSRegistry):
    """joserfc's limits, raised for MOSIP's headers (a certificate in `x5c`) and for answers of
    any size the service sends."""

    max_header_length = 16_384
    max_payload_length = 4 * 1024 * 1024


REGISTRY = _Registry(algorithms=[ALGORITHM])


@dataclass(frozen=True, slots=True)
class PartnerCertificate:
    """A partner's registered certificate, ready for verifying and encrypting."""

    certificate_id: str
    public_key: rsa.RSAPublicKey
    spki: bytes
    thumbprint: str

    @classmethod
    def from_pem(cls, certificate_id: str, pem: str) -> PartnerCertificate:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
            raise ValueError("an RSA certificate of at least 2048 bits is required")
        spki = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(certificate_id, key, spki, thumbprint(certificate))


def _fail(code: str, message: str | None = None) -> MosipError:
    return MosipError(code, message, status_code=200)


def b64url_decode(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError("not a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def aes_open(key: bytes, blob: bytes) -> bytes:
    """ciphertext ‖ tag ‖ IV, the IV 16 bytes (MOSIP) or 12."""
    cipher = AESGCM(key)
    for iv_bytes in IV_LENGTHS:
        if len(blob) >= iv_bytes + TAG_BYTES:
            try:
                return cipher.decrypt(blob[-iv_bytes:], blob[:-iv_bytes], None)
            except InvalidTag:
                continue
    raise InvalidTag


def aes_seal(key: bytes, plain: bytes) -> bytes:
    iv = os.urandom(IV_LENGTHS[0])
    return AESGCM(key).encrypt(iv, plain, None) + iv


def verify_signature(
    signature: str | None, body: bytes, registered: PartnerCertificate | None
) -> None:
    """The `Signature` header: a detached RS256 JWS (RFC 7515 appendix F) over the body, its
    `x5c` the partner's registered certificate."""
    if not signature:
        raise _fail("IDA-MLC-006", "Missing Input Parameter - signature")
    parts = signature.split(".")
    try:
        if len(parts) != 3 or parts[1]:
            raise ValueError("not a detached compact JWS")
        header = orjson.loads(b64url_decode(parts[0]))
        if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
            raise ValueError("alg must be RS256")
    except (ValueError, orjson.JSONDecodeError):
        raise _fail(
            "IDA-MPA-001", "Digital signature verification failed - malformed JWS"
        ) from None
    chain = header.get("x5c")
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise _fail("IDA-MPA-022")
    spki = _presented_key(chain[0])
    if registered is None:
        raise _fail("IDA-MPA-020")
    if not hmac.compare_digest(spki, registered.spki):
        raise _fail("IDA-MPA-021")
    try:
        registered.public_key.verify(
            b64url_decode(parts[2]),
            f"{parts[0]}.{b64url(body)}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (ValueError, InvalidSignature):
        raise _fail("IDA-MPA-001", "Digital signature verification failed") from None


# A partner presents the same certificate on every call: its key is read once.
_presented: dict[str, bytes] = {}


def _presented_key(x5c: str) -> bytes:
    """The SubjectPublicKeyInfo of the `x5c` certificate, or IDA-MPA-002."""
    spki = _presented.get(x5c)
    if spki is None:
        try:
            presented = x509.load_der_x509_certificate(base64.b64decode(x5c, validate=True))
            spki = presented.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        except (ValueError, binascii.Error):
            raise _fail("IDA-MPA-002") from None
        if len(_presented) >= 1024:
            _presented.clear()
        _presented[x5c] = spki
    return spki


def open_request(data: dict[str, Any], keys: ServerKeys) -> bytes:
    """The plain `request` JSON: thumbprint, session key, AES-GCM, then the HMAC."""
    if data.get("thumbprint") != keys.encryption.thumbprint:
        raise _fail(
            "IDA-MPA-004",
            "MOSIP public key not found for the thumbprint (unknown or expired certificate)",
        )
    try:
        key = keys.encryption.private_key.decrypt(b64url_decode(data["requestSessionKey"]), OAEP)
        if len(key) != 32:
            raise ValueError("the session key must be 256 bits")
    except ValueError:
        raise _fail("IDA-MPA-003", "Unable to decrypt Request - requestSessionKey") from None
    try:
        plain = aes_open(key, b64url_decode(data["request"]))
    except (ValueError, InvalidTag):
        raise _fail("IDA-MPA-003", "Unable to decrypt Request - request") from None
    expected = hashlib.sha256(plain).hexdigest().upper().encode()
    try:
        sent = aes_open(key, b64url_decode(data["requestHMAC"]))
    except (ValueError, InvalidTag):
        raise _fail("IDA-MPA-016") from None
    if not hmac.compare_digest(sent, expected):
        raise _fail("IDA-MPA-016")
    return plain


def seal_for(partner: PartnerCertificate, value: Any) -> tuple[str, str]:
    """`value` as JSON under a fresh AES-256 key, and that key wrapped for the partner."""
    key = AESGCM.generate_key(bit_length=256)
    return (
        b64url(aes_seal(key, orjson.dumps(value))),
        b64url(partner.public_key.encrypt(key, OAEP)),
    )


def response_signature(body: bytes, keys: ServerKeys) -> str:
    """`response-signature`: a detached RS256 JWS over the body by the ID system's SIGN key."""
    header = {"alg": ALGORITHM, "x5c": [keys.signing.x5c]}
    compact = jws.serialize_compact(
        header, body, keys.signing.jwk, algorithms=[ALGORITHM], registry=REGISTRY
    )
    protected, _, signature = compact.split(".")
    return f"{protected}..{signature}"
