"""The health org unit hierarchy, from the same deterministic generator as the facility registry.

Country -> regions -> districts -> facilities, with the registry's codes (`XD`, `XD-R01`,
`XD-R01-D01`, `XD-R01-D01-F001`) and names; UIDs are derived from the codes, so they are stable.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from services.sectoral_platform.dhis2.uid import ALPHANUMERIC, LETTERS

COUNTRY_CODE = "XD"
COUNTRY_NAME = "Republic of Zanora"
_ONSETS = ("b", "d", "g", "k", "l", "m", "n", "r", "s", "t", "v", "z", "ch", "sh", "ny", "mb")
_VOWELS = ("a", "e", "i", "o", "u")
_SUFFIX = {
    "hospital": "District Hospital",
    "health-centre": "Health Centre",
    "dispensary": "Dispensary",
    "clinic": "Clinic",
}
SIZES = {"pilot": (1, 2, 6), "national": (10, 10, 10_000), "none": (0, 0, 0)}
OPENING_DATE = "1980-01-01T00:00:00.000"


def uid_for(code: str) -> str:
    """A stable DHIS2 UID for a registry code."""
    digest = hashlib.sha256(f"dpi-orgunit:{code}".encode()).digest()
    return LETTERS[digest[0] % len(LETTERS)] + "".join(
        ALPHANUMERIC[b % len(ALPHANUMERIC)] for b in digest[1:11]
    )


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)).title()


def _unit(code: str, name: str, parent: str | None) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "id": uid_for(code),
        "code": code,
        "name": name,
        "shortName": name[:50],
        "openingDate": OPENING_DATE,
    }
    if parent is not None:
        unit["parent"] = {"id": uid_for(parent)}
    return unit


def generate_units(
    size: str = "pilot", seed: int = 2026, national_facilities: int = 10_000
) -> list[dict[str, Any]]:
    """Org units, parents first, named exactly as the registry names the same places."""
    regions, per_region, facilities = SIZES[size]
    if size == "national":
        facilities = national_facilities
    if regions == 0:
        return []
    units = [_unit(COUNTRY_CODE, COUNTRY_NAME, None)]
    districts = regions * per_region
    per_district = [
        facilities // districts + (1 if i < facilities % districts else 0) for i in range(districts)
    ]
    for r in range(regions):
        region = f"{COUNTRY_CODE}-R{r + 1:02d}"
        rng = random.Random(f"{seed}:{region}")
        units.append(_unit(region, f"{_word(rng, 3)} Region", COUNTRY_CODE))
        for d in range(per_region):
            district = f"{region}-D{d + 1:02d}"
            rng = random.Random(f"{seed}:{district}")
            units.append(_unit(district, f"{_word(rng, 2)} District", region))
            for f in range(per_district[r * per_region + d]):
                code = f"{district}-F{f + 1:03d}"
                rng = random.Random(f"{seed}:{code}")
                kind = (
                    "hospital" if f == 0 else rng.choice(("health-centre", "dispensary", "clinic"))
                )
                units.append(
                    _unit(code, f"{_word(rng, rng.randint(2, 3))} {_SUFFIX[kind]}", district)
                )
    return units
