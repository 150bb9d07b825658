"""A fictional country's administrative hierarchy and master facility list, deterministically.

Every name and coordinate is drawn from a random generator seeded by the place's own code, so a
facility looks the same in the pilot and the national list, and across runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

COUNTRY_CODE = "XD"
COUNTRY_NAME = "Republic of Zanora"
# The fictional country's bounding box (degrees): regions tile it as a 5 x 2 grid.
_LAT0, _LON0, _LAT_SPAN, _LON_SPAN = -4.0, 29.0, 8.0, 10.0
_REGION_GRID = (2, 5)

_ONSETS = ("b", "d", "g", "k", "l", "m", "n", "r", "s", "t", "v", "z", "ch", "sh", "ny", "mb")
_VOWELS = ("a", "e", "i", "o", "u")
_FACILITY_SUFFIX = {
    "hospital": "District Hospital",
    "health-centre": "Health Centre",
    "dispensary": "Dispensary",
    "clinic": "Clinic",
}


@dataclass(frozen=True, slots=True)
class Size:
    regions: int
    districts_per_region: int
    facilities: int


def size_for(name: str, national_facilities: int = 10_000) -> Size:
    if name == "pilot":
        return Size(regions=1, districts_per_region=2, facilities=6)
    if name == "national":
        return Size(regions=10, districts_per_region=10, facilities=national_facilities)
    if name == "none":
        return Size(regions=0, districts_per_region=0, facilities=0)
    raise ValueError(f"unknown facility list size {name!r}: pilot, national or none")


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)).title()


def _rng(seed: int, code: str) -> random.Random:
    return random.Random(f"{seed}:{code}")


def place(
    code: str, name: str, level: str, type_code: str, parent: str | None, lat: float, lon: float
) -> dict[str, Any]:
    return {
        "id": code,
        "name": name,
        "level": level,
        "type_code": type_code,
        "parent_id": parent,
        "latitude": round(lat, 6),
        "longitude": round(lon, 6),
        "status": "active",
    }


def generate(size: Size, seed: int = 2026) -> list[dict[str, Any]]:
    """Rows for every place, parents before children."""
    if size.regions == 0:
        return []
    rows = [
        place(
            COUNTRY_CODE,
            COUNTRY_NAME,
            "country",
            "country",
            None,
            _LAT0 + _LAT_SPAN / 2,
            _LON0 + _LON_SPAN / 2,
        )
    ]
    districts = size.regions * size.districts_per_region
    per_district = [
        size.facilities // districts + (1 if i < size.facilities % districts else 0)
        for i in range(districts)
    ]
    rows_n, cols_n = _REGION_GRID
    r_lat, r_lon = _LAT_SPAN / rows_n, _LON_SPAN / cols_n
    for r in range(size.regions):
        region = f"{COUNTRY_CODE}-R{r + 1:02d}"
        lat0 = _LAT0 + (r // cols_n % rows_n) * r_lat
        lon0 = _LON0 + (r % cols_n) * r_lon
        rng = _rng(seed, region)
        rows.append(
            place(
                region,
                f"{_word(rng, 3)} Region",
                "region",
                "region",
                COUNTRY_CODE,
                lat0 + r_lat / 2,
                lon0 + r_lon / 2,
            )
        )
        side = max(4, math.ceil(math.sqrt(size.districts_per_region)))
        d_lat, d_lon = r_lat / side, r_lon / side
        for d in range(size.districts_per_region):
            district = f"{region}-D{d + 1:02d}"
            dl0 = lat0 + (d // side) * d_lat
            dn0 = lon0 + (d % side) * d_lon
            rng = _rng(seed, district)
            rows.append(
                place(
                    district,
                    f"{_word(rng, 2)} District",
                    "district",
                    "district",
                    region,
                    dl0 + d_lat / 2,
                    dn0 + d_lon / 2,
                )
            )
            for f in range(per_district[r * size.districts_per_region + d]):
                code = f"{district}-F{f + 1:03d}"
                rng = _rng(seed, code)
                kind = (
                    "hospital" if f == 0 else rng.choice(("health-centre", "dispensary", "clinic"))
                )
                name = f"{_word(rng, rng.randint(2, 3))} {_FACILITY_SUFFIX[kind]}"
                rows.append(
                    place(
                        code,
                        name,
                        "facility",
                        kind,
                        district,
                        dl0 + rng.random() * d_lat,
                        dn0 + rng.random() * d_lon,
                    )
                )
    return rows
