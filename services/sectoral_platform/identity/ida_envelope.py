"""The health platform as a MOSIP IDA relying party: it encrypts `request` for the ID system's
partner-encryption certificate, signs the body (detached JWS `Signature`), checks the ID
system's `response-signature` and decrypts the eKYC identity with its own key."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from services.kernel.partner_keys import PartnerKey

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
IV_BYTES = 16  # MOSIP's reference client
ALGORITHM = "RS256"


class _Registry(jws.JWSRegistry):
    max_header_length = 16_384  # a certificate in `x5c`
    max_payload_length = 4 * 1024 * 1024


REGISTRY = _Registry(algorithms=[ALGORITHM])


class SealError(Exception):
    """The ID system's answer could not be verified or opened."""


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _gcm_seal(key: bytes, plain: bytes) -> str:
    iv = AESGCM.generate_key(bit_length=128)  # 16 random bytes
    return _b64u(AESGCM(key).encrypt(iv, plain, None) + iv)


@dataclass(frozen=True, slots=True)
class IdSystemCertificates:
    encryption: x509.Certificate
    signing: x509.Certificate

    @classmethod
    def from_pem(cls, encryption: str, signing: str) -> IdSystemCertificates:
        return cls(
            x509.load_pem_x509_certificate(encryption.encode()),
            x509.load_pem_x509_certificate(signing.encode()),
        )


def seal(body: dict[str, Any], ida: IdSystemCertificates) -> dict[str, Any]:
    """`request` AES-256-GCM encrypted under a fresh key, that key RSA-OAEP wrapped, the HMAC
    of the plain request and the certificate's thumbprint beside it."""
    plain = orjson.dumps(body["request"])
    key = AESGCM.generate_key(bit_length=256)
    public = ida.encryption.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    return {
        **body,
        "request": _gcm_seal(key, plain),
        "requestSessionKey": _b64u(public.encrypt(key, OAEP)),
        "requestHMAC": _gcm_seal(key, hashlib.sha256(plain).hexdigest().upper().encode()),
        "thumbprint": _b64u(hashlib.sha256(_der(ida.encryption)).digest()),
    }


def sign(raw: bytes, own: PartnerKey) -> str:
    header = {"alg": ALGORITHM, "x5c": [base64.b64encode(_der(own.certificate)).decode()]}
    key = RSAKey.import_key(own.private_key)
    compact = jws.serialize_compact(header, raw, key, algorithms=[ALGORITHM], registry=REGISTRY)
    protected, _, signature = compact.split(".")
    return f"{protected}..{signature}"


def verify_response(signature: str | None, raw: bytes, ida: IdSystemCertificates) -> None:
    if not signature:
        raise SealError("the ID system's answer has no response-signature")
    public = ida.signing.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise SealError("the ID system's signing certificate is not RSA")
    key = RSAKey.import_key(public)
    try:
        jws.deserialize_compact(
            signature, key, algorithms=[ALGORITHM], registry=REGISTRY, payload=raw
        )
    except (JoseError, ValueError) as exc:
        raise SealError("the ID system's response-signature does not verify") from exc


def open_identity(response: dict[str, Any], own: PartnerKey) -> dict[str, Any]:
    """The eKYC identity, encrypted for this partner's certificate."""
    try:
        key = own.private_key.decrypt(_unb64u(response["sessionKey"]), OAEP)
        blob = _unb64u(response["identity"])
        plain = AESGCM(key).decrypt(blob[-IV_BYTES:], blob[:-IV_BYTES], None)
        identity = orjson.loads(plain)
    except (KeyError, TypeError, ValueError, InvalidTag) as exc:
        raise SealError(f"cannot open the eKYC identity: {type(exc).__name__}") from exc
    if not isinstance(identity, dict):
        raise SealError("the eKYC identity is not an object")
    return identity
