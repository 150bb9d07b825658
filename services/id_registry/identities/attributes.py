"""How an identity's demographics are compared and shown, shared by the admin API and the IDA
hot path (below both, so neither imports the other for these)."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any, Protocol


class Demographic(Protocol):
    """What `identity_attributes` reads: an `Identity` row or the hot path's `Person`."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def date_of_birth(self) -> date: ...
    @property
    def gender(self) -> str: ...
    @property
    def address(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def language(self) -> str: ...


def normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used for duplicate detection and demo match."""
    if text.isascii():  # nothing to decompose: the same result, several times faster
        return " ".join(text.casefold().replace("-", " ").split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("-", " ").split())


def mosip_date(value: date) -> str:
    return value.strftime("%Y/%m/%d")


def identity_attributes(identity: Demographic) -> dict[str, Any]:
    """Attributes under MOSIP's names; language-bound values as `[{language, value}]`."""

    def lang(value: str) -> list[dict[str, str]]:
        return [{"language": identity.language, "value": value}]

    attributes: dict[str, Any] = {
        "fullName": lang(identity.full_name),
        "givenName": lang(identity.given_name),
        "familyName": lang(identity.family_name),
        "dateOfBirth": mosip_date(identity.date_of_birth),
        "gender": lang(identity.gender.capitalize()),
    }
    if identity.address:
        attributes["address"] = lang(identity.address)
    if identity.phone:
        attributes["phone"] = identity.phone
    if identity.email:
        attributes["email"] = identity.email
    return attributes
