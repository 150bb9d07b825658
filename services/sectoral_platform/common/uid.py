"""DHIS2 UIDs: 11 characters, a letter then ten letters or digits."""

from __future__ import annotations

import re
import secrets
import string

LETTERS = string.ascii_letters
ALPHANUMERIC = string.ascii_letters + string.digits
UID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")


def generate_uid() -> str:
    return secrets.choice(LETTERS) + "".join(secrets.choice(ALPHANUMERIC) for _ in range(10))


def is_valid_uid(value: object) -> bool:
    return isinstance(value, str) and UID_PATTERN.match(value) is not None
