"""CSV and ADX import and the streamed CSV export of `/api/dataValueSets`, for
`bench/sectoral_platform.py` (targets: import >= 20,000 values/s, export >= 100,000 values/s
with the server's memory flat; a 10^6-value CSV, and JSON, streamed in at >= 20,000 values/s,
memory flat)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import httpx

Rows = list[tuple[str, str, str, int]]
COC = "HllvX50cXC0"


def _csv(rows: Rows) -> bytes:
    lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value"]
    lines += [f"{de},{pe},{ou},{COC},,{v}" for de, pe, ou, v in rows]
    return ("\n".join(lines) + "\n").encode()


def _adx(rows: Rows) -> bytes:
    parts = ['<adx xmlns="urn:ihe:qrph:adx:2015">']
    for (pe, ou), group in groupby(rows, key=lambda r: (r[1], r[2])):
        period = f"{pe[:4]}-{pe[4:]}-01/P1M"
        parts.append(f'<group orgUnit="{ou}" period="{period}">')
        parts += [f'<dataValue dataElement="{de}" value="{v}"/>' for de, _, _, v in group]
        parts.append("</group>")
    parts.append("</adx>")
    return "\n".join(parts).encode()


def import_rate(client: httpx.Client, rows: Rows, fmt: str, batch: int) -> float:
    """Values per second over HTTP imports of `rows` in `fmt` (csv or adx), batch by batch."""
    media = {"csv": "application/csv", "adx": "application/adx+xml"}[fmt]
    elapsed = 0.0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        body = _csv(chunk) if fmt == "csv" else _adx(chunk)
        began = time.perf_counter()
        response = client.post("/api/dataValueSets", content=body, headers={"Content-Type": media})
        elapsed += time.perf_counter() - began
        summary = response.json()["response"]
        if response.status_code != 200 or summary["importCount"]["imported"] != len(chunk):
            raise RuntimeError(f"{fmt} import failed: {response.status_code} {str(summary)[:500]}")
    return len(rows) / elapsed


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def export_rate(
    client: httpx.Client, pid: int, elements: list[str], root: str, year: int
) -> tuple[float, int, int, int]:
    """(values/s, values, RSS before in MiB, growth of the peak RSS in MiB) of one CSV export
    of everything stored, read as it streams."""
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("dataElement", e) for e in elements
    ]
    params += [("orgUnit", root), ("children", "true")]
    params += [("startDate", f"{year}-01-01"), ("endDate", f"{year}-12-31")]
    before = _memory_kib(pid, "VmRSS")
    peak_before = _memory_kib(pid, "VmHWM")
    lines = 0
    began = time.perf_counter()
    with client.stream("GET", "/api/dataValueSets.csv", params=params) as response:
        if response.status_code != 200:
            raise RuntimeError(f"export failed: {response.status_code}")
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - began
    values = lines - 1
    growth = max(0, _memory_kib(pid, "VmHWM") - max(peak_before, before))
    return values / elapsed, values, before // 1024, growth // 1024


def _streamed_csv(rows: Rows, year: int) -> Iterator[bytes]:
    yield _csv([])
    for start in range(0, len(rows), 10_000):
        chunk = rows[start : start + 10_000]
        yield "".join(f"{de},{year}{pe[4:]},{ou},{COC},,{v}\n" for de, pe, ou, v in chunk).encode()


def _streamed_json(rows: Rows, year: int) -> Iterator[bytes]:
    yield b'{"dataValues": [\n'
    for start in range(0, len(rows), 10_000):
        chunk = rows[start : start + 10_000]
        yield "".join(
            ("," if start or i else "")
            + f'{{"dataElement":"{de}","period":"{year}{pe[4:]}","orgUnit":"{ou}",'
            f'"categoryOptionCombo":"{COC}","value":"{v}"}}\n'
            for i, (de, pe, ou, v) in enumerate(chunk)
        ).encode()
    yield b"]}\n"


def streamed_import(
    client: httpx.Client, pid: int, rows: Rows, year: int, fmt: str = "csv"
) -> tuple[float, int, int, int]:
    """(values/s, values, RSS before in MiB, growth of the peak RSS in MiB) of one CSV or JSON
    import of `rows` moved to `year` (new keys), sent chunked as it is generated: the server
    streams it."""

    def body() -> Iterator[bytes]:
        return _streamed_csv(rows, year) if fmt == "csv" else _streamed_json(rows, year)

    before = _memory_kib(pid, "VmRSS")
    peak = [before]
    done = threading.Event()

    def sample() -> None:  # the peak so far would hide growth below an earlier peak
        while not done.wait(0.05):
            peak[0] = max(peak[0], _memory_kib(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    began = time.perf_counter()
    try:
        response = client.post(
            "/api/dataValueSets",
            content=body(),
            headers={"Content-Type": "application/csv" if fmt == "csv" else "application/json"},
        )
    finally:
        done.set()
        sampler.join()
    elapsed = time.perf_counter() - began
    summary = response.json()["response"]
    if response.status_code != 200 or summary["importCount"]["imported"] != len(rows):
        raise RuntimeError(
            f"streamed {fmt} import failed: {response.status_code} {str(summary)[:500]}"
        )
    return len(rows) / elapsed, len(rows), before // 1024, (peak[0] - before) // 1024
