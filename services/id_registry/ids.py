"""UINs and VIDs by MOSIP's rules: Verhoeff check digit and the id generator's filters."""

from __future__ import annotations

import random
import re

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)

UIN_LENGTH = 10
VID_LENGTH = 16
SEQUENCE_LIMIT = 3  # "123" or "987" anywhere is refused
_REPEATING = re.compile(r"(\d)\d?\1")  # "11" or "1x1"
_REPEATING_BLOCK = re.compile(r"(\d{2,}).*?\1")  # "48..48"
_ASC = "0123456789"
_DESC = "9876543210"


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff digit to append to `digits`."""
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[(i + 1) % 8][int(ch)]]
    return str(_INV[c])


def verhoeff_valid(number: str) -> bool:
    """True when the last digit of `number` is its Verhoeff check digit."""
    if not number.isascii() or not number.isdigit():
        return False
    c = 0
    for i, ch in enumerate(reversed(number)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def passes_filters(number: str) -> bool:
    """MOSIP's generator filters: no 0/1 first digit, no sequences, repeats or repeated blocks."""
    if not number or number[0] in "01":
        return False
    for i in range(len(number) - SEQUENCE_LIMIT + 1):
        chunk = number[i : i + SEQUENCE_LIMIT]
        if chunk in _ASC or chunk in _DESC:
            return False
    return not (_REPEATING.search(number) or _REPEATING_BLOCK.search(number))


def _valid(number: str, length: int) -> bool:
    return (
        len(number) == length
        and number.isascii()
        and number.isdigit()
        and verhoeff_valid(number)
        and passes_filters(number)
    )


def is_valid_uin(value: str) -> bool:
    """A well-formed UIN (checked before any lookup)."""
    return _valid(value, UIN_LENGTH)


def is_valid_vid(value: str) -> bool:
    """A well-formed VID."""
    return _valid(value, VID_LENGTH)


def _generate(rng: random.Random, length: int) -> str:
    while True:
        body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(length - 2))
        candidate = body + verhoeff_check_digit(body)
        if passes_filters(candidate):
            return candidate


def generate_uin(rng: random.Random) -> str:
    return _generate(rng, UIN_LENGTH)


_BODIES = 8 * 10**8  # 9-digit bodies starting 2-9
_BELOW = (2**32 // _BODIES) * _BODIES  # 32-bit draws under this map uniformly onto the bodies


def generate_uins(rng: random.Random, count: int) -> list[str]:
    """`count` UINs drawn as `generate_uin` draws them (uniform over the bodies that pass the
    filters), from one `randbytes` a round: nine `randint`s a candidate, about ten candidates a
    UIN, made `SystemRandom`'s system calls most of a batch enrolment's time."""
    found: list[str] = []
    while len(found) < count:
        wanted = count - len(found)
        raw = rng.randbytes(4 * 12 * wanted)  # about one in ten bodies passes the filters
        for start in range(0, len(raw), 4):
            value = int.from_bytes(raw[start : start + 4], "big")
            if value >= _BELOW:
                continue
            body = str(2 * 10**8 + value % _BODIES)
            if not passes_filters(body):  # a body failing them fails them with any last digit
                continue
            candidate = body + verhoeff_check_digit(body)
            if passes_filters(candidate):
                found.append(candidate)
                if len(found) == count:
                    break
    return found


def generate_vid(rng: random.Random) -> str:
    return _generate(rng, VID_LENGTH)
