"""A MOSIP IDA relying-party client written from the contract ("Encrypted and signed envelopes"),
independent of the server's code: `cryptography` primitives only, the detached JWS built by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_identity(name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def gcm_seal(key: bytes, plain: bytes, iv_bytes: int) -> bytes:
    iv = os.urandom(iv_bytes)
    return AESGCM(key).encrypt(iv, plain, None) + iv  # ciphertext ‖ tag ‖ IV


def gcm_open(key: bytes, blob: bytes, iv_bytes: int = 16) -> bytes:
    return AESGCM(key).decrypt(blob[-iv_bytes:], blob[:-iv_bytes], None)


def detached_jws(raw: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate | None) -> str:
    header: dict[str, Any] = {"alg": "RS256"}
    if cert is not None:
        der = cert.public_bytes(serialization.Encoding.DER)
        header["x5c"] = [base64.b64encode(der).decode()]
    protected = b64u(json.dumps(header).encode())
    signature = key.sign(f"{protected}.{b64u(raw)}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{protected}..{b64u(signature)}"


def verify_detached(jws: str, raw: bytes, cert: x509.Certificate) -> None:
    protected, payload, signature = jws.split(".")
    assert payload == ""
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(
        unb64u(signature), f"{protected}.{b64u(raw)}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


@dataclass
class RelyingParty:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate
    ida_cert: x509.Certificate  # the ID system's partner-encryption certificate

    def seal(self, body: dict[str, Any], *, iv_bytes: int = 16) -> dict[str, Any]:
        """The envelope with `request` encrypted, as a MOSIP client sends it."""
        plain = json.dumps(body["request"]).encode()
        session = AESGCM.generate_key(bit_length=256)
        public = self.ida_cert.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        digest = hashlib.sha256(plain).hexdigest().upper().encode()
        der = self.ida_cert.public_bytes(serialization.Encoding.DER)
        return {
            **body,
            "specVersion": "1.0",
            "domainUri": "https://id.sandbox.example",
            "env": "Developer",
            "requestedAuth": {"demo": True, "otp": False, "bio": False},
            "request": b64u(gcm_seal(session, plain, iv_bytes)),
            "requestSessionKey": b64u(public.encrypt(session, OAEP)),
            "requestHMAC": b64u(gcm_seal(session, digest, iv_bytes)),
            "thumbprint": b64u(hashlib.sha256(der).digest()),
        }

    def post_args(
        self, body: dict[str, Any], signer: rsa.RSAPrivateKey | None = None, **kw: Any
    ) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        cert = kw.pop("x5c", self.cert)
        signature = detached_jws(raw, signer or self.key, cert)
        return {
            "content": raw,
            "headers": {"content-type": "application/json", "Signature": signature},
        }

    def open_identity(self, response: dict[str, Any]) -> Any:
        session = self.key.decrypt(unb64u(response["sessionKey"]), OAEP)
        return json.loads(gcm_open(session, unb64u(response["identity"])))
