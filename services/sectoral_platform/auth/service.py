"""Who is calling: Basic auth against metadata users, or a personal access token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
import time
import zlib
from dataclasses import dataclass, field

from sqlmodel import Session, select

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.auth.models import ApiToken
from services.sectoral_platform.auth.passwords import verify_password
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.metadata.store import MetadataStore

SUPERUSER_AUTHORITY = "ALL"


@dataclass
class CurrentUser:
    uid: str
    username: str
    authorities: set[str] = field(default_factory=set)
    capture: list[str] = field(default_factory=list)
    view: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)

    def has(self, authority: str) -> bool:
        return SUPERUSER_AUTHORITY in self.authorities or authority in self.authorities

    def require(self, authority: str) -> None:
        if not self.has(authority):
            raise Dhis2Error(
                f"You don't have the proper permissions to perform this action ({authority}).",
                status_code=403,
                error_code="E3000",
            )


def unauthorized(message: str = "Unauthorized") -> Dhis2Error:
    return Dhis2Error(message, status_code=401)


def load_user(store: MetadataStore, uid: str) -> CurrentUser:
    """A user with the authorities of its roles and its three org unit scopes."""
    return _user(store, uid)


def _user(store: MetadataStore, uid: str) -> CurrentUser:
    data = store.get("users", uid)
    if data is None or data.get("disabled"):
        raise unauthorized("Account disabled or removed")
    authorities: set[str] = set()
    for ref in data.get("userRoles") or []:
        role = store.get("userRoles", ref.get("id", "")) or {}
        authorities.update(role.get("authorities") or [])
    capture = [r["id"] for r in data.get("organisationUnits") or [] if r.get("id")]
    view = [r["id"] for r in data.get("dataViewOrganisationUnits") or [] if r.get("id")]
    search = [r["id"] for r in data.get("teiSearchOrganisationUnits") or [] if r.get("id")]
    return CurrentUser(uid, data.get("username", ""), authorities, capture, view or capture, search)


class Authenticator:
    """Verifies credentials; remembers verified Basic headers so PBKDF2 runs once per password."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self._verified: dict[str, tuple[str, str]] = {}

    def basic(self, header_value: str) -> CurrentUser:
        digest = hashlib.sha256(header_value.encode()).hexdigest()
        cached = self._verified.get(digest)
        if cached is not None:
            uid, stored_hash = cached
            data = self.store.get("users", uid)
            if data is not None and data.get("passwordHash") == stored_hash:
                return _user(self.store, uid)
        try:
            decoded = base64.b64decode(header_value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise unauthorized("Malformed Basic credentials") from exc
        username, _, password = decoded.partition(":")
        data = self.store.user_by_username(username)
        if data is None or not verify_password(password, data.get("passwordHash")):
            raise unauthorized()
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[digest] = (data["id"], data["passwordHash"])
        return _user(self.store, data["id"])

    def token(self, session: Session, key: str) -> CurrentUser:
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        row = session.exec(select(ApiToken).where(ApiToken.key_hash == key_hash)).first()
        if row is None:
            raise unauthorized("Invalid or unknown API token")
        if row.expire is not None and row.expire < time.time() * 1000:
            raise unauthorized("API token has expired")
        return _user(self.store, row.owner)


def new_token_key() -> str:
    """`d2pat_` + 32 random characters + a 10-digit CRC32 checksum, DHIS2's PAT layout."""
    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return f"d2pat_{body}{zlib.crc32(body.encode()):010d}"


def create_token(session: Session, *, owner: str, expire: int | None) -> tuple[ApiToken, str]:
    key = new_token_key()
    row = ApiToken(
        uid=generate_uid(),
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        owner=owner,
        expire=expire,
        created=dhis2_timestamp(),
    )
    session.add(row)
    session.commit()
    return row, key


def tokens_of(*, session: Session, owner: str) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.owner == owner)).all())


def revoke_token(*, session: Session, owner: str, uid: str) -> bool:
    """Delete one of `owner`'s tokens; False when there is no such token of theirs."""
    row = session.get(ApiToken, uid)
    if row is None or row.owner != owner:
        return False
    session.delete(row)
    session.commit()
    return True
