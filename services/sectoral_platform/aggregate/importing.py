"""Importing data value sets: streamed JSON, CSV, DXF2 XML and ADX, and completeness from
`completeDate`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from services.kernel.db import Database
from services.sectoral_platform.aggregate import exchange, setoptions, streamed
from services.sectoral_platform.aggregate.adx import Disaggregation, adx_bodies
from services.sectoral_platform.aggregate.formats import csv_values, dxf2_values
from services.sectoral_platform.aggregate.idschemes import IdSchemes
from services.sectoral_platform.aggregate.jsonset import json_events, json_values
from services.sectoral_platform.aggregate.overlap import Write
from services.sectoral_platform.aggregate.service import (
    Guess,
    check_data_values,
    import_data_values,
    write_checked,
)
from services.sectoral_platform.aggregate.summary import ImportOptions, ImportSummary
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.completeness import service as completeness
from services.sectoral_platform.errors import Dhis2Error, bad_request
from services.sectoral_platform.metadata.store import MetadataStore


def register_complete(
    database: Database,
    store: MetadataStore,
    scope: Scope,
    options: ImportOptions,
    body: dict[str, Any],
    part: ImportSummary,
) -> None:
    """`completeDate` on a set with one data set, period and org unit registers it complete."""
    names = ("dataSet", "period", "orgUnit", "completeDate")
    if part.status == "ERROR" or not all(body.get(n) for n in names):
        return
    item = {**body, "organisationUnit": body["orgUnit"], "date": body["completeDate"]}
    item.pop("dataValues", None)
    registered = completeness.register(
        database.engine, store, scope, [item], ImportOptions(dry_run=options.dry_run)
    )
    if not registered.conflicts:
        part.data_set_complete = str(body["completeDate"])


async def import_streamed(
    request: Request,
    database: Database,
    store: MetadataStore,
    scope: Scope,
    options: ImportOptions,
    header: bool,
) -> ImportSummary:
    """Parsed and imported as the body arrives (`streamed.py`); a malformed JSON document of
    which nothing was written is a 400, as it was when JSON was read whole. The set's own options
    (`setoptions.py`) are read when the first batch is imported, from the attributes come by
    then; the summary shows the request's options, as DHIS2's does."""
    body = streamed.BodyStream(request.stream(), exchange.gzip_declared(request))
    head: dict[str, Any] = {}
    fmt = exchange.import_format(request)
    resolved: list[tuple[ImportOptions, IdSchemes]] = []

    def effective() -> tuple[ImportOptions, IdSchemes]:
        if not resolved:
            own = head if fmt in ("json", "xml") else {}
            resolved.append(setoptions.resolve(own, options, request.query_params, store))
        return resolved[0]

    values: Iterator[Any] = iter(())
    unwritten: Callable[[str], Exception] | None = None
    if fmt == "csv":
        values = csv_values(body.lines(), header)
    elif fmt == "xml":
        values = dxf2_values(streamed.xml_elements(body.chunks()), head)
    elif fmt == "json":
        chunks = body.chunks()
        events = json_events(chunks, check_depth=lambda: body.inflated)
        values, unwritten = json_values(events, head), bad_request

    def run(part: dict[str, Any]) -> ImportSummary:
        return import_data_values(
            engine=database.engine, store=store, scope=scope, body=part, options=effective()[0]
        )

    guess = Guess()

    def check(part: dict[str, Any]) -> Write:
        own = effective()[0]
        checked = check_data_values(store=store, scope=scope, body=part, options=own)
        return lambda: write_checked(
            engine=database.engine, checked=checked, options=own, guess=guess
        )

    def run_group(group: dict[str, Any]) -> ImportSummary:
        exchange.to_uids(effective()[1], [group])
        part = run(group)
        register_complete(database, store, scope, effective()[0], group, part)
        return part

    def run_adx() -> ImportSummary:
        elements = streamed.xml_elements(body.chunks())
        groups = adx_bodies(elements, Disaggregation(store), most=streamed.BATCH)
        return streamed.import_bodies(groups, options=options, run=run_group)

    def run_all() -> ImportSummary:
        summary = streamed.import_values(
            values,
            head,
            options=options,
            prepare=lambda part: exchange.to_uids(effective()[1], [part]),
            check=check,
            overlap=database.engine.dialect.name == "postgresql",
            unwritten=unwritten,
        )
        if resolved:  # else a malformed payload ended the import before its first batch
            whole = {**head}
            exchange.to_uids(resolved[0][1], [whole])
            register_complete(database, store, scope, resolved[0][0], whole, summary)
        return summary

    try:
        summary = await run_in_threadpool(run_adx if fmt == "adx" else run_all)
    except Dhis2Error as error:
        # a malformed body, or options the set gives that are refused: answered once the client
        # has sent it all
        if error.status in (400, 409):
            await body.drain()
        raise
    await body.drain()
    summary.options = options
    return summary
