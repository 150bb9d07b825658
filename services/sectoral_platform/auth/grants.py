"""Who may hand out which scope: DHIS2's checks on user and user role writes, so that a user
manager cannot widen anyone's org units or authorities (their own included) beyond their own."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.auth.scope import Kind, Scope, scope_of
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY, load_user
from services.sectoral_platform.metadata.store import MetadataStore

Problem = tuple[str, str, str]  # error code, message, property
SCOPE_PROPERTIES = ("organisationUnits", "dataViewOrganisationUnits", "teiSearchOrganisationUnits")


def grant_problems(
    store: MetadataStore, *, actor: str | None, plural: str, data: dict[str, Any] | None, uid: str
) -> list[Problem]:
    """What the acting user may not grant in this user or user role write (none for a superuser
    or an internal import)."""
    if actor is None or plural not in ("users", "userRoles") or store.get("users", actor) is None:
        return []  # internal imports (the seed creates its own actor)
    scope = scope_of(load_user(store, actor), store)
    if scope.superuser:
        return []
    previous = store.get(plural, uid) or {}
    if plural == "userRoles":
        return _role_write_problems(scope, data or {}, previous)
    if _is_superuser(store, previous):
        message = (
            f"User `{scope.username}` is not allowed to change a user having the ALL authority."
        )
        return [("E3041", message, "userRoles")]
    added = _added(data or {}, previous)
    return _role_problems(store, scope, actor, added) + _unit_problems(scope, added)


def _role_write_problems(
    scope: Scope, data: dict[str, Any], previous: dict[str, Any]
) -> list[Problem]:
    """No superuser role, and no authority the actor does not hold itself (stricter than DHIS2,
    where a role editor may add any authority)."""
    before = set(previous.get("authorities") or [])
    after = set(data.get("authorities") or [])
    if SUPERUSER_AUTHORITY in before | after:
        message = f"User `{scope.username}` is not allowed to create or update a superuser role."
        return [("E3032", message, "authorities")]
    missing = sorted((after - before) - scope.user.authorities)
    if not missing:
        return []
    message = (
        f"User `{scope.username}` is not allowed to grant authorities it does not hold: "
        f"`{', '.join(missing)}`."
    )
    return [("E3032", message, "authorities")]


def _added(data: dict[str, Any], previous: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The roles and org units the write grants that the user does not hold yet."""
    added: dict[str, list[dict[str, Any]]] = {}
    for prop in ("userRoles", *SCOPE_PROPERTIES):
        held = {r.get("id") for r in previous.get(prop) or []}
        added[prop] = [r for r in data.get(prop) or [] if r.get("id") not in held]
    return added


def _role_problems(
    store: MetadataStore, scope: Scope, actor: str, data: dict[str, list[dict[str, Any]]]
) -> list[Problem]:
    """DHIS2's `canIssueUserRole` (with `CAN_GRANT_OWN_USER_ROLES` off): a subset of the actor's
    authorities, and not one of the actor's own roles."""
    own = {r.get("id") for r in (store.get("users", actor) or {}).get("userRoles") or []}
    allowed = scope.user.authorities - {SUPERUSER_AUTHORITY}
    problems: list[Problem] = []
    for ref in data["userRoles"]:
        role = store.get("userRoles", ref.get("id", "")) or {}
        if ref.get("id") in own or not set(role.get("authorities") or []) <= allowed:
            name = role.get("name", ref.get("id"))
            message = (
                f"User `{scope.username}` is not allowed to grant users access to user role "
                f"`{name}`."
            )
            problems.append(("E3003", message, "userRoles"))
    return problems


def _unit_problems(scope: Scope, data: dict[str, list[dict[str, Any]]]) -> list[Problem]:
    """Every org unit of the three scopes inside the actor's capture hierarchy."""
    problems: list[Problem] = []
    for prop in SCOPE_PROPERTIES:
        for ref in data[prop]:
            ou = ref.get("id", "")
            if not scope.covers(Kind.CAPTURE, ou):
                message = (
                    f"Organisation unit: `{ou}` not in hierarchy of current user: "
                    f"`{scope.username}`"
                )
                problems.append(("E7617", message, prop))
    return problems


def _is_superuser(store: MetadataStore, user: dict[str, Any]) -> bool:
    roles = (store.get("userRoles", r.get("id", "")) or {} for r in user.get("userRoles") or [])
    return any(SUPERUSER_AUTHORITY in (role.get("authorities") or []) for role in roles)
