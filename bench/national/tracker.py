"""Health platform tracker at national size: search of tracked entities by attribute as they
grow. The first 1,000 are imported through `POST /api/tracker` (`bench.tracker`'s batch: each
with an enrollment and two events); the rest are copies of those rows COPYed into the service's
PostgreSQL database, every uid fresh and the searched attributes (name, token) unique, in the
tracked entity's JSON as in its attribute value rows. Searches are sequential, one match each."""

from __future__ import annotations

import base64
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import psycopg

from bench.common import free_port, start_uvicorn, stop
from bench.national import pg
from bench.national.measure import Part, median, p95, timed, verdict
from bench.tracker import BATCH, _batch

COLUMNS = ["tracked entities", "search median", "search p95", "ordered median", "ordered p95",
           "import TE/s (1,000)", "COPY s", "copied TE/s", "load average"]  # fmt: skip
AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:district").decode()}
SEARCHES = 200
TABLES = ("tracked_entity", "tracked_entity_attribute_value", "enrollment", "event")
TEMPLATES = 6  # one per facility of bench.tracker's batch


def _name(n: int) -> str:
    return f"Child {n}"


def _token(n: int) -> str:
    return f"bench-psut-{n:08d}"


class Copies:
    """The rows of the first TEMPLATES imported tracked entities, and copies of them."""

    def __init__(self, url: str) -> None:
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, list[list[Any]]] = {}
        with psycopg.connect(url) as conn:
            te_rows = conn.execute(
                "SELECT uid FROM tracked_entity_attribute_value v JOIN tracked_entity t"
                " ON t.uid = v.te WHERE v.attribute = 'w75KJ2mc4zz' AND v.value = ANY(%s)",
                ([_name(n) for n in range(TEMPLATES)],),
            ).fetchall()
            self.templates = {}
            for (uid,) in te_rows:
                value = conn.execute(
                    "SELECT value FROM tracked_entity_attribute_value WHERE te = %s AND"
                    " attribute = 'w75KJ2mc4zz'",
                    (uid,),
                ).fetchone()
                self.templates[uid] = int(value[0].split()[-1]) if value else 0  # fmt: skip
            for table in TABLES:
                key = "uid" if table == "tracked_entity" else "te"
                cursor = conn.execute(f"SELECT * FROM {table} WHERE {key} = ANY(%s)",
                                      (list(self.templates),))  # fmt: skip
                self.columns[table] = [d.name for d in cursor.description or ()]
                self.rows[table] = [list(row) for row in cursor.fetchall()]
        self.own = {
            t: [r[self.columns[table].index("uid")] for table in ("enrollment", "event")
                for r in self.rows[table] if r[self.columns[table].index("te")] == t]
            for t in self.templates
        }  # fmt: skip

    def _formats(self, table: str, template: str) -> list[list[Any]]:
        """The template's rows with every value a copy changes as a `str.format` slot: plain
        values as a slot number, JSON text as a format string (a copy is then one `format`, not a
        search and replace per value)."""
        old = self.templates[template]
        slots = [template, _name(old), _token(old), *self.own[template]]
        key = self.columns[table].index("uid" if table == "tracked_entity" else "te")
        out = []
        for row in self.rows[table]:
            if row[key] != template:
                continue
            cells: list[Any] = []
            for value in row:
                if isinstance(value, str) and value in slots:
                    cells.append(slots.index(value))
                elif isinstance(value, dict | list):
                    text = json.dumps(value).replace("{", "{{").replace("}", "}}")
                    for i, slot in enumerate(slots):
                        text = text.replace(f'"{slot}"', f'"{{{i}}}"')
                    cells.append(Format(text))
                else:
                    cells.append(value)
            out.append(cells)
        return out

    def fill(self, url: str, start: int, count: int) -> None:
        """Copies numbered start..start+count (their names and tokens carry the number)."""
        templates = sorted(self.templates)

        def rows(table: str) -> Iterator[list[Any]]:
            formats = [self._formats(table, t) for t in templates]
            for n in range(start, start + count):
                k = n % len(templates)
                own = (f"{'EVWXYZ'[i]}{n:010d}" for i in range(len(self.own[templates[k]])))
                values = [f"T{n:010d}", _name(n), _token(n), *own]
                for cells in formats[k]:
                    yield [
                        values[c] if type(c) is int else c.format(*values) if type(c) is Format
                        else c
                        for c in cells
                    ]  # fmt: skip

        for table in TABLES:
            pg.copy_rows(url, table, self.columns[table], rows(table), chunk=50_000)
            pg.execute(url, f"ANALYZE {table}")


class Format(str):
    """A JSON column's text with slots for the values a copy changes."""


def _search(client: httpx.Client, stored: int, order: str | None) -> list[float]:
    rng = random.Random(stored)

    def one() -> None:
        n = rng.randrange(stored)
        params = {
            "program": "IpHINAT79UW",
            "orgUnitMode": "ALL",
            "filter": f"w75KJ2mc4zz:eq:{_name(n)}",
            **({"order": order} if order else {}),
        }
        found = client.get("/api/tracker/trackedEntities", params=params)
        if found.status_code != 200 or len(found.json()["trackedEntities"]) != 1:
            raise RuntimeError(f"search {n}: {found.status_code} {found.text[:300]}")

    one()
    return timed(one, SEARCHES)


def run(sizes: Sequence[int], part: Part) -> None:
    with pg.database("tracker") as (sa_url, url), tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {"DPI_SECTORAL_PLATFORM_DATABASE_URL": sa_url, "DPI_DATA_DIR": tmp,
               "DPI_LOG_LEVEL": "WARNING"}  # fmt: skip
        process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=180)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=120)
        try:
            began = time.perf_counter()
            answer = client.post("/api/tracker?async=false", content=_batch(0),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
            if answer.status_code != 200 or answer.json()["stats"]["created"] != BATCH * 4:
                raise RuntimeError(f"tracker import failed: {answer.text[:500]}")
            rate = BATCH / (time.perf_counter() - began)
            copies = Copies(url)
            stored = BATCH
            for size in sizes:
                part.check(f"before {size:,} tracked entities")
                began = time.perf_counter()
                copies.fill(url, stored, max(0, size - stored))
                loaded = time.perf_counter() - began
                copied = max(0, size - stored) / loaded if loaded > 0.01 else 0.0
                stored = max(stored, size)
                part.progress(f"{stored:,} tracked entities stored (COPY {loaded:.1f} s)")
                plain = _search(client, stored, None)
                ordered = _search(client, stored, "iESIqZ0R0R0:desc,createdAt")
                part.row(stored, f"{median(plain):.1f} ms", f"{p95(plain):.1f} ms",
                         f"{median(ordered):.1f} ms", f"{p95(ordered):.1f} ms", f"{rate:,.0f}",
                         f"{loaded:.1f}", f"{copied:,.0f}",
                         " / ".join(f"{x:.1f}" for x in os.getloadavg()))  # fmt: skip
                part.progress(f"search p95 {p95(plain):.1f} ms, ordered {p95(ordered):.1f} ms")
        finally:
            client.close()
            stop(process)
    if part.rows:
        worst = float(part.rows[-1][2].split()[0])
        part.notes.append(
            f"search by attribute p95 at the largest size {worst:.1f} ms (target < 100 ms: "
            f"{verdict(worst < 100)}); {SEARCHES} sequential searches per size"
        )
