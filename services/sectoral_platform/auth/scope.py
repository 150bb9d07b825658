"""A user's data scope, as DHIS2 defines it: the one place every data read and write asks.

- capture: `organisationUnits` (data entry, tracker writes, `orgUnitMode=CAPTURE`);
- view: `dataViewOrganisationUnits`, else capture (aggregate reads, analytics);
- search: `teiSearchOrganisationUnits` together with capture (DHIS2's "effective search org
  units": tracker reads).

Each scope covers its roots and everything below them. The superuser (`ALL`) is not limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement

from services.sectoral_platform.auth.service import (
    SUPERUSER_AUTHORITY,
    CurrentUser,
)
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.metadata.store import MetadataStore

SEARCH_ALL_AUTHORITY = "F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS"


class Kind(Enum):
    CAPTURE = "capture"
    VIEW = "view"
    SEARCH = "search"


@dataclass(frozen=True)
class Scope:
    """The caller and the org unit roots of each of its three scopes."""

    user: CurrentUser
    store: MetadataStore

    @property
    def superuser(self) -> bool:
        return SUPERUSER_AUTHORITY in self.user.authorities

    @property
    def username(self) -> str:
        return self.user.username

    def roots(self, kind: Kind) -> list[str]:
        if kind is Kind.CAPTURE:
            return list(self.user.capture)
        if kind is Kind.VIEW:
            return list(self.user.view or self.user.capture)
        return list(dict.fromkeys([*self.user.search, *self.user.capture]))

    def covers(self, kind: Kind, org_unit: str) -> bool:
        """Whether `org_unit` exists and lies at or below one of the scope's roots."""
        path = self.store.path(org_unit)
        if path is None:
            return False
        if self.superuser:
            return True
        return self.covers_path(kind, path)

    def covers_path(self, kind: Kind, path: str | None) -> bool:
        return self.superuser or in_hierarchy(path, self.roots(kind))

    def condition(self, kind: Kind, column_path: Any) -> ColumnElement[bool] | None:
        """A SQL condition on a stored org unit path column; None when nothing is excluded."""
        if self.superuser:
            return None
        paths = [p for p in (self.store.path(r) for r in self.roots(kind)) if p]
        if not paths:
            return false()
        return or_(*[or_(column_path == p, column_path.like(p + "/%")) for p in paths])

    # ---- DHIS2's refusals, one per API family ----
    def require_view(self, org_unit: str) -> None:
        """Aggregate data reads (`/api/dataValueSets`, `/api/dataValues`): 409 E2012."""
        if not self.covers(Kind.VIEW, org_unit):
            raise Dhis2Error(
                f"User is not allowed to view org unit: `{org_unit}`",
                status_code=409,
                error_code="E2012",
            )

    def require_analytics(self, org_unit: str) -> None:
        """Analytics: 409 E7120."""
        if not self.covers(Kind.VIEW, org_unit):
            raise Dhis2Error(
                f"User: `{self.username}` is not allowed to view org unit: `{org_unit}`",
                status_code=409,
                error_code="E7120",
            )

    def require_search(self, org_unit: str) -> None:
        """Tracker reads naming org units (`SELECTED`, `CHILDREN`, `DESCENDANTS`): 403."""
        if not self.covers(Kind.SEARCH, org_unit):
            raise forbidden(f"Organisation unit is not part of the search scope: {org_unit}")

    def require_search_all(self) -> None:
        """`orgUnitMode=ALL` needs the authority (the superuser has every authority)."""
        if not self.user.has(SEARCH_ALL_AUTHORITY):
            raise forbidden("User is not authorized to query across all organisation units")

    def require_any(self, kind: Kind) -> None:
        """`ACCESSIBLE` needs a search or capture scope, `CAPTURE` a capture scope."""
        if self.superuser or self.roots(kind):
            return
        if kind is Kind.CAPTURE:
            raise forbidden("User needs to be assigned data capture org units")
        raise forbidden("User needs to be assigned either search or data capture org units")

    def view_roots_or_top(self) -> list[str]:
        """Where analytics start when no org unit is named: the view roots (the top units for a
        superuser without any)."""
        roots = self.roots(Kind.VIEW)
        if roots or not self.superuser:
            return roots
        return [u["id"] for u in self.store.all("organisationUnits") if not u.get("parent")]

    def capture_limit(self) -> list[str] | None:
        """Capture roots a write must fall under; None: no limit (superuser)."""
        return None if self.superuser else self.roots(Kind.CAPTURE)


def in_hierarchy(path: str | None, roots: list[str]) -> bool:
    """Whether a stored org unit path (`/a/b/c`) passes through one of `roots`."""
    if not path:
        return False
    segments = set(path.strip("/").split("/"))
    return any(root in segments for root in roots)


def forbidden(message: str) -> Dhis2Error:
    return Dhis2Error(message, status_code=403)


def scope_of(user: CurrentUser, store: MetadataStore) -> Scope:
    return Scope(user, store)
