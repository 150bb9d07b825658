"""A pre-built seeded SQLite database, copied into a fresh data directory instead of seeding.

On only where `DPI_SEED_CACHE` names a directory (the sandbox's launcher sets it) and only for a
service that asks (`create_service_app(seed_cache=True)`) on a SQLite file. The cache is keyed by
a hash of everything seeding reads: the service's and the kernel's source, its settings (all but
where its files live and how it logs), the topology and the schema. Any change there is a miss:
the service seeds as before and the result becomes the cache for that key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from services.kernel.settings import ServiceSettings
from services.kernel.topology import topology_path

SERVICES = Path(__file__).resolve().parents[1]
NOT_SEED_INPUTS = {"data_dir", "database_url", "log_level", "log_format", "seed_cache"}


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def _sources(package: Path) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def seed_key(settings: ServiceSettings, metadata: MetaData) -> str:
    """The hash of the seed's inputs and the schema it writes into."""
    digest = hashlib.sha256()
    for path in _sources(SERVICES / "kernel") + _sources(SERVICES / settings.service):
        digest.update(str(path.relative_to(SERVICES)).encode() + b"\0" + path.read_bytes())
    inputs = settings.model_dump_json(exclude=NOT_SEED_INPUTS)
    digest.update(inputs.encode())
    with contextlib.suppress(OSError):
        digest.update(topology_path().read_bytes())
    dialect = sqlite.dialect()
    for table in metadata.sorted_tables:
        digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:24]


class SeedCache:
    """`<directory>/<service>-<key>.db`; older keys of the same service are removed on store."""

    def __init__(self, directory: Path, service: str, key: str) -> None:
        self.directory = directory
        self.service = service
        self.path = directory / f"{service}-{key}.db"

    def restore(self, target: Path) -> bool:
        """Copy the cached database to `target` if `target` does not exist yet (a first start)."""
        if target.exists() or not self.path.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            _backup(self.path, partial)
            partial.replace(target)
        except (OSError, sqlite3.Error):
            with contextlib.suppress(OSError):
                partial.unlink()
            return False
        return True

    def store(self, source: Path) -> None:
        """The freshly seeded `source` becomes the cache for this key (best effort)."""
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _backup(source, partial)
            partial.replace(self.path)
        except (OSError, sqlite3.Error):
            with contextlib.suppress(OSError):
                partial.unlink()
            return
        for old in self.directory.glob(f"{self.service}-*.db"):
            if old != self.path:
                with contextlib.suppress(OSError):
                    old.unlink()


def _backup(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the source may have a WAL), as one file."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def seed_cache_for(settings: ServiceSettings, metadata: MetaData | None) -> SeedCache | None:
    """The cache for this service's database, when the environment switches it on."""
    directory = settings.seed_cache
    if not directory or metadata is None or sqlite_file(settings.database()) is None:
        return None
    return SeedCache(Path(directory), settings.service, seed_key(settings, metadata))


def seed_through_cache(
    cache: SeedCache | None, database_url: str, run_seed: Callable[[], object]
) -> None:
    """Seed (a no-op on a database copied from the cache, as on any later start); a first start
    that seeded from nothing then fills the cache."""
    run_seed()
    source = sqlite_file(database_url)
    if cache is not None and source is not None:
        cache.store(source)
