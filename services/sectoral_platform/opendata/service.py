"""Publications: counts from the analytics engine, suppressed, stored as an immutable snapshot."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Any

import orjson
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.analytics.request import parse_query
from services.sectoral_platform.analytics.service import run
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.opendata.models import Publication
from services.sectoral_platform.opendata.request import PublicationSpec, level_name
from services.sectoral_platform.opendata.suppression import rule, suppress_group

Cell = tuple[str, str, str]  # data element, period, org unit
CSV_COLUMNS = (
    "kind", "dataElement", "dataElementName", "period", "periodName", "orgUnit", "orgUnitCode",
    "orgUnitName", "value", "suppressed",
)  # fmt: skip


def counts(
    *, engine: Engine, store: MetadataStore, scope: Scope, spec: PublicationSpec
) -> dict[Cell, int]:
    """The analytics answer for every unit at the level within the org unit, as integers."""
    query = parse_query(
        store=store,
        scope=scope,
        dimensions=[
            "dx:" + ";".join(spec.data_elements),
            "pe:" + ";".join(p.id for p in spec.periods),
            f"ou:{spec.org_unit};LEVEL-{spec.level}",
        ],
        filters=[],
        today=date.today(),
    )
    rows = run(engine, store, query)["rows"]
    return {(de, pe, ou): round(float(value)) for de, pe, ou, value in rows}


def _unit(store: MetadataStore, uid: str) -> dict[str, Any]:
    obj = store.get("organisationUnits", uid) or {}
    return {"orgUnit": uid, "orgUnitCode": obj.get("code"), "orgUnitName": obj.get("name")}


def _parent(store: MetadataStore, uid: str) -> str | None:
    parent = (store.get("organisationUnits", uid) or {}).get("parent") or {}
    return parent.get("id")


def build_document(
    *, store: MetadataStore, spec: PublicationSpec, values: dict[Cell, int], uid: str
) -> dict[str, Any]:
    """The public document: what was asked, the rule, and suppressed rows; nothing else."""
    names = {
        e: str((store.get("dataElements", e) or {}).get("name", e)) for e in spec.data_elements
    }
    period_names = {p.id: p.name for p in spec.periods}
    groups: dict[tuple[str, str, str | None], dict[str, int]] = defaultdict(dict)
    for (de, pe, ou), value in values.items():
        groups[(de, pe, _parent(store, ou))][ou] = value

    def order(unit: str | None) -> tuple[str, str]:
        found = _unit(store, unit) if unit else {}
        return (str(found.get("orgUnitCode") or ""), str(found.get("orgUnitName") or ""))

    de_order = {e: i for i, e in enumerate(spec.data_elements)}
    pe_order = {p.id: i for i, p in enumerate(spec.periods)}
    rows: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    for (de, pe, parent), cells in sorted(
        groups.items(), key=lambda g: (de_order[g[0][0]], pe_order[g[0][1]], order(g[0][2]))
    ):
        outcome = suppress_group(
            cells, spec.threshold, with_total=spec.totals and parent is not None
        )
        head = {"dataElement": de, "dataElementName": names[de], "period": pe}
        head["periodName"] = period_names[pe]
        for ou in sorted(cells, key=order):
            held = ou in outcome.withheld
            shown = None if held else cells[ou]
            rows.append({**head, **_unit(store, ou), "value": shown, "suppressed": held})
        if spec.totals and parent is not None:
            total = None if outcome.total_withheld else outcome.total
            totals.append(
                {**head, **_unit(store, parent), "value": total, "suppressed": total is None}
            )
    boundary = _unit(store, spec.org_unit)
    return {
        "id": uid,
        "title": spec.title,
        "published": dhis2_timestamp(),
        "threshold": spec.threshold,
        "rule": rule(spec.threshold),
        "orgUnit": {
            "id": spec.org_unit,
            "code": boundary["orgUnitCode"],
            "name": boundary["orgUnitName"],
            "level": store.level(spec.org_unit),
        },
        "orgUnitLevel": {"level": spec.level, "name": level_name(store, spec.level)},
        "dataElements": [{"id": e, "name": names[e]} for e in spec.data_elements],
        "periods": [{"id": p.id, "name": p.name} for p in spec.periods],
        "totals": spec.totals,
        "cellCount": len(rows),
        "suppressedCellCount": sum(r["suppressed"] for r in rows),
        "totalCount": len(totals),
        "suppressedTotalCount": sum(t["suppressed"] for t in totals),
        "rows": rows,
        "totalRows": totals,
    }


def publish(
    *, engine: Engine, store: MetadataStore, scope: Scope, spec: PublicationSpec
) -> tuple[str, bytes]:
    """Compute, suppress and store; the answer is the uid and the stored document itself."""
    uid = generate_uid()
    values = counts(engine=engine, store=store, scope=scope, spec=spec)
    document = build_document(store=store, spec=spec, values=values, uid=uid)
    rendered = orjson.dumps(document)
    with Session(engine) as session:
        session.add(
            Publication(
                uid=uid,
                title=spec.title,
                published=document["published"],
                threshold=spec.threshold,
                org_unit_level=spec.level,
                cell_count=document["cellCount"],
                suppressed_cell_count=document["suppressedCellCount"],
                published_by=scope.user.uid,
                document=rendered.decode(),
            )
        )
        session.commit()
    return uid, rendered


def document(*, engine: Engine, uid: str) -> str | None:
    with Session(engine) as session:
        found = session.get(Publication, uid)
        return None if found is None else found.document


def listing(*, engine: Engine, page: int, page_size: int) -> tuple[int, list[Publication]]:
    """Newest first."""
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Publication)).one()
        found = session.exec(
            select(Publication)
            .order_by(col(Publication.published).desc(), col(Publication.uid))
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
        return int(total), list(found)


def to_csv(published: dict[str, Any]) -> str:
    """One line per cell, then one per total; a withheld value is empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for kind, rows in (("cell", published["rows"]), ("total", published["totalRows"])):
        for row in rows:
            line = {**row, "kind": kind, "suppressed": "true" if row["suppressed"] else "false"}
            line["value"] = "" if row["value"] is None else row["value"]
            writer.writerow([line[c] if line[c] is not None else "" for c in CSV_COLUMNS])
    return out.getvalue()
