"""The provider's RS256 signing key (kept in the service's database) and JWT checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from datetime import datetime
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.id_registry.oidc.errors import invalid_client
from services.id_registry.oidc.models import SigningKey

ALGORITHM = "RS256"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MIN_KEY_BITS = 2048


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6: left half of the SHA-256 of the token, base64url."""
    half = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


class ServerKey:
    """Signs ID tokens, access tokens and userinfo answers; verifies its own access tokens."""

    def __init__(self, key: RSAKey) -> None:
        self.key = key
        self.kid = key.thumbprint()

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self.key, algorithms=[ALGORITHM])

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a JWT this key signed, or None."""
        try:
            claims: dict[str, Any] = jwt.decode(token, self.key, algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError, TypeError):
            return None
        return claims


def load_or_create(session: Session, now: datetime) -> ServerKey:
    """The oldest stored key; on first use one is generated and stored. If two processes race,
    both end up with the row that was stored first."""
    row = session.exec(select(SigningKey).order_by(col(SigningKey.created_at), "kid")).first()
    if row is None:
        key = RSAKey.generate_key(MIN_KEY_BITS, private=True)
        session.add(
            SigningKey(kid=key.thumbprint(), private_jwk=key.as_dict(private=True), created_at=now)
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        return load_or_create(session, now)
    return ServerKey(RSAKey.import_key(row.private_jwk))


class KeyHolder:
    """The key loaded once per process (first request that needs it, or at start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: ServerKey | None = None

    def get(self, session: Session, now: datetime) -> ServerKey:
        with self._lock:
            if self._key is None:
                self._key = load_or_create(session, now)
            return self._key


def client_public_key(jwk: dict[str, Any]) -> RSAKey:
    """A registered client's key: an RSA public JWK of at least 2048 bits, no private part."""
    modulus = jwk.get("n")
    if jwk.get("kty") != "RSA" or "d" in jwk or not isinstance(modulus, str):
        raise ValueError("an RSA public key (JWK, without private parameters) is required")
    try:
        bits = int.from_bytes(base64.urlsafe_b64decode(modulus + "==")).bit_length()
        if bits < MIN_KEY_BITS:
            raise ValueError(f"the key must have at least {MIN_KEY_BITS} bits")
        return RSAKey.import_key({name: value for name, value in jwk.items() if name != "kid"})
    except (JoseError, TypeError, binascii.Error) as exc:
        raise ValueError(f"not a usable RSA public key: {type(exc).__name__}") from None


def unverified_issuer(assertion: str) -> str | None:
    """`iss` of a compact JWS, read before its signature is checked (to find the client)."""
    try:
        payload = json.loads(jws.extract_compact(assertion.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


def verify_assertion(
    assertion: str, *, jwk: dict[str, Any], client_id: str, audience: str, now: datetime
) -> dict[str, Any]:
    """RFC 7523 section 3 as eSignet applies it: RS256 with the client's registered key,
    iss = sub = client_id, aud = the token endpoint, exp in the future, iat and jti present."""
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion, client_public_key(jwk), algorithms=[ALGORITHM]
        ).claims
    except (JoseError, ValueError, TypeError) as exc:
        raise invalid_client("client assertion signature does not verify") from exc
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise invalid_client("client assertion iss and sub must both be the client_id")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise invalid_client(f"client assertion aud must be {audience}")
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise invalid_client("client assertion needs numeric exp and iat")
    if exp <= now.timestamp():
        raise invalid_client("client assertion has expired")
    if iat > now.timestamp() + 30:
        raise invalid_client("client assertion is issued in the future")
    if not isinstance(jti, str) or not 0 < len(jti) <= 256:
        raise invalid_client("client assertion needs a jti (at most 256 characters)")
    return claims
