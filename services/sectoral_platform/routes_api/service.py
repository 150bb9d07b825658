"""Route metadata: DHIS2's validation, authorities and sharing; secrets sealed, never shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.fernet import Fernet
from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY, CurrentUser
from services.sectoral_platform.dhis2.sealing import open_sealed
from services.sectoral_platform.dhis2.uid import generate_uid, is_valid_uid
from services.sectoral_platform.errors import (
    Dhis2Error,
    bad_request,
    conflict,
    not_found,
    web_message,
)
from services.sectoral_platform.routes_api import targets
from services.sectoral_platform.routes_api.models import RouteRow

PUBLIC_ADD, PRIVATE_ADD, DELETE = "F_ROUTE_PUBLIC_ADD", "F_ROUTE_PRIVATE_ADD", "F_ROUTE_DELETE"
KLASS = "org.hisp.dhis.route.Route"
# auth type -> (fields shown, secret fields)
AUTH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "http-basic": (("username",), ("password",)),
    "api-token": ((), ("token",)),
    "api-headers": ((), ("headers",)),
    "api-query-params": ((), ("queryParams",)),
}
FIELDS = {
    *("id", "code", "name", "description", "disabled", "url", "headers", "auth"),
    *("authorities", "responseTimeoutSeconds", "sharing", "publicAccess"),
}
READ_ONLY = {
    *("created", "lastUpdated", "createdBy", "lastUpdatedBy", "href", "displayName", "access"),
    *("favorite", "favorites", "translations", "attributeValues", "user"),
}


@dataclass
class Route:
    row: RouteRow

    @property
    def authorities(self) -> list[str]:
        value: list[str] = orjson.loads(self.row.authorities)
        return value

    @property
    def headers(self) -> dict[str, str]:
        value: dict[str, str] = orjson.loads(self.row.headers)
        return value

    def secrets(self, box: Fernet) -> dict[str, Any]:
        shown: dict[str, Any] = orjson.loads(self.row.auth_shown)
        if self.row.auth_sealed is None:
            return shown
        plain = open_sealed(box, self.row.auth_sealed)
        if plain is None:
            raise Dhis2Error("An error occurred during authentication", status_code=502)
        return {**shown, **orjson.loads(plain)}

    def can_read(self, user: CurrentUser) -> bool:
        public = self.row.public_access[:1] == "r"
        return SUPERUSER_AUTHORITY in user.authorities or public or self.row.owner == user.uid

    def can_write(self, user: CurrentUser) -> bool:
        public = self.row.public_access[:2] == "rw"
        return SUPERUSER_AUTHORITY in user.authorities or public or self.row.owner == user.uid

    def may_run(self, user: CurrentUser) -> bool:
        """DHIS2: read access to the route, or one of the route's own `authorities`."""
        return self.can_read(user) or bool(set(self.authorities) & user.authorities)

    def view(self) -> dict[str, Any]:
        row = self.row
        auth = {"type": row.auth_type, **orjson.loads(row.auth_shown)} if row.auth_type else None
        body = {
            "id": row.uid, "code": row.code, "name": row.name, "displayName": row.name,
            "description": row.description, "disabled": row.disabled, "url": row.url,
            "headers": self.headers, "auth": auth, "authorities": self.authorities,
            "responseTimeoutSeconds": row.timeout, "created": row.created,
            "lastUpdated": row.last_updated, "createdBy": {"id": row.owner},
            "sharing": {"owner": row.owner, "external": False, "public": row.public_access,
                        "users": {}, "userGroups": {}},
        }  # fmt: skip
        return {k: v for k, v in body.items() if v is not None}


def object_report(status: int, uid: str) -> dict[str, Any]:
    report = {"responseType": "ObjectReport", "uid": uid, "klass": KLASS, "errorReports": []}
    return web_message(status, None, response=report)


def find(session: Session, ident: str) -> Route | None:
    """By UID or by code, as DHIS2 looks routes up."""
    either = or_(col(RouteRow.uid) == ident, col(RouteRow.code) == ident)
    found = session.exec(select(RouteRow).where(either)).first()
    return None if found is None else Route(found)


def lookup(engine: Engine, ident: str) -> Route | None:
    with Session(engine) as session:
        return find(session, ident)


def readable(engine: Engine, user: CurrentUser) -> list[Route]:
    with Session(engine) as session:
        rows = session.exec(select(RouteRow).order_by(col(RouteRow.name), col(RouteRow.uid))).all()
    return [route for route in map(Route, rows) if route.can_read(user)]


def get(engine: Engine, user: CurrentUser, ident: str) -> Route:
    with Session(engine) as session:
        route = find(session, ident)
    if route is None or not route.can_read(user):
        raise not_found(f"Route with id {ident} could not be found.")
    return route


