"""Data value sets as DHIS2's CSV and DXF2 XML, both directions; ADX lives in `adx.py`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

from services.sectoral_platform.aggregate.xmlsafe import Element, FormatError, elements

Body = dict[str, Any]
DXF2 = "http://dhis2.org/schema/dxf/2.0"
# DHIS2's column order, on import (by position) and export
CSV_COLUMNS = (
    "dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo", "value",
    "storedby", "lastupdated", "comment", "followup", "deleted",
)  # fmt: skip
_CSV_WIRE = (
    "dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value",
    "storedBy", "lastUpdated", "comment", "followup", "deleted",
)  # fmt: skip
_SET_ATTRS = ("dataSet", "completeDate", "period", "orgUnit", "attributeOptionCombo")
# the set's options as DHIS2's XmlDataValueSetReader reads them, under their JSON names
_SET_SCHEMES = (
    "idScheme", "dataElementIdScheme", "orgUnitIdScheme", "categoryOptionComboIdScheme",
    "dataSetIdScheme",
)  # fmt: skip
_VALUE_ATTRS = (
    "dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value",
    "storedBy", "lastUpdated", "comment", "followup", "deleted",
)  # fmt: skip


def _bool(raw: str) -> bool:
    return raw.strip().lower() in ("true", "1")


def read_csv(data: bytes, header: bool = True) -> Body:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"CSV is not UTF-8 at byte {exc.start}") from exc
    return {"dataValues": list(csv_values(io.StringIO(text, newline=""), header))}


def csv_values(lines: Iterable[str], header: bool = True) -> Iterator[dict[str, Any]]:
    """Data values from CSV lines as they come; a malformed line raises naming its number."""
    reader = csv.reader(lines, strict=True)
    try:
        for line, row in enumerate(reader, start=1):
            if (line == 1 and header) or not any(cell.strip() for cell in row):
                continue
            if len(row) < 3 or len(row) > len(CSV_COLUMNS):
                raise FormatError(
                    f"line {reader.line_num}: {len(row)} columns, expected 3 to "
                    f"{len(CSV_COLUMNS)} ({','.join(CSV_COLUMNS)})"
                )
            item: dict[str, Any] = {}
            for name, cell in zip(_CSV_WIRE, row, strict=False):
                if cell == "" or name == "lastUpdated":  # DHIS2 stamps the import's time
                    continue
                item[name] = _bool(cell) if name in ("followup", "deleted") else cell
            yield item
    except csv.Error as exc:
        raise FormatError(f"line {reader.line_num}: malformed CSV: {exc}") from exc


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def write_csv(values: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    batch: list[list[Any]] = []  # None is written as an empty cell
    for item in values:
        get = item.get
        batch.append(
            [
                get("dataElement"), get("period"), get("orgUnit"), get("categoryOptionCombo"),
                get("attributeOptionCombo"), get("value"), get("storedBy"), get("lastUpdated"),
                get("comment"), "true" if get("followup") else "false", "",
            ]
        )  # fmt: skip
        if len(batch) >= 2000:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def write_csv_rows(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[str]:
    """The CSV of rows already in its columns and wire values (`reads.stream_csv_rows`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rows in batches:
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def read_dxf2(data: bytes) -> Body:
    head: Body = {}
    values = list(dxf2_values(iter(elements(data)), head))
    return {**head, "dataValues": values}


def dxf2_values(found: Iterator[Element], head: Body) -> Iterator[dict[str, Any]]:
    """Data values from DXF2 elements as they come; `head` gets the set's attributes first."""
    root = next(found, None)
    if root is None or root.name != "dataValueSet":
        name = root.name if root else "nothing"
        raise FormatError(f"line 1: the root element must be `dataValueSet`, not `{name}`")
    head.update({k: root.attrs[k] for k in (*_SET_ATTRS, *_SET_SCHEMES) if k in root.attrs})
    if "importStrategy" in root.attrs:
        head["strategy"] = root.attrs["importStrategy"]
    if root.attrs.get("dryRun") == "true":  # DHIS2 reads `true` only: `false` leaves the query's
        head["dryRun"] = True
    for element in found:
        if element.depth != 1:
            continue
        if element.name != "dataValue":
            raise FormatError(f"line {element.line}: unexpected element `{element.name}`")
        item: dict[str, Any] = {}
        for name, raw in element.attrs.items():
            key = "followup" if name == "followUp" else name
            if key in ("followup", "deleted"):
                item[key] = _bool(raw)
            elif key in _VALUE_ATTRS and key != "lastUpdated":
                item[key] = raw
        yield item


def write_dxf2(head: dict[str, str], values: Iterable[dict[str, Any]]) -> Iterator[str]:
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in head.items())
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<dataValueSet xmlns="{DXF2}"{attrs}>\n'
    chunk: list[str] = []
    for item in values:
        cells = "".join(
            f" {k}={quoteattr(_cell(item[k]))}" for k in _VALUE_ATTRS if item.get(k) is not None
        )
        chunk.append(f"  <dataValue{cells}/>\n")
        if len(chunk) >= 1000:
            yield "".join(chunk)
            chunk.clear()
    chunk.append("</dataValueSet>\n")
    yield "".join(chunk)
