"""Validation of a value against its data element's value type and option set."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

_INT = re.compile(r"^[-+]?\d+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[+0-9][0-9 ()\-]{2,24}$")
NUMERIC = {
    "NUMBER",
    "INTEGER",
    "INTEGER_POSITIVE",
    "INTEGER_NEGATIVE",
    "INTEGER_ZERO_OR_POSITIVE",
    "PERCENTAGE",
    "UNIT_INTERVAL",
}


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def check_value(value: str, value_type: str) -> str | None:
    """None if `value` fits `value_type`, else the reason (DHIS2's wording where it has one)."""
    if value_type == "NUMBER":
        return None if _number(value) is not None else "value_not_numeric"
    if value_type.startswith("INTEGER"):
        if not _INT.match(value):
            return "value_not_integer"
        number = int(value)
        if value_type == "INTEGER_POSITIVE" and number <= 0:
            return "value_not_positive_integer"
        if value_type == "INTEGER_NEGATIVE" and number >= 0:
            return "value_not_negative_integer"
        if value_type == "INTEGER_ZERO_OR_POSITIVE" and number < 0:
            return "value_not_zero_or_positive_integer"
        return None
    if value_type == "PERCENTAGE":
        n = _number(value)
        return None if n is not None and 0 <= n <= 100 else "value_not_percentage"
    if value_type == "UNIT_INTERVAL":
        n = _number(value)
        return None if n is not None and 0 <= n <= 1 else "value_not_unit_interval"
    if value_type == "BOOLEAN":
        return None if value.lower() in ("true", "false") else "value_not_bool"
    if value_type == "TRUE_ONLY":
        return None if value.lower() == "true" else "value_not_true_only"
    if value_type == "DATE":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "value_not_valid_date"
        return None
    if value_type == "DATETIME":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "value_not_valid_datetime"
        return None
    if value_type == "LETTER":
        return None if len(value) == 1 and value.isalpha() else "value_not_valid_letter"
    if value_type == "EMAIL":
        return None if _EMAIL.match(value) else "value_not_valid_email"
    if value_type == "PHONE_NUMBER":
        return None if _PHONE.match(value) else "value_not_valid_phone_number"
    if value_type == "TEXT" and len(value) > 50000:
        return "value_length_greater_than_max_length"
    return None


def normalise(value: str, value_type: str) -> str:
    if value_type in ("BOOLEAN", "TRUE_ONLY"):
        return value.lower()
    return value


def numeric(value: str, value_type: str) -> float | None:
    """The number analytics aggregates (booleans count as 1/0, as DHIS2 does)."""
    if value_type in NUMERIC:
        return _number(value)
    if value_type in ("BOOLEAN", "TRUE_ONLY"):
        return 1.0 if value.lower() == "true" else 0.0
    return None
