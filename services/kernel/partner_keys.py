"""Published sandbox keys of the scenario partners, for MOSIP IDA's signed, encrypted envelopes.

Each `sandbox_partner_keys/<partner id>.pem` holds an RSA-2048 private key and its self-signed
certificate. They are in the repository on purpose, like the sandbox's fixed API keys: the ID
system registers the certificates of its seeded partners, and each sector signs and decrypts
with the key so that scenarios run real envelopes. Never register them anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_DIRECTORY = Path(__file__).with_name("sandbox_partner_keys")


@dataclass(frozen=True, slots=True)
class PartnerKey:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


@cache
def sandbox_partner_key(partner_id: str) -> PartnerKey | None:
    """The published key of a seeded partner, or None for any other partner."""
    path = _DIRECTORY / f"{partner_id}.pem"
    if not partner_id.replace("-", "").isalnum() or not path.is_file():
        return None
    pem = path.read_bytes()
    # The key ships with this code (trusted): OpenSSL's consistency check of an RSA private key
    # costs 50 ms of CPU at every start of a service that loads one, and is skipped.
    key = serialization.load_pem_private_key(
        pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(key, rsa.RSAPrivateKey)
    return PartnerKey(key, x509.load_pem_x509_certificate(pem))


@cache
def sandbox_partner_certificate_pem(partner_id: str) -> str | None:
    """The published certificate of a seeded partner (its private key is not read), or None."""
    path = _DIRECTORY / f"{partner_id}.pem"
    if not partner_id.replace("-", "").isalnum() or not path.is_file():
        return None
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return certificate.public_bytes(serialization.Encoding.PEM).decode()
