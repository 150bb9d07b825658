"""Event analytics items: data elements and attributes of a program, with their conditions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.sectoral_platform.errors import conflict, not_implemented
from services.sectoral_platform.metadata.store import MetadataStore

OPERATORS = ("EQ", "NE", "GT", "GE", "LT", "LE", "LIKE", "IN")
NUMERIC = (
    "NUMBER", "UNIT_INTERVAL", "PERCENTAGE", "INTEGER", "INTEGER_POSITIVE", "INTEGER_NEGATIVE",
    "INTEGER_ZERO_OR_POSITIVE",
)  # fmt: skip


@dataclass
class Item:
    """A data element (optionally of a stage) or attribute, as a dimension or a filter."""

    uid: str
    kind: str  # dataElement, attribute
    stage: str | None
    filters: list[tuple[str, str]]
    is_filter: bool
    name: str
    value_type: str
    option_set: str | None = None

    @property
    def key(self) -> str:
        return f"{self.stage}.{self.uid}" if self.stage else self.uid


def _uid_kind(store: MetadataStore, program: dict[str, Any], uid: str) -> str | None:
    if store.get("dataElements", uid) is not None:
        return "dataElement"
    if store.get("trackedEntityAttributes", uid) is not None:
        return "attribute"
    if store.get("programIndicators", uid) is not None:
        return "programIndicator"
    return None


def _program_elements(store: MetadataStore, program: str, stage: str | None) -> dict[str, str]:
    """Data element -> the first stage of the program (or the given stage) holding it."""
    found: dict[str, str] = {}
    for ref in store.inverse("programs", "programStages", program):
        st = store.get("programStages", ref["id"]) or {}
        if stage and ref["id"] != stage:
            continue
        for psde in st.get("programStageDataElements") or []:
            de = (psde.get("dataElement") or {}).get("id")
            if de:
                found.setdefault(de, st["id"])
    return found


def parse_item(
    store: MetadataStore,
    program: dict[str, Any],
    default_stage: str | None,
    raw: str,
    *,
    is_filter: bool,
    enrollment: bool,
) -> Item:
    """`<de>`, `<stage>.<de>` or `<attribute>`, with `:OP:value` conditions."""
    parts = raw.split(":")
    ident, rest = parts[0], parts[1:]
    if "-" in ident or "[" in ident:
        raise not_implemented(
            f"Legend set and repeated-stage dimensions are not implemented: `{ident}`"
        )
    stage, _, uid = ident.rpartition(".")
    kind = _uid_kind(store, program, uid)
    if kind == "programIndicator":
        raise not_implemented(
            f"Program indicators as event analytics dimensions are not implemented: `{uid}` "
            "(use them as `dx` in /api/analytics)"
        )
    attrs = {
        (a.get("trackedEntityAttribute") or {}).get("id")
        for a in program.get("programTrackedEntityAttributes") or []
    }
    elements = _program_elements(store, program["id"], stage or default_stage)
    if kind == "dataElement" and uid in elements:
        if stage and store.get("programStages", stage) is None:
            raise conflict(f"Program stage is specified but does not exist: `{stage}`", "E7130")
        if enrollment and not stage:
            raise conflict(
                "Program stage is mandatory for data element dimensions in enrollment analytics "
                f"queries: `{uid}`",
                "E7225",
            )
        obj = store.get("dataElements", uid) or {}
    elif kind == "attribute" and uid in attrs and not stage:
        obj = store.get("trackedEntityAttributes", uid) or {}
    else:
        raise conflict(
            "Item identifier does not reference any data element, attribute or indicator part "
            f"of the program: `{ident}`",
            "E7224",
        )
    if len(rest) % 2:
        raise conflict(f"Query item or filter is invalid: `{raw}`", "E7222")
    filters = []
    for i in range(0, len(rest), 2):
        op = rest[i].upper()
        if op not in OPERATORS:
            raise not_implemented(
                f"Filter operator is not implemented here: `{rest[i]}` in `{raw}`"
            )
        filters.append((op, rest[i + 1]))
    assert kind is not None
    return Item(
        uid, kind, stage or None, filters, is_filter, str(obj.get("name") or uid),
        str(obj.get("valueType") or "TEXT"), (obj.get("optionSet") or {}).get("id"),
    )  # fmt: skip
