"""Health platform tracker at national size: search of tracked entities by attribute as they
grow. The first 1,000 are imported through `POST /api/tracker` (`bench.tracker`'s batch: each
with an enrollment and two events); the rest are copies of those rows COPYed into the service's
PostgreSQL database, every uid fresh and the searched attributes (name, token) unique, in the
tracked entity's JSON as in its attribute value rows. Searches are sequential, one match each."""

from __future__ import annotations

import base64
import json
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

COLUMNS = ["tracked entities", "search median", "search p95", "ordered search p95",
           "import TE/s (1,000)", "COPY s"]  # fmt: skip
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

    def _prepared(self) -> dict[str, dict[str, list[list[Any]]]]:
        """Per table, per template: its rows, JSON values as their text."""
        out: dict[str, dict[str, list[list[Any]]]] = {}
        for table in TABLES:
            key = self.columns[table].index("uid" if table == "tracked_entity" else "te")
            by_template: dict[str, list[list[Any]]] = {t: [] for t in self.templates}
            for row in self.rows[table]:
                by_template[row[key]].append(
                    [json.dumps(v) if isinstance(v, dict | list) else v for v in row]
                )
            out[table] = by_template
        return out

    def fill(self, url: str, start: int, count: int) -> None:
        """Copies numbered start..start+count (their names and tokens carry the number)."""
        templates = sorted(self.templates)
        prepared = self._prepared()
        json_columns = {
            table: {i for i, v in enumerate(self.rows[table][0]) if isinstance(v, dict | list)}
            for table in TABLES
            if self.rows[table]
        }
        own = {t: [r[self.columns[table].index("uid")] for table in ("enrollment", "event")
                   for r in self.rows[table] if r[self.columns[table].index("te")] == t]
               for t in templates}  # fmt: skip

        def rows(table: str) -> Iterator[list[Any]]:
            texts = json_columns.get(table, set())
            for n in range(start, start + count):
                template = templates[n % len(templates)]
                old = self.templates[template]
                exact = {template: f"T{n:010d}", _name(old): _name(n), _token(old): _token(n)}
                for k, uid in enumerate(own[template]):
                    exact[uid] = f"{'EVWXYZ'[k]}{n:010d}"
                for row in prepared[table][template]:
                    out = [exact.get(v, v) if isinstance(v, str) else v for v in row]
                    for i in texts:
                        text = row[i]
                        for a, b in exact.items():
                            text = text.replace(f'"{a}"', f'"{b}"')
                        out[i] = text
                    yield out

        for table in TABLES:
            pg.copy_rows(url, table, self.columns[table], rows(table))
            pg.execute(url, f"ANALYZE {table}")


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
                stored = max(stored, size)
                part.progress(f"{stored:,} tracked entities stored (COPY {loaded:.1f} s)")
                plain = _search(client, stored, None)
                ordered = _search(client, stored, "iESIqZ0R0R0:desc,createdAt")
                part.row(stored, f"{median(plain):.1f} ms", f"{p95(plain):.1f} ms",
                         f"{p95(ordered):.1f} ms", f"{rate:,.0f}", f"{loaded:.1f}")  # fmt: skip
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
