"""The service path a request names, normalised, or refused when it is ambiguous.

Endpoint rules are matched against the decoded path while the provider gets the raw one, so the
two must have the same structure. As Jetty (X-Road's server) does by default, a path that a
provider could read differently is refused rather than rewritten: dot segments (raw or encoded),
empty segments (`//`), encoded `/`, `\\`, `%`, `?`, `#`, `;` path parameters, backslashes and
control characters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

from services.interop_layer.errors import BadRequest

_ENCODED_AMBIGUOUS = re.compile(rb"%(2[eEfF3]|5[cC]|25|3[bBfF]|[01][0-9a-fA-F]|7[fF])")
_RAW_AMBIGUOUS = re.compile(rb"[\\;\x00-\x20\x7f-\xff]")
_BAD_ESCAPE = re.compile(rb"%(?![0-9a-fA-F]{2})")


class AmbiguousPath(BadRequest):
    """A service path that is not in normal form (the X-Road error type `Client.BadRequest`)."""


def check_service_id(raw_path: bytes, params: list[str]) -> None:
    """The raw `/r1/I/C/M/S/CODE` must name the service the decoded path names (an encoded `/`
    in it would shift what is matched against what is forwarded)."""
    parts = raw_path.split(b"/", 7)[2:7]
    if [unquote(part.decode("latin-1")) for part in parts] != params:
        raise AmbiguousPath("The service identifier is not normalised (an encoded '/' in it).")


@lru_cache(maxsize=1024)  # the same paths arrive again and again; refusals are not kept
def service_path(raw: bytes) -> str:
    """The decoded path after the service code (`/` when empty); raises `AmbiguousPath`."""
    if not raw:
        return "/"
    if _BAD_ESCAPE.search(raw):
        raise AmbiguousPath("The service path has a malformed percent-escape.")
    found = _ENCODED_AMBIGUOUS.search(raw)
    if found is not None:
        raise AmbiguousPath(
            f"The service path is not normalised: encoded {found.group(0).decode()} is not "
            "allowed (encoded '.', '/', '\\', '%', '?', '#', ';' or control characters)."
        )
    if _RAW_AMBIGUOUS.search(raw):
        raise AmbiguousPath(
            "The service path is not normalised: ';' path parameters, backslashes, control and "
            "raw non-ASCII characters are not allowed."
        )
    try:
        path = unquote(raw.decode("ascii"), encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise AmbiguousPath("The service path does not decode as UTF-8.") from exc
    segments = path.split("/")[1:]
    if any(segment in (".", "..") for segment in segments):
        raise AmbiguousPath("Dot segments ('.', '..') are not allowed in a service path.")
    if path != "/" and "" in segments[:-1]:
        raise AmbiguousPath("The service path is not normalised: empty segments ('//').")
    return path
