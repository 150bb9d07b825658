"""Where a route may point: loopback and the information mediator by default, other origins only
when `ROUTE_REMOTE_SERVERS_ALLOWED` lists them (DHIS2's `route.remote_servers_allowed`)."""

from __future__ import annotations

import fnmatch
import ipaddress
from urllib.parse import unquote, urlsplit

from services.kernel.topology import service_url

MEDIATOR_SCHEME = "mediator:"  # sandbox shorthand: the information mediator, wherever it runs
WILDCARD = "/**"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


def mediator_origin() -> str:
    return origin(service_url("interop_layer"))


def mediator_path(url: str) -> str | None:
    """The path on the mediator when the route targets it (by shorthand or by its URL)."""
    if url.startswith(MEDIATOR_SCHEME):
        return "/" + url[len(MEDIATOR_SCHEME) :].lstrip("/")
    if origin(url) == mediator_origin():
        parts = urlsplit(url)
        return parts.path or "/"
    return None


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why a route URL cannot be stored, or None."""
    path = url[len(MEDIATOR_SCHEME) :] if url.startswith(MEDIATOR_SCHEME) else urlsplit(url).path
    if any(part in (".", "..") for part in unquote(path).replace("\\", "/").split("/")):
        return "Route URL must not contain `.` or `..` segments"
    if url.startswith(MEDIATOR_SCHEME):
        rest = url[len(MEDIATOR_SCHEME) :]
        return None if rest.startswith("/r1/") else "A mediator route must name `/r1/...`"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "Route URL scheme must be either http or https"
    if not parts.hostname:
        return "Malformed route URL"
    if parts.username or parts.password:
        return "Route URL must not carry credentials: use `auth`"
    if parts.query or parts.fragment:
        return "Route URL must not have a query or fragment"
    return None


def permitted(url: str, allowed: list[str]) -> bool:
    if mediator_path(url) is not None:
        return True
    if is_loopback(urlsplit(url).hostname):
        return True
    here = origin(url)
    return any(fnmatch.fnmatchcase(here, glob.lower().rstrip("/")) for glob in allowed)


def base_of(url: str) -> str:
    return url[: -len(WILDCARD)] if url.endswith(WILDCARD) else url
