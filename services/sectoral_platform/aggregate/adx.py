"""ADX (IHE QRPH aggregate data exchange): ISO 8601 periods, groups per data set, org unit and
period, disaggregations as category/option attributes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from services.sectoral_platform.aggregate.periods import parse_period, period_of_type
from services.sectoral_platform.aggregate.xmlsafe import Element, FormatError, elements
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore

ADX = "urn:ihe:qrph:adx:2015"
Body = dict[str, Any]
_DURATION = {
    "Daily": "P1D", "Weekly": "P7D", "WeeklyWednesday": "P7D", "WeeklyThursday": "P7D",
    "WeeklySaturday": "P7D", "WeeklySunday": "P7D", "BiWeekly": "P14D", "Monthly": "P1M",
    "BiMonthly": "P2M", "Quarterly": "P3M", "SixMonthly": "P6M", "SixMonthlyApril": "P6M",
    "Yearly": "P1Y", "FinancialApril": "P1Y", "FinancialJuly": "P1Y", "FinancialOct": "P1Y",
    "FinancialNov": "P1Y",
}  # fmt: skip
_WEEKLY = {1: "Weekly", 3: "WeeklyWednesday", 4: "WeeklyThursday", 6: "WeeklySaturday"}
_GROUP_KEYS = ("dataSet", "orgUnit", "period", "completeDate", "completed")


def to_adx_period(pid: str) -> str:
    period = parse_period(pid)
    if period is None:
        return pid
    return f"{period.start.isoformat()}/{_DURATION.get(period.type, 'P1D')}"


def from_adx_period(raw: str) -> str | None:
    """`2015-06-01/P1M` -> `201506`; None when no DHIS2 period starts there with that length."""
    start_text, _, duration = raw.partition("/")
    try:
        start = date.fromisoformat(start_text)
    except ValueError:
        return None
    if duration == "P7D":
        types = [_WEEKLY.get(start.isoweekday(), "WeeklySunday")]
    else:
        types = [t for t, d in _DURATION.items() if d == duration and not t.startswith("Weekly")]
    for ptype in types:
        period = period_of_type(ptype, start)
        if period.start == start:
            return period.id
    return None


class Disaggregation:
    """Category option combos <-> {category code: option code}, from the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def _code(self, type_: str, uid: str) -> str:
        obj = self.store.get(type_, uid) or {}
        return str(obj.get("code") or uid)

    def attributes(self, coc: str) -> dict[str, str]:
        if coc == DEFAULT_CATEGORY_OPTION_COMBO:
            return {}
        combo = self.store.get("categoryOptionCombos", coc) or {}
        options = {o.get("id") for o in combo.get("categoryOptions") or []}
        cc = self.store.get("categoryCombos", (combo.get("categoryCombo") or {}).get("id", ""))
        found: dict[str, str] = {}
        for ref in (cc or {}).get("categories") or []:
            category = self.store.get("categories", ref.get("id", "")) or {}
            for option in category.get("categoryOptions") or []:
                if option.get("id") in options:
                    found[self._code("categories", category["id"])] = self._code(
                        "categoryOptions", option["id"]
                    )
        return found or {"categoryOptionCombo": coc}

    def combo(self, attrs: dict[str, str]) -> str | None:
        if not attrs:
            return DEFAULT_CATEGORY_OPTION_COMBO
        if set(attrs) == {"categoryOptionCombo"}:
            return attrs["categoryOptionCombo"]
        for coc in self.store.all("categoryOptionCombos"):
            if self.attributes(str(coc["id"])) == attrs:
                return str(coc["id"])
        return None


def read_adx(data: bytes, disaggregation: Disaggregation) -> list[Body]:
    """A whole ADX document read at once (an `async` import)."""
    return list(adx_bodies(iter(elements(data)), disaggregation))


