"""The health org unit hierarchy, from the same deterministic generator as the facility registry.

Country -> regions -> districts -> facilities, with the registry's codes (`XD`, `XD-R01`,
`XD-R01-D01`, `XD-R01-D01-F001`) and names; UIDs are derived from the codes, so they are stable.
"""

from __future__ import annotations

import hashlib
import math
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
_LAT0, _LON0, _LAT_SPAN, _LON_SPAN = -4.0, 29.0, 8.0, 10.0
_REGION_GRID = (2, 5)


def uid_for(code: str) -> str:
    """A stable DHIS2 UID for a registry code."""
    digest = hashlib.sha256(f"dpi-orgunit:{code}".encode()).digest()
    return LETTERS[digest[0] % len(LETTERS)] + "".join(
        ALPHANUMERIC[b % len(ALPHANUMERIC)] for b in digest[1:11]
    )


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)).title()


def point(lat: float, lon: float) -> dict[str, Any]:
    """GeoJSON, as DHIS2 serves an org unit's `geometry`: longitude first."""
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def _unit(code: str, name: str, parent: str | None, lat: float, lon: float) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "id": uid_for(code),
        "code": code,
        "name": name,
        "shortName": name[:50],
        "openingDate": OPENING_DATE,
        "geometry": point(lat, lon),
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
    # the registry's coordinate grid: regions on a 2x5 grid, districts on a square grid inside
    units = [_unit(COUNTRY_CODE, COUNTRY_NAME, None, _LAT0 + _LAT_SPAN / 2, _LON0 + _LON_SPAN / 2)]
    rows_n, cols_n = _REGION_GRID
    r_lat, r_lon = _LAT_SPAN / rows_n, _LON_SPAN / cols_n
    side = max(4, math.ceil(math.sqrt(per_region)))
    d_lat, d_lon = r_lat / side, r_lon / side
    districts = regions * per_region
    per_district = [
        facilities // districts + (1 if i < facilities % districts else 0) for i in range(districts)
    ]
    for r in range(regions):
        region = f"{COUNTRY_CODE}-R{r + 1:02d}"
        lat0 = _LAT0 + (r // cols_n % rows_n) * r_lat
        lon0 = _LON0 + (r % cols_n) * r_lon
        rng = random.Random(f"{seed}:{region}")
        name = f"{_word(rng, 3)} Region"
        units.append(_unit(region, name, COUNTRY_CODE, lat0 + r_lat / 2, lon0 + r_lon / 2))
        for d in range(per_region):
            district = f"{region}-D{d + 1:02d}"
            dl0 = lat0 + (d // side) * d_lat
            dn0 = lon0 + (d % side) * d_lon
            rng = random.Random(f"{seed}:{district}")
            name = f"{_word(rng, 2)} District"
            units.append(_unit(district, name, region, dl0 + d_lat / 2, dn0 + d_lon / 2))
            for f in range(per_district[r * per_region + d]):
                code = f"{district}-F{f + 1:03d}"
                rng = random.Random(f"{seed}:{code}")
                kind = (
                    "hospital" if f == 0 else rng.choice(("health-centre", "dispensary", "clinic"))
                )
                name = f"{_word(rng, rng.randint(2, 3))} {_SUFFIX[kind]}"
                lat, lon = dl0 + rng.random() * d_lat, dn0 + rng.random() * d_lon
                units.append(_unit(code, name, district, lat, lon))
    return units
