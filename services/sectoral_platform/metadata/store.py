"""The metadata store: rows in the database, a read model in memory for fast generic queries."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.kernel.claims import one_writer_at_a_time
from services.kernel.ids import random_hex
from services.sectoral_platform.metadata.models import MetadataObject, MetadataStamp
from services.sectoral_platform.metadata.schema import SCHEMAS

Obj = dict[str, Any]
PathListener = Callable[[Session, dict[str, str]], None]
# the claim every replica's metadata write holds until it commits (`one_writer_at_a_time`)
WRITES = "sectoral_platform-metadata-writes"


@dataclass
class Change:
    """One write: `op` is create, update or delete."""

    op: str
    type: str
    uid: str
    data: Obj | None = None


@dataclass
class _Indexes:
    inverse: dict[tuple[str, str], dict[str, list[Any]]] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)


class MetadataStore:
    """All metadata in memory (read model), written through to the database first."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.objects: dict[str, dict[str, Obj]] = {plural: {} for plural in SCHEMAS}
        self.lock = threading.RLock()
        self._indexes: _Indexes | None = None
        self.path_listeners: list[PathListener] = []
        self.delete_guards: list[Callable[[str], str | None]] = []
        self.version = 0
        self.stamp: str | None = None  # the metadata stamp this read model was loaded under
        self._writing: Session | None = None  # the transaction holding the stamp, see `writing`
        self.shared = engine.dialect.name != "sqlite"  # replicas may write it too
        # tells the other replicas after a committed write (`Invalidation.follow`)
        self.announce: Callable[[], None] = _nobody

    def load(self) -> None:
        with self.lock:  # two loads at once could publish the older one last
            with Session(self.engine) as session:
                stamp = self._stamp(session)  # first: rows written after it only make it older
                rows = session.exec(select(MetadataObject)).all()
            objects: dict[str, dict[str, Obj]] = {plural: {} for plural in SCHEMAS}
            for row in rows:
                if row.type in objects:
                    objects[row.type][row.uid] = row.data
            self.objects = objects  # swapped whole: readers take no lock
            self._indexes = None
            self.version += 1
            self.stamp = stamp

    def refresh(self) -> bool:
        """Read the metadata again if another replica changed it since; True if it did (run
        when another replica announced a write, and when the invalidation listener connects)."""
        with Session(self.engine) as session:
            current = self._stamp(session)
        if current == self.stamp:
            return False
        self.load()
        return True

    @staticmethod
    def _stamp(session: Session) -> str | None:
        query = select(MetadataStamp.stamp).where(col(MetadataStamp.id) == 1)
        return session.exec(query).first()

    @classmethod
    def _held_stamp(cls, session: Session) -> str | None:
        """The stamp, read once no other replica's metadata write is under way; the session's
        transaction then holds the metadata writes until it ends."""
        one_writer_at_a_time(session.connection(), WRITES)
        return cls._stamp(session)

    # ---- reads ----
    def get(self, type_: str, uid: str) -> Obj | None:
        return self.objects.get(type_, {}).get(uid)

    def all(self, type_: str) -> list[Obj]:
        return list(self.objects.get(type_, {}).values())

    def count(self, type_: str) -> int:
        return len(self.objects.get(type_, {}))

    def find_type(self, uid: str) -> str | None:
        for plural, objects in self.objects.items():
            if uid in objects:
                return plural
        return None

    @property
    def indexes(self) -> _Indexes:
        with self.lock:
            if self._indexes is None:
                self._indexes = self._build_indexes()
            return self._indexes

    def inverse(self, type_: str, prop: str, uid: str) -> list[Any]:
        return self.indexes.inverse.get((type_, prop), {}).get(uid, [])

    def path(self, ou_uid: str) -> str | None:
        return self.indexes.paths.get(ou_uid)

    def level(self, ou_uid: str) -> int | None:
        path = self.path(ou_uid)
        return None if path is None else path.count("/")

    def user_by_username(self, username: str) -> Obj | None:
        uid = self.indexes.usernames.get(username)
        return None if uid is None else self.get("users", uid)

    def referenced_by(self, uid: str) -> str | None:
        """What still points at `uid` (another object, or data), or None if it may go."""
        for plural, objects in self.objects.items():
            for other_uid, obj in objects.items():
                if other_uid != uid and _mentions(obj, uid):
                    return f"{SCHEMAS[plural].singular} {other_uid}"
        for guard in self.delete_guards:
            reason = guard(uid)
            if reason:
                return reason
        return None

    def descendants(self, ou_uid: str, include_self: bool = True) -> list[str]:
        root = self.path(ou_uid)
        if root is None:
            return []
        prefix = root + "/"
        found = [uid for uid, path in self.indexes.paths.items() if path.startswith(prefix)]
        return [ou_uid, *found] if include_self else found

    def _build_indexes(self) -> _Indexes:
        idx = _Indexes()
        for plural, schema in SCHEMAS.items():
            for prop in schema.props:
                if prop.kind != "inverse" or prop.source is None:
                    continue
                src_type, src_prop = prop.source
                mapping: dict[str, list[Any]] = defaultdict(list)
                for src_uid, src in self.objects.get(src_type, {}).items():
                    value = src.get(src_prop)
                    if prop.via is not None:
                        for item in value or []:
                            ref = (item.get(prop.via) or {}).get("id")
                            if ref:
                                mapping[ref].append({**item, _singular(src_type): {"id": src_uid}})
                    elif isinstance(value, dict) and value.get("id"):
                        mapping[value["id"]].append({"id": src_uid})
                    elif isinstance(value, list):
                        for ref in value:
                            if isinstance(ref, dict) and ref.get("id"):
                                mapping[ref["id"]].append({"id": src_uid})
                idx.inverse[(plural, prop.name)] = dict(mapping)
        units = self.objects.get("organisationUnits", {})
        for uid in units:
            idx.paths[uid] = _path_of(uid, units)
        for uid, user in self.objects.get("users", {}).items():
            if user.get("username"):
                idx.usernames[user["username"]] = uid
        return idx

    # ---- writes ----
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the metadata writes from validation to commit, so that replicas import one at a
        time, each validating against what the one before wrote (on SQLite, one process, the
        in-process lock is enough). Without it two replicas creating one new uid both passed
        their checks and the second insert failed on the primary key (a 500)."""
        with self.lock:
            if not self.shared or self._writing is not None:
                yield
                return
            with Session(self.engine) as session:
                if self._held_stamp(session) != self.stamp:
                    self.load()
                self._writing = session
                try:
                    yield
                finally:
                    self._writing = None

    def apply(self, changes: Iterable[Change]) -> None:
        """Write `changes` in one transaction, then publish them to the read model."""
        changes = list(changes)
        if not changes:
            return
        with self.lock:
            old_paths = dict(self.indexes.paths) if _touches_units(changes) else None
            held = self._writing  # the transaction `writing` holds, committed here
            opened: AbstractContextManager[Session] = (
                Session(self.engine) if held is None else nullcontext(held)
            )
            with opened as session:
                # metadata writes of all replicas one at a time; another's since our last read?
                current = self._held_stamp(session)
                behind, stamp = current != self.stamp, random_hex(16)
                if current is None:
                    session.execute(insert(MetadataStamp).values(id=1, stamp=stamp))
                else:
                    session.execute(update(MetadataStamp).values(stamp=stamp))
                for change in changes:
                    if change.op == "create":
                        session.execute(
                            insert(MetadataObject).values(
                                uid=change.uid, type=change.type, data=change.data
                            )
                        )
                    elif change.op == "update":
                        session.execute(
                            update(MetadataObject)
                            .where(col(MetadataObject.uid) == change.uid)
                            .values(data=change.data)
                        )
                    else:
                        session.execute(
                            delete(MetadataObject).where(col(MetadataObject.uid) == change.uid)
                        )
                moved: dict[str, str] = {}
                if old_paths is not None:
                    preview = {k: dict(v) for k, v in self.objects.items()}
                    _apply_memory(preview, changes)
                    units = preview["organisationUnits"]
                    for uid in units:
                        new_path = _path_of(uid, units)
                        if old_paths.get(uid) not in (None, new_path):
                            moved[uid] = new_path
                    for listener in self.path_listeners:
                        if moved:
                            listener(session, moved)
                session.commit()
            if behind:
                self.load()  # what the other replica wrote, and ours
            else:
                _apply_memory(self.objects, changes)
                self._indexes = None
                self.version += 1
                self.stamp = stamp
        self.announce()


def _nobody() -> None:
    return None


_AUDIT = {"createdBy", "lastUpdatedBy"}


def _mentions(value: Any, uid: str) -> bool:
    if isinstance(value, dict):
        if value.get("id") == uid and len(value) <= 2:
            return True
        return any(_mentions(v, uid) for k, v in value.items() if k not in _AUDIT and k != "id")
    if isinstance(value, list):
        return any(_mentions(v, uid) for v in value)
    return False


def _touches_units(changes: list[Change]) -> bool:
    return any(c.type == "organisationUnits" and c.op == "update" for c in changes)


def _apply_memory(objects: dict[str, dict[str, Obj]], changes: list[Change]) -> None:
    for change in changes:
        bucket = objects.setdefault(change.type, {})
        if change.op == "delete":
            bucket.pop(change.uid, None)
        else:
            assert change.data is not None
            bucket[change.uid] = change.data


def _singular(plural: str) -> str:
    return SCHEMAS[plural].singular


def _path_of(uid: str, units: dict[str, Obj]) -> str:
    chain = [uid]
    seen = {uid}
    current = units.get(uid)
    while current is not None:
        parent = (current.get("parent") or {}).get("id")
        if not parent or parent in seen or parent not in units:
            break
        chain.append(parent)
        seen.add(parent)
        current = units.get(parent)
    return "/" + "/".join(reversed(chain))