def adx_bodies(found: Iterator[Element], dis: Disaggregation, most: int = 10_000) -> Iterator[Body]:
    """One data value set per `group`, as the document arrives. Consecutive groups of one data
    set become one import (values keep their group's period, org unit and attribute combo, so
    checks stay per group and indexes in document order) of at most `most` values; a group with
    a `completeDate` stays on its own, to be registered complete with its last part."""
    root = next(found, None)
    if root is None or root.name != "adx":
        name = root.name if root else "nothing"
        raise FormatError(f"line 1: the root element must be `adx`, not `{name}`")
    body: Body | None = None
    group: Body | None = None
    notes: list[tuple[dict[str, Any], Element]] = []  # an annotation's text ends after it starts

    def done() -> Body:
        assert body is not None
        for item, note in notes:
            item["comment"] = note.text.strip()
        notes.clear()
        return body

    for element in found:
        if element.depth == 1:
            if element.name != "group":
                raise FormatError(f"line {element.line}: unexpected element `{element.name}`")
            group = _group(element.attrs, element.line, dis)
            if body is not None and not _joins(body, group):
                yield done()
                body = None
            if body is None:
                body = {**group, "dataValues": []}
        elif element.depth == 2 and element.name == "dataValue" and group and body is not None:
            if len(body["dataValues"]) >= most:
                head = {k: v for k, v in body.items() if k != "dataValues"}
                body.pop("completeDate", None)  # registered with the group's last part
                yield done()
                body = {**head, "dataValues": []}
            item = _value(element.attrs, element.line, dis)
            item["period"], item["orgUnit"] = group["period"], group["orgUnit"]
            if "attributeOptionCombo" in group:
                item["attributeOptionCombo"] = group["attributeOptionCombo"]
            body["dataValues"].append(item)
        elif element.depth == 3 and element.name == "annotation" and body and body["dataValues"]:
            notes.append((body["dataValues"][-1], element))
        else:
            raise FormatError(f"line {element.line}: unexpected element `{element.name}`")
    if body is not None:
        yield done()


def _joins(body: Body, group: Body) -> bool:
    return (
        "completeDate" not in group
        and "completeDate" not in body
        and body.get("dataSet") == group.get("dataSet")
    )


def _group(attrs: dict[str, str], line: int, dis: Disaggregation) -> Body:
    missing = [k for k in ("orgUnit", "period") if not attrs.get(k)]
    if missing:
        raise FormatError(f"line {line}: `group` without `{missing[0]}`")
    period = from_adx_period(attrs["period"])
    if period is None:
        raise FormatError(f"line {line}: `{attrs['period']}` is not an ISO 8601 period of DHIS2")
    body: Body = {"orgUnit": attrs["orgUnit"], "period": period, "dataValues": []}
    if attrs.get("dataSet"):
        body["dataSet"] = attrs["dataSet"]
    if attrs.get("completeDate"):
        body["completeDate"] = attrs["completeDate"]
    extra = {k: v for k, v in attrs.items() if k not in _GROUP_KEYS}
    if extra:
        aoc = dis.combo(extra)
        if aoc is None:
            raise FormatError(f"line {line}: no attribute option combo matches {extra}")
        body["attributeOptionCombo"] = aoc
    return body


def _value(attrs: dict[str, str], line: int, dis: Disaggregation) -> dict[str, Any]:
    if not attrs.get("dataElement"):
        raise FormatError(f"line {line}: `dataValue` without `dataElement`")
    extra = {k: v for k, v in attrs.items() if k not in ("dataElement", "value")}
    coc = dis.combo(extra)
    if coc is None:
        raise FormatError(f"line {line}: no category option combo matches {extra}")
    item: dict[str, Any] = {"dataElement": attrs["dataElement"], "categoryOptionCombo": coc}
    if "value" in attrs:
        item["value"] = attrs["value"]
    return item


def write_adx(
    values: Iterable[dict[str, Any]], dis: Disaggregation, data_set: str | None, exported: str
) -> Iterator[str]:
    """Values ordered by period and org unit (as the reads order them) make one group each."""
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<adx xmlns="{ADX}" exported="{exported}">\n'
    current: tuple[str, str, str] | None = None
    chunk: list[str] = []
    for item in values:
        key = (item["period"], item["orgUnit"], item["attributeOptionCombo"])
        if key != current:
            if current is not None:
                chunk.append("  </group>\n")
            ds = f" dataSet={quoteattr(data_set)}" if data_set else ""
            aoc = "".join(f" {k}={quoteattr(v)}" for k, v in dis.attributes(key[2]).items())
            chunk.append(
                f"  <group{ds} orgUnit={quoteattr(key[1])} "
                f"period={quoteattr(to_adx_period(key[0]))}{aoc}>\n"
            )
            current = key
        cells = "".join(
            f" {k}={quoteattr(v)}" for k, v in dis.attributes(item["categoryOptionCombo"]).items()
        )
        value = f" value={quoteattr(str(item['value']))}" if item.get("value") is not None else ""
        note = item.get("comment")
        inner = f"<annotation>{escape(note)}</annotation>" if note else ""
        close = f">{inner}</dataValue>" if inner else "/>"
        chunk.append(
            f"    <dataValue dataElement={quoteattr(item['dataElement'])}{cells}{value}{close}\n"
        )
        if len(chunk) >= 1000:
            yield "".join(chunk)
            chunk.clear()
    if current is not None:
        chunk.append("  </group>\n")
    chunk.append("</adx>\n")
    yield "".join(chunk)
