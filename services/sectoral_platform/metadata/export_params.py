"""Which types `GET /api/metadata` exports, read as DHIS2's `getParamsFromMap` reads them.

A type is selected by `{plural}=true` or by any of `{plural}:fields|filter|order`; with none
selected, every type is exported except those turned off (`{plural}=false`). A selector of a
type the sandbox does not serve is refused, naming it: DHIS2 would export that type. A key
without such a suffix that names no served type is ignored, as DHIS2 ignores unknown keys.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams

from services.sectoral_platform.dhis2.endpoints import refuse
from services.sectoral_platform.dhis2.web import parse_bool
from services.sectoral_platform.metadata.schema import SCHEMAS

_SUFFIXES = ("fields", "filter", "order")


def exported_types(params: QueryParams) -> set[str]:
    selected: set[str] = set()
    for key in params:
        plural, colon, suffix = key.partition(":")
        if not colon or suffix.lower() not in _SUFFIXES:
            continue
        if plural not in SCHEMAS:
            refuse(key)
        selected.add(plural)
    selected.update(p for p in SCHEMAS if parse_bool(params.get(p)))
    if selected:
        return selected
    return {p for p in SCHEMAS if parse_bool(params.get(p), True)}
