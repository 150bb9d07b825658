"""`/api/dataValueSets` formats: JSON, CSV, DXF2 XML and ADX, by Content-Type on import and by
suffix or Accept on export; gzip accepted both ways in."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, cast

import orjson
from fastapi import Request

from services.kernel.limits import BULK_BODY_LIMIT
from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.adx import Disaggregation, read_adx, write_adx
from services.sectoral_platform.aggregate.formats import read_csv, read_dxf2, write_csv, write_dxf2
from services.sectoral_platform.aggregate.idschemes import IdSchemes
from services.sectoral_platform.errors import Dhis2Error, bad_request, not_found
from services.sectoral_platform.metadata.store import MetadataStore

Format = Literal["json", "csv", "xml", "adx"]
MEDIA: dict[Format, str] = {
    "json": "application/json",
    "csv": "application/csv",
    "xml": "application/xml",
    "adx": "application/adx+xml",
}
# an inflated body is held to the limit a plain body has
MAX_INFLATED = BULK_BODY_LIMIT


def _inflate(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, detected from the header
    try:
        data = inflater.decompress(raw, MAX_INFLATED)
    except zlib.error as exc:
        raise bad_request(f"The gzip body could not be read: {exc}") from exc
    if inflater.unconsumed_tail:
        raise Dhis2Error(f"The inflated body is larger than {MAX_INFLATED} bytes", status_code=413)
    return data


def import_format(request: Request) -> Format:
    kind = (request.headers.get("content-type") or "application/json").split(";")[0].strip()
    kind = kind.lower().removesuffix("+gzip")
    if kind == "application/adx+xml":
        return "adx"
    if kind in ("application/xml", "text/xml", "application/dxf2+xml"):
        return "xml"
    if kind in ("application/csv", "text/csv"):
        return "csv"
    return "json"


def gzip_declared(request: Request) -> bool:
    return request.headers.get("content-encoding", "").lower() == "gzip" or (
        request.headers.get("content-type", "").split(";")[0].strip().lower()
        in ("application/gzip", "application/x-gzip")
    )


async def read_body(request: Request) -> bytes:
    """The whole body (a streamed format's larger limit does not apply to it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > BULK_BODY_LIMIT:
            raise Dhis2Error(f"The request body exceeds {BULK_BODY_LIMIT} bytes", status_code=413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    return _inflate(raw) if gzip_declared(request) or raw[:2] == b"\x1f\x8b" else raw


def parse_bodies(
    fmt: Format, data: bytes, store: MetadataStore, header: bool = True
) -> list[dict[str, Any]]:
    """The payload as data value set bodies (one, or one per ADX group), as sent: `to_uids`
    maps them once the schemes are known (a JSON or DXF2 set may name its own)."""
    if fmt == "json":
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"JSON parse error: {exc}") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON parse error: a data value set must be an object")
        bodies = [body]
    elif fmt == "csv":
        bodies = [read_csv(data, header)]
    elif fmt == "xml":
        bodies = [read_dxf2(data)]
    else:
        bodies = read_adx(data, Disaggregation(store))
    return bodies


def to_uids(schemes: IdSchemes, bodies: list[dict[str, Any]]) -> None:
    if schemes.all_uid:
        return
    for body in bodies:
        schemes.inbound(body)
        values = body.get("dataValues")
        if isinstance(values, list):
            for item in values:
                if isinstance(item, dict):
                    schemes.inbound(item)


_BY_FORMAT: dict[str, Format] = {"xml": "xml", "adx+xml": "adx", "csv": "csv"}


def export_format(request: Request, suffix: str | None) -> Format:
    if suffix:
        name = suffix.removesuffix(".gz").removesuffix(".zip")
        if name in MEDIA:
            return name
        raise not_found(f"No endpoint /api/dataValueSets.{suffix}", None)
    # DHIS2's `format` parameter wins over Accept; any other value is JSON, as there
    named = request.query_params.get("format")
    if named is not None:
        return _BY_FORMAT.get(named, "json")
    accept = (request.headers.get("accept") or "").lower()
    for fmt in ("adx", "csv", "xml"):
        if MEDIA[fmt] in accept or (fmt == "csv" and "text/csv" in accept):
            return fmt
    if "text/xml" in accept:
        return "xml"
    return "json"


def render(
    fmt: Format,
    head: dict[str, str],
    rows: Iterable[Mapping[str, Any]],
    schemes: IdSchemes,
) -> Iterator[bytes]:
    """Chunks of the export, written as rows arrive from the database."""
    values = cast(Iterable[dict[str, Any]], rows)
    if not schemes.all_uid:
        head = {k: str(schemes.outbound({k: v})[k]) for k, v in head.items()}
        kept = ("categoryOptionCombo", "attributeOptionCombo") if fmt == "adx" else ()
        values = (_outbound(schemes, v, kept) for v in values)
    if fmt == "csv":
        chunks = write_csv(values)
    elif fmt == "xml":
        chunks = write_dxf2(head, values)
    elif fmt == "adx":
        dis = Disaggregation(schemes.store)
        chunks = write_adx(values, dis, head.get("dataSet"), dhis2_timestamp())
    else:
        chunks = _json(head, values)
    for chunk in chunks:
        yield chunk.encode()


def gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    deflater = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = deflater.compress(chunk)
        if out:
            yield out
    yield deflater.flush()


def _outbound(schemes: IdSchemes, value: dict[str, Any], kept: tuple[str, ...]) -> dict[str, Any]:
    """ADX names disaggregations by category and option codes, never by the combo's scheme."""
    out = schemes.outbound(dict(value))
    for name in kept:
        out[name] = value.get(name)
    return out


def _json(head: dict[str, str], values: Iterable[dict[str, Any]]) -> Iterator[str]:
    opening = orjson.dumps(head).decode()[:-1]
    yield opening + ("," if head else "") + '"dataValues":['
    first = True
    for item in values:
        yield ("" if first else ",") + orjson.dumps(item).decode()
        first = False
    yield "]}"