def save(
    engine: Engine, box: Fernet, user: CurrentUser, body: Any, allowed: list[str],
    uid: str | None = None,
) -> tuple[str, bool]:  # fmt: skip
    """Create (uid None) or replace a route; (uid, created)."""
    if not (user.has(PUBLIC_ADD) or user.has(PRIVATE_ADD)):
        user.require(PUBLIC_ADD)
    spec = _validated(body, allowed)
    if spec["public"][:1] == "r" and not user.has(PUBLIC_ADD):
        user.require(PUBLIC_ADD)
    with Session(engine) as session:
        existing = session.get(RouteRow, uid) if uid else None
        if uid is not None and existing is None:
            raise not_found(f"Route with id {uid} could not be found.")
        if existing is not None and not Route(existing).can_write(user):
            raise Dhis2Error("You don't have write access to this route.", status_code=403)
        new_uid = uid or body.get("id") or generate_uid()
        if not is_valid_uid(new_uid):
            raise conflict(f"Invalid UID `{new_uid}` for property `id`", "E4014")
        if existing is None and session.get(RouteRow, new_uid) is not None:
            raise conflict(f"Route with id {new_uid} already exists")
        clash = session.exec(select(RouteRow).where(RouteRow.code == spec["code"])).first()
        if spec["code"] is not None and clash is not None and clash.uid != new_uid:
            message = f"Property `code` with value `{spec['code']}` on object {spec['name']}"
            raise conflict(f"{message} already exists on object {clash.uid}", "E5003")
        row = existing or RouteRow(uid=new_uid, name="", url="", owner=user.uid,
                                   created=dhis2_timestamp(), last_updated="")  # fmt: skip
        _apply(row, spec, box, Route(existing) if existing else None)
        session.add(row)
        session.commit()
    return new_uid, existing is None


def delete(engine: Engine, user: CurrentUser, uid: str) -> None:
    user.require(DELETE)
    with Session(engine) as session:
        row = session.get(RouteRow, uid)
        if row is None or not Route(row).can_read(user):
            raise not_found(f"Route with id {uid} could not be found.")
        if not Route(row).can_write(user):
            raise Dhis2Error("You don't have write access to this route.", status_code=403)
        session.delete(row)
        session.commit()


def _validated(body: Any, allowed: list[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("A route must be a JSON object")
    for name in body:
        if name not in FIELDS | READ_ONLY:
            raise conflict(f"Route property `{name}` is not supported by the sandbox")
    name, url = body.get("name"), body.get("url")
    for prop, value in (("name", name), ("url", url)):
        if not isinstance(value, str) or not value.strip():
            raise conflict(f"Missing required property `{prop}`.", "E4000")
    assert isinstance(url, str)
    problem = targets.url_problem(url)
    if problem:
        raise conflict(problem)
    if not targets.permitted(url, allowed):
        listed = ", ".join(allowed) or "empty"
        raise conflict(
            "Route URL is not permitted: only loopback, the mediator and "
            f"ROUTE_REMOTE_SERVERS_ALLOWED ({listed})"
        )
    timeout = body.get("responseTimeoutSeconds", 5)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 60:
        raise conflict("Route response timeout must be greater than 0 seconds and less than or "
                       "equal to 60 seconds")  # fmt: skip
    return {
        "name": name, "url": url, "timeout": timeout,
        "code": _optional_text(body, "code"), "description": _optional_text(body, "description"),
        "disabled": bool(body.get("disabled", False)),
        "headers": _text_map(body.get("headers") or {}, "headers"),
        "authorities": _text_list(body.get("authorities") or [], "authorities"),
        "auth": _auth(body.get("auth")), "public": _public(body),
    }  # fmt: skip


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise conflict(f"Route property `{name}` must be a string")
    return value


def _text_map(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise conflict(f"Route property `{name}` must map names to strings")
    return value


def _text_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise conflict(f"Route property `{name}` must be a list of names")
    return value


def _auth(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in AUTH:
        raise conflict(f"Route auth type `{kind}` is not supported (supported: {', '.join(AUTH)})")
    shown, secret = AUTH[kind]
    for field in (*shown, *secret):
        if field not in value:
            continue
        if field in ("headers", "queryParams"):
            _text_map(value[field], f"auth.{field}")
        elif not isinstance(value[field], str):
            raise conflict(f"Route property `auth.{field}` must be a string")
    return {k: v for k, v in value.items() if k in ("type", *shown, *secret)}


def _public(body: dict[str, Any]) -> str:
    sharing = body.get("sharing") or {}
    if sharing.get("userGroups") or sharing.get("users"):
        raise conflict("Route sharing with users or user groups is not supported by the sandbox")
    value = sharing.get("public", body.get("publicAccess", "--------"))
    if not isinstance(value, str) or len(value) != 8:
        raise conflict("Route property `sharing.public` must be an access string like `r-------`")
    return value


def _apply(row: RouteRow, spec: dict[str, Any], box: Fernet, previous: Route | None) -> None:
    row.name, row.url, row.timeout = spec["name"], spec["url"], spec["timeout"]
    row.code, row.description, row.disabled = spec["code"], spec["description"], spec["disabled"]
    row.headers, row.public_access = orjson.dumps(spec["headers"]).decode(), spec["public"]
    row.authorities = orjson.dumps(spec["authorities"]).decode()
    row.last_updated = dhis2_timestamp()
    auth = spec["auth"]
    if auth is None:
        row.auth_type, row.auth_shown, row.auth_sealed = None, "{}", None
        return
    shown_fields, secret_fields = AUTH[auth["type"]]
    secret = {k: auth[k] for k in secret_fields if k in auth}
    if not secret and previous is not None and previous.row.auth_type == auth["type"]:
        secret = {k: v for k, v in previous.secrets(box).items() if k in secret_fields}
    missing = [k for k in (*shown_fields, *secret_fields) if k not in {**auth, **secret}]
    if missing:
        raise conflict(f"Route auth `{auth['type']}` needs `{'`, `'.join(missing)}`")
    row.auth_type = auth["type"]
    row.auth_shown = orjson.dumps({k: auth[k] for k in shown_fields}).decode()
    row.auth_sealed = box.encrypt(orjson.dumps(secret)).decode()
