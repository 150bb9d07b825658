"""The service's signing key (ES256), published as a JWKS; kept in the database (`keystore`)."""

from __future__ import annotations

from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.util import urlsafe_b64encode

ALGORITHM = "ES256"
KEY_FILE = "consent-signing-key.json"  # where runs before the keystore kept it (data dir)


class Signer:
    """Signs receipts and artefacts; verifies what it (or an earlier run on this key) signed."""

    def __init__(self, key: ECKey) -> None:
        self.key = key
        self.kid = key.thumbprint()

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def sign(self, payload: bytes, *, typ: str = "JWT") -> str:
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        return jws.serialize_compact(header, payload, self.key, algorithms=[ALGORITHM])

    def sign_detached(self, payload: bytes) -> str:
        """RFC 7515 appendix F: the compact JWS with its payload part left empty."""
        header_b64, _, signature_b64 = self.sign(payload, typ="JOSE").split(".")
        return f"{header_b64}..{signature_b64}"

    def verify(self, token: str) -> bytes:
        """The payload of a compact JWS signed with this key; raises ValueError otherwise."""
        try:
            return bytes(jws.deserialize_compact(token, self.key, algorithms=[ALGORITHM]).payload)
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError(f"signature does not verify: {type(exc).__name__}") from exc

    def verify_detached(self, detached: str, payload: bytes) -> bool:
        header_b64, _, signature_b64 = detached.partition("..")
        token = f"{header_b64}.{urlsafe_b64encode(payload).decode()}.{signature_b64}"
        try:
            self.verify(token)
        except ValueError:
            return False
        return True
