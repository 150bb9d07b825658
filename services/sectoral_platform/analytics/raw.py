"""`/api/analytics/rawData`: the stored values inside the query's periods and org units, not
aggregated, as an analytics grid (the stored period and org unit in the pe and ou columns)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.analytics.fetch import T
from services.sectoral_platform.analytics.request import AnalyticsQuery
from services.sectoral_platform.analytics.response import AnalyticsResponse, build_response
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore


def raw_data(engine: Engine, store: MetadataStore, query: AnalyticsQuery) -> AnalyticsResponse:
    """Data element items (and `element.coc`) only; a `co` dimension splits by option combo."""
    for item in query.data:
        if item.kind not in ("dataElement", "detail"):
            raise conflict(
                f"Raw data is only available for data elements, not `{item.id}`", "E7124"
            )
    for d in query.extra:
        if d.kind != "co":
            raise conflict(f"Raw data does not support the dimension `{d.name}`", "E7125")
    row_dims = [d for d in query.dimensions if not d.is_filter]
    if query.options.skip_data:
        return build_response(store, query, [], row_dims)
    wanted = {(i.element or "", i.coc) for i in query.data}
    paths = [store.path(u) or "" for u in query.units]
    periods = [and_(T.c.pe_start >= p.start.isoformat(), T.c.pe_end <= p.end.isoformat())
               for p in query.periods]  # fmt: skip
    stmt = (
        select(T.c.de, T.c.co, T.c.pe, T.c.ou, T.c.value, T.c.num)
        .where(
            T.c.de.in_(sorted({de for de, _ in wanted})),
            or_(*periods),
            or_(*(and_(T.c.ou_path >= p, T.c.ou_path < p + "0") for p in paths)),
        )
        .order_by(T.c.de, T.c.pe_start, T.c.ou_path, T.c.co)
    )
    co_dim = next((d for d in query.extra if d.kind == "co"), None)
    rows: list[list[str]] = []
    with engine.connect() as conn:
        for de, co, pe, ou, value, num in conn.execute(stmt):
            dx = de if (de, None) in wanted else f"{de}.{co}"
            if (de, None) not in wanted and (de, co) not in wanted:
                continue
            if co_dim is not None and co_dim.items and co not in co_dim.items:
                continue
            if num is not None and not query.options.accepts(float(num)):
                continue
            cells = {"dx": dx, "pe": pe, "ou": ou, "co": co}
            rows.append([cells[d.name] for d in row_dims] + [str(value)])
    return build_response(store, query, rows, row_dims)
