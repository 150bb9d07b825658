"""A CSV, DXF2 XML, ADX or JSON (`jsonset.py`) data value set imported as it arrives: values
parsed from the request stream and written in batches of `BATCH`, each batch in its own
transaction. DHIS2's data value import is not atomic either: a malformed line (or element) ends
the import with an ImportSummary naming it, and the batches imported before it stay."""

from __future__ import annotations

import codecs
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from itertools import chain
from typing import Any

from anyio import from_thread

from services.kernel.limits import STREAMED_BODY_LIMIT, MiB
from services.sectoral_platform.aggregate.overlap import Inline, Overlapped, Write
from services.sectoral_platform.aggregate.summary import (
    ImportOptions,
    ImportSummary,
    format_error,
    merge,
)
from services.sectoral_platform.aggregate.xmlsafe import Element, ElementParser, FormatError
from services.sectoral_platform.errors import Dhis2Error

BATCH = 10_000
INFLATE_STEP = 1 * MiB  # the most one gzip chunk inflates to at a time
MAX_LINE = 1 * MiB

Importer = Callable[[dict[str, Any]], ImportSummary]
Checker = Callable[[dict[str, Any]], Write]  # checks a batch, gives what writes it


class BodyStream:
    """The request body as text lines, pulled from the event loop by the importing thread."""

    def __init__(self, chunks: AsyncIterator[bytes], gzipped: bool) -> None:
        self._chunks = chunks
        self._gzipped = gzipped
        self._done = False
        self.inflated = False  # the kernel's JSON depth check saw the gzip bytes, not these

    async def _next(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            self._done = True
            return None

    async def drain(self) -> None:
        """Read what a failed import left, so the client is answered after it finished sending."""
        while not self._done:
            await self._next()

    def _raw(self) -> Iterator[bytes]:
        while (chunk := from_thread.run(self._next)) is not None:
            if chunk:
                yield chunk

    def chunks(self) -> Iterator[bytes]:
        raw = self._raw()
        first = next(raw, b"")
        if not (self._gzipped or first[:2] == b"\x1f\x8b"):
            yield first
            yield from raw
            return
        self.inflated = True
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, detected from the header
        inflated = 0
        for data in chain((first,), raw):
            try:
                while data:
                    out = inflater.decompress(data, INFLATE_STEP)
                    inflated += len(out)
                    if inflated > STREAMED_BODY_LIMIT:
                        raise Dhis2Error(
                            f"The inflated body is larger than {STREAMED_BODY_LIMIT} bytes",
                            status_code=413,
                        )
                    yield out
                    data = inflater.unconsumed_tail
            except zlib.error as exc:
                raise FormatError(f"the gzip body could not be read: {exc}") from exc

    def lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending = ""
        seen = 0
        for chunk in self.chunks():
            try:
                pending += decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FormatError(f"CSV is not UTF-8 at byte {seen + exc.start}") from exc
            seen += len(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line + "\n"
            if len(pending) > MAX_LINE:
                raise FormatError(f"a line is longer than {MAX_LINE} characters")
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending


def xml_elements(chunks: Iterator[bytes]) -> Iterator[Element]:
    """Elements as they arrive; those before a malformed spot come first, then its error."""
    parser = ElementParser()
    for chunk in chain(chunks, (None,)):
        found, error = parser.feed_partly(chunk or b"", final=chunk is None)
        yield from found
        if error is not None:
            raise error


def import_values(
    values: Iterator[dict[str, Any]],
    head: dict[str, Any],
    *,
    options: ImportOptions,
    prepare: Callable[[dict[str, Any]], None],
    check: Checker,
    overlap: bool = False,
    unwritten: Callable[[str], Exception] | None = None,
) -> ImportSummary:
    """Runs in a worker thread; `head` holds the set's attributes once the first value came,
    `prepare` maps id schemes, `check` checks one batch and gives what writes it, which runs
    on a thread of its own while the next batch is parsed if `overlap` (`overlap.py`);
    `unwritten` makes the error raised for a malformed payload of which nothing was written
    (JSON's 400, as when it was read whole)."""
    writer = Overlapped() if overlap else Inline()
    offset = 0
    flushed = False
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal offset, batch, flushed
        body: dict[str, Any] = {**head, "dataValues": batch}
        prepare(body)
        writer.submit(check(body), offset)
        offset += len(batch)
        batch, flushed = [], True

    try:
        try:
            for item in values:
                batch.append(item)
                if len(batch) >= BATCH:
                    flush()
        except FormatError as error:
            # the batch holding the bad line is not written: a payload of fewer than BATCH
            # values writes nothing, a larger one keeps the batches imported before it
            total = writer.close()
            if total is None and unwritten is not None:
                raise unwritten(str(error)) from error
            return merge(total, format_error(options, str(error)), offset)
        if batch or not flushed:
            flush()
        total = writer.close()
    finally:
        writer.close()
    assert total is not None
    return total


def import_bodies(
    bodies: Iterator[dict[str, Any]], *, options: ImportOptions, run: Importer
) -> ImportSummary:
    """Data value sets (ADX groups) imported once they hold `BATCH` values between them; as in
    `import_values`, a malformed element drops the sets gathered with it, and nothing of a
    payload smaller than `BATCH` is written."""
    total: ImportSummary | None = None
    offset = 0
    gathered: list[dict[str, Any]] = []
    size = 0

    def flush() -> None:
        nonlocal total, offset, size
        for body in gathered:
            total = merge(total, run(body), offset)
            offset += len(body["dataValues"])
        gathered.clear()
        size = 0

    try:
        for body in bodies:
            gathered.append(body)
            size += len(body["dataValues"])
            if size >= BATCH:
                flush()
    except FormatError as error:
        return merge(total, format_error(options, str(error)), offset)
    flush()
    return total or ImportSummary(options=options)
