"""An in-memory snapshot of members, keys, services and rights: the hot path never queries."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2
from sqlmodel import Session, select

from services.interop_layer.catalogue.models import ServiceEntry
from services.interop_layer.members.models import ClientKey, Subsystem
from services.interop_layer.rights.models import AccessRight
from services.kernel.credentials import client_key, same_secret
from services.kernel.topology import service_url

log = logging.getLogger("dpi.interop.directory")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


SEEN_PATHS = 4096  # remembered endpoint matches per service and for the rights
SEEN_PATH_LENGTH = 256  # longer paths are matched every time
_TOKEN = re.compile(r"\*|\{[A-Za-z_][A-Za-z0-9_]*\}")


def path_regex(path: str) -> str:
    """`*` matches anything (`/` included), `{name}` exactly one non-empty segment."""
    parts, pos = [], 0
    for token in _TOKEN.finditer(path):
        parts.append(re.escape(path[pos : token.start()]))
        parts.append(".*" if token.group() == "*" else "[^/]+")
        pos = token.end()
    parts.append(re.escape(path[pos:]))
    return "^" + "".join(parts) + "$"


@dataclass(frozen=True, slots=True)
class EndpointRule:
    """`method` (or `*`) and a path: exact, with `{name}` segments, or with `*` wildcards."""

    method: str
    path: str
    pattern: Any  # RE2: a glob with several `*` must not backtrack over a caller's long path

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> EndpointRule:
        method = str(raw.get("method") or "*").upper()
        path = str(raw.get("path") or "/*")
        return cls(method, path, re2.compile(path_regex(path)))

    @property
    def wildcard(self) -> bool:
        """Matches an open set of paths or methods (never allowed on a consent-gated service)."""
        return self.method == "*" or "*" in self.path

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.pattern.match(path or "/") is not None

    def public(self) -> dict[str, str]:
        return {"method": self.method, "path": self.path}


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """A catalogue service with its upstream URL resolved."""

    id: str
    provider: str
    service_code: str
    service_type: str
    url: str | None
    openapi_url: str | None
    consent_required: bool
    data_categories: tuple[str, ...]
    endpoints: tuple[EndpointRule, ...]
    timeout: float | None
    path_prefix: str = ""  # the service's path on the provider
    # (method, path) -> offered: the same few paths come on every call; bounded, per snapshot
    _seen: dict[tuple[str, ...], bool] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def offers(self, method: str, path: str) -> bool:
        key = (method, path)
        seen = self._seen.get(key)
        if seen is None:
            seen = any(rule.matches(method, path) for rule in self.endpoints)
            _remember(self._seen, key, seen)
        return seen


def resolve_base(entry: ServiceEntry) -> str | None:
    """The upstream base URL: explicit, else the topology service's URL now."""
    if entry.base_url:
        return entry.base_url.rstrip("/")
    if entry.upstream:
        try:
            return service_url(entry.upstream)
        except KeyError:
            return None
    return None


def target_of(entry: ServiceEntry) -> ServiceTarget:
    base = resolve_base(entry)
    url = None if base is None else base + entry.path_prefix.rstrip("/")
    openapi = None
    if base is not None and entry.openapi_path:
        openapi = base + entry.openapi_path
    return ServiceTarget(
        id=entry.id,
        provider=entry.provider,
        service_code=entry.service_code,
        service_type=entry.service_type,
        url=url,
        openapi_url=openapi,
        consent_required=entry.consent_required,
        data_categories=tuple(entry.data_categories),
        endpoints=_offered(entry),
        timeout=entry.timeout,
        path_prefix=entry.path_prefix.rstrip("/"),
    )


def _offered(entry: ServiceEntry) -> tuple[EndpointRule, ...]:
    """The service's endpoints; a consent-gated one never offers wildcards (deny by default)."""
    rules = tuple(EndpointRule.of(raw) for raw in entry.endpoints)
    if not entry.consent_required:
        return rules
    kept = tuple(rule for rule in rules if not rule.wildcard)
    if len(kept) < len(rules):
        log.error(
            "consent-gated service %s: wildcard endpoints ignored (offers only %s)",
            entry.id,
            [rule.public() for rule in kept],
        )
    return kept


@dataclass
class Directory:
    subsystems: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    services: dict[tuple[str, str], ServiceTarget] = field(default_factory=dict)
    rights: dict[tuple[str, str, str], tuple[EndpointRule, ...]] = field(default_factory=dict)
    secret: str = field(default="", repr=False)

    def authenticate(self, key: str | None) -> str | None:
        """The subsystem a client key belongs to, or None."""
        if not key:
            return None
        return self.keys.get(key_hash(key))

    def is_derived_key(self, client: str, key: str) -> bool:
        """The key is the sandbox's derived key of `client` (registered or not)."""
        return same_secret(key, client_key(client, self.secret))

    def service(self, provider: str, code: str) -> ServiceTarget | None:
        return self.services.get((provider, code))

    def services_of(self, provider: str) -> list[ServiceTarget]:
        return [t for (p, _), t in sorted(self.services.items()) if p == provider]

    def grant(self, client: str, provider: str, code: str) -> tuple[EndpointRule, ...] | None:
        """The endpoints granted (empty tuple = the whole service), or None when not granted."""
        return self.rights.get((client, provider, code))

    _seen: dict[tuple[str, ...], bool] = field(default_factory=dict, repr=False)

    def allowed(self, client: str, provider: str, code: str, method: str, path: str) -> bool:
        rules = self.grant(client, provider, code)
        if rules is None:
            return False
        if not rules:
            return True
        key = (client, provider, code, method, path)
        seen = self._seen.get(key)
        if seen is None:
            seen = any(rule.matches(method, path) for rule in rules)
            _remember(self._seen, key, seen)
        return seen


def _remember(seen: dict[Any, bool], key: tuple[str, ...], value: bool) -> None:
    if len(key[-1]) > SEEN_PATH_LENGTH:
        return
    if len(seen) >= SEEN_PATHS:
        seen.clear()
    seen[key] = value


def build_directory(session: Session, *, secret: str) -> Directory:
    """Read everything the hot path needs, once."""
    directory = Directory(secret=secret)
    for subsystem in session.exec(select(Subsystem)):
        directory.subsystems[subsystem.id] = subsystem.name
        directory.keys[key_hash(client_key(subsystem.id, secret))] = subsystem.id
        # a member with a registered subsystem may call as itself, with its own member key
        member = subsystem.id.rsplit("/", 1)[0]
        directory.keys[key_hash(client_key(member, secret))] = member
    issued: Iterable[ClientKey] = session.exec(
        select(ClientKey).where(ClientKey.revoked_at == None)  # noqa: E711
    )
    for key in issued:
        directory.keys[key.key_hash] = key.subsystem_id
    for entry in session.exec(select(ServiceEntry)):
        directory.services[(entry.provider, entry.service_code)] = target_of(entry)
    for right in session.exec(select(AccessRight)):
        rules = tuple(EndpointRule.of(raw) for raw in right.endpoints)
        directory.rights[(right.client, right.provider, right.service_code)] = rules
    return directory
