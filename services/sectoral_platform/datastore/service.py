"""dataStore operations with DHIS2's semantics: protected namespaces, JSON validation, messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.fernet import Fernet
from sqlalchemy import Engine, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY, CurrentUser
from services.sectoral_platform.datastore import query as q
from services.sectoral_platform.datastore.models import DatastoreEntry, NamespaceProtection
from services.sectoral_platform.dhis2.sealing import open_sealed
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import Dhis2Error, bad_request, conflict, not_found

JSON_ERRORS = (orjson.JSONDecodeError, UnicodeDecodeError)


@dataclass(frozen=True)
class Store:
    """One dataStore: the shared one (owner "") or one user's userDataStore."""

    engine: Engine
    box: Fernet
    owner: str
    user: CurrentUser
    protected: bool  # the shared store honours namespace protection; a user's own does not

    def _guard(self, session: Session, namespace: str) -> None:
        if not self.protected:
            return
        row = session.get(NamespaceProtection, namespace)
        if row is None or SUPERUSER_AUTHORITY in self.user.authorities:
            return
        if not set(orjson.loads(row.authorities)) & self.user.authorities:
            message = f"Namespace '{namespace}' is protected, access denied"
            raise Dhis2Error(message, status_code=403)

    def _entry(self, session: Session, namespace: str, key: str) -> DatastoreEntry | None:
        query = select(DatastoreEntry).where(
            DatastoreEntry.owner == self.owner,
            DatastoreEntry.namespace == namespace,
            DatastoreEntry.key == key,
        )
        return session.exec(query).first()

    def _existing(self, session: Session, namespace: str, key: str) -> DatastoreEntry:
        self._guard(session, namespace)
        entry = self._entry(session, namespace, key)
        if entry is None:
            raise not_found(f"Key '{key}' not found in namespace '{namespace}'", None)
        return entry

    def namespaces(self) -> list[str]:
        with Session(self.engine) as session:
            query = select(DatastoreEntry.namespace).where(DatastoreEntry.owner == self.owner)
            return sorted(set(session.exec(query.distinct()).all()))

    def keys(self, namespace: str, last_updated: str | None = None) -> list[str]:
        with Session(self.engine) as session:
            self._guard(session, namespace)
            query = select(DatastoreEntry.key).where(
                DatastoreEntry.owner == self.owner, DatastoreEntry.namespace == namespace
            )
            used = bool(session.exec(query.limit(1)).first())
            if last_updated:
                query = query.where(DatastoreEntry.last_updated >= last_updated)
            keys = sorted(session.exec(query).all())
        if not keys and not used:
            raise not_found(f"Namespace not found: '{namespace}'", None)
        return keys

    def values(self, namespace: str) -> list[tuple[str, Any]]:
        """Every (key, value) of the namespace; encrypted values are not queryable (null)."""
        with Session(self.engine) as session:
            self._guard(session, namespace)
            query = select(DatastoreEntry.key, DatastoreEntry.value).where(
                DatastoreEntry.owner == self.owner, DatastoreEntry.namespace == namespace
            )
            rows = session.exec(query).all()
        return [(key, None if raw is None else orjson.loads(raw)) for key, raw in rows]

    def value(self, namespace: str, key: str) -> bytes:
        with Session(self.engine) as session:
            entry = self._existing(session, namespace, key)
        if entry.sealed is not None:
            plain = open_sealed(self.box, entry.sealed)
            if plain is None:
                raise Dhis2Error(f"Value of key '{key}' cannot be decrypted", status_code=500)
            return plain.encode()
        return (entry.value or "null").encode()

    def metadata(self, namespace: str, key: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            entry = self._existing(session, namespace, key)
        return {
            "id": entry.uid,
            "created": entry.created,
            "lastUpdated": entry.last_updated,
            "createdBy": {"id": entry.created_by},
            "lastUpdatedBy": {"id": entry.last_updated_by},
            "user": {"id": entry.owner or entry.created_by},
            "namespace": entry.namespace,
            "key": entry.key,
            "encrypted": entry.sealed is not None,
            "sharing": {"owner": entry.created_by, "external": False, "users": {},
                        "userGroups": {}, "public": "rw------"},
            "access": {"manage": True, "externalize": False, "write": True, "read": True,
                       "update": True, "delete": True},
        }  # fmt: skip

    def create(self, namespace: str, key: str, body: bytes, encrypt: bool) -> None:
        text = valid_json(key, body)
        with Session(self.engine) as session:
            self._guard(session, namespace)
            if self._entry(session, namespace, key) is not None:
                raise conflict(f"Key '{key}' already exists in namespace '{namespace}'")
            now = dhis2_timestamp()
            uid = self.user.uid
            session.add(
                DatastoreEntry(
                    uid=generate_uid(), owner=self.owner, namespace=namespace, key=key,
                    value=None if encrypt else text,
                    sealed=self.box.encrypt(text.encode()).decode() if encrypt else None,
                    created=now, last_updated=now, created_by=uid, last_updated_by=uid,
                )
            )  # fmt: skip
            try:
                session.commit()
            except IntegrityError as exc:  # a concurrent create of the same key won
                raise conflict(f"Key '{key}' already exists in namespace '{namespace}'") from exc

    def update(self, namespace: str, key: str, body: bytes) -> None:
        text = valid_json(key, body)
        with Session(self.engine) as session:
            entry = self._existing(session, namespace, key)
            if entry.sealed is not None:
                entry.sealed = self.box.encrypt(text.encode()).decode()
            else:
                entry.value = text
            entry.last_updated = dhis2_timestamp()
            entry.last_updated_by = self.user.uid
            session.add(entry)
            session.commit()

    def exists(self, namespace: str, key: str) -> bool:
        with Session(self.engine) as session:
            self._guard(session, namespace)
            return self._entry(session, namespace, key) is not None

    def delete_key(self, namespace: str, key: str) -> None:
        with Session(self.engine) as session:
            session.delete(self._existing(session, namespace, key))
            session.commit()

    def delete_namespace(self, namespace: str) -> None:
        with Session(self.engine) as session:
            self._guard(session, namespace)
            where = (
                col(DatastoreEntry.owner) == self.owner,
                col(DatastoreEntry.namespace) == namespace,
            )
            count = session.exec(select(func.count()).select_from(DatastoreEntry).where(*where))
            if not count.one():
                raise not_found(f"Namespace not found: '{namespace}'", None)
            session.execute(delete(DatastoreEntry).where(*where))
            session.commit()


def valid_json(key: str, body: bytes) -> str:
    """The value as compact JSON text; anything that does not parse is a 400."""
    try:
        return orjson.dumps(orjson.loads(body)).decode()
    except JSON_ERRORS as exc:
        raise bad_request(f"Invalid JSON value for key '{key}'") from exc


@dataclass(frozen=True)
class EntryQuery:
    fields: list[q.Field]
    filters: list[q.Filter]
    junction_and: bool
    include_all: bool
    order_path: tuple[str, ...] | None
    order_label: str
    direction: str


def run_query(rows: list[tuple[str, Any]], query: EntryQuery) -> list[dict[str, Any]]:
    """Filter (ANDed unless `rootJunction=OR`), sort, then extract the fields of each entry."""
    if query.filters:
        combine = all if query.junction_and else any
        rows = [(k, v) for k, v in rows if combine(q.matches(k, v, f) for f in query.filters)]
    rows = q.sort_entries(rows, query.order_path, query.direction, query.order_label)
    picked = (q.extract(k, v, query.fields, query.include_all) for k, v in rows)
    return [entry for entry in picked if entry is not None]
