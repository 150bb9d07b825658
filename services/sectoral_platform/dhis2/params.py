"""Query parameters an endpoint does not implement are refused, naming them, not ignored."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import QueryParams

from services.sectoral_platform.errors import NOT_IMPLEMENTED, bad_request

# parameters every DHIS2 endpoint tolerates (cache busting, path form variants)
TOLERATED = frozenset({"_", "v"})


def refuse_unknown(params: QueryParams, supported: Iterable[str]) -> None:
    """400 WebMessage naming the first parameter this sandbox endpoint does not implement."""
    known = TOLERATED | set(supported)
    for name in params:
        if name not in known:
            raise bad_request(
                f"Query parameter `{name}` is not supported by this endpoint of the sandbox "
                f"(supported: {', '.join(sorted(known - TOLERATED)) or 'none'})",
                NOT_IMPLEMENTED,
            )


def int_param(params: QueryParams, name: str, default: int, minimum: int = 1) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"Query parameter `{name}` must be an integer: `{raw}`") from exc
    if value < minimum:
        raise bad_request(f"Query parameter `{name}` must be at least {minimum}: `{raw}`")
    return value
