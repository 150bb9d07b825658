"""A data value set's own import options, and how they combine with the request's parameters.

DHIS2's `DataValueSet` (2.40-2.42) carries options besides its attributes: `idScheme`,
`dataElementIdScheme`, `orgUnitIdScheme`, `categoryOptionComboIdScheme`, `dataSetIdScheme`,
`dryRun` and `strategy` (in DXF2 XML the attribute is `importStrategy`, and only `dryRun="true"`
counts). `DefaultDataValueSetService` lets each one given in the payload win over the request:
`dryRun` and `strategy` over the query's, and a scheme of the payload (its specific scheme, else
its `idScheme`) over every scheme of the query. A data value set's attribute option combo is
looked up with the category option combo scheme, so the payload's `categoryOptionComboIdScheme`
names both. `attributeCategoryOptions` (the attribute option combo given by its options) is
refused, naming it. Other keys are ignored, as DHIS2's JSON mapper ignores unknown properties
(a JSON `importStrategy` among them: DHIS2 reads `strategy` there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast, get_args

from services.sectoral_platform.aggregate.idschemes import PROPERTIES, IdSchemes, parse_scheme
from services.sectoral_platform.aggregate.summary import ALIASES, ImportOptions, Strategy
from services.sectoral_platform.errors import conflict, not_implemented
from services.sectoral_platform.metadata.store import MetadataStore

SCHEMES = (
    "idScheme",
    "dataElementIdScheme",
    "orgUnitIdScheme",
    "categoryOptionComboIdScheme",
    "dataSetIdScheme",
)
# the payload's scheme for each wire property (no `attributeOptionComboIdScheme` in the payload)
_BODY_SCHEME = {
    "dataElement": "dataElementIdScheme",
    "orgUnit": "orgUnitIdScheme",
    "categoryOptionCombo": "categoryOptionComboIdScheme",
    "attributeOptionCombo": "categoryOptionComboIdScheme",
    "dataSet": "dataSetIdScheme",
}
OPTIONS = (*SCHEMES, "dryRun", "strategy")
REFUSED = ("attributeCategoryOptions",)
# what a payload's option may no longer change once values were imported under it
APPLIED = (*OPTIONS, *REFUSED)
# DHIS2's ImportStrategy constants; the payload's is read by exact name (`valueOf`)
_CONSTANTS = (*get_args(Strategy), *ALIASES)


def _text(raw: Any) -> str | None:
    """As DHIS2's mapper reads a string property: an empty string is no value."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _dry_run(raw: Any) -> bool | None:
    """Jackson's `Boolean`: true/false, their strings, 0/1; anything else is refused."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise conflict(f"Invalid `dryRun` in the payload: `{raw}` (true or false)")


def _strategy(raw: Any, default: Strategy) -> Strategy:
    name = _text(raw)
    if name is None:
        return default
    if name == "SYNC":
        raise not_implemented(
            "Import property `strategy=SYNC` is defined by DHIS2 but not implemented here"
        )
    if name not in _CONSTANTS:
        raise conflict(f"Invalid `strategy` in the payload: `{name}` ({', '.join(_CONSTANTS)})")
    return cast(Strategy, ALIASES.get(name, name))


def own_options(head: Mapping[str, Any], options: ImportOptions) -> ImportOptions:
    """`dryRun` and `strategy` of a payload over the request's (DHIS2 combines a data value set's
    and a complete data set registration set's alike)."""
    dry_run = _dry_run(head.get("dryRun"))
    return ImportOptions(
        strategy=_strategy(head.get("strategy"), options.strategy),
        dry_run=options.dry_run if dry_run is None else dry_run,
    )


def refuse_present(head: Mapping[str, Any], names: tuple[str, ...], what: str) -> None:
    """A payload property DHIS2 defines but the sandbox does not implement, when given."""
    for name in names:
        if head.get(name) not in (None, [], ""):
            raise not_implemented(
                f"{what} property `{name}` is defined by DHIS2 but not implemented here"
            )


def resolve(
    head: Mapping[str, Any],
    options: ImportOptions,
    params: Mapping[str, str],
    store: MetadataStore,
) -> tuple[ImportOptions, IdSchemes]:
    """The options one import runs with: the payload's (`head`) over the request's."""
    refuse_present(head, REFUSED, "Data value set")
    effective = own_options(head, options)
    requested = IdSchemes.parse(store, params)  # an invalid one is refused under its own name
    body = {name: _text(head.get(name)) for name in SCHEMES}
    for name, raw in body.items():
        if raw is not None:
            parse_scheme(raw, name, " in the data value set")
    if all(raw is None for raw in body.values()):
        return effective, requested
    chosen: dict[str, str] = {}
    for prop, _, param in PROPERTIES:
        value = body[_BODY_SCHEME[prop]] or body["idScheme"]
        value = value or params.get(param) or params.get("idScheme")
        if value:
            chosen[param] = value
    return effective, IdSchemes.parse(store, chosen)
