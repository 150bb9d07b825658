"""The preloader's list: every library module all services import is imported once, before
the forks (`sandbox/preload.py`), not again in each service."""

from __future__ import annotations

import os
import subprocess
import sys

from sandbox.preload import PRELOAD, forget_tls_if_env_differs, warm_tls
from services.kernel.http import forget_tls_contexts, tls_context
from services.kernel.topology import load_topology

NEW_MODULES = """
import importlib, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
before = set(sys.modules)
importlib.import_module(sys.argv[1].partition(":")[0])
print("\\n".join(sorted(set(sys.modules) - before)))
"""


def test_every_library_module_all_services_import_is_preloaded():
    common: set[str] | None = None
    for spec in load_topology().services:
        found = subprocess.run(
            [sys.executable, "-c", NEW_MODULES, spec.app, *PRELOAD],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.split()
        libraries = {name for name in found if not name.startswith("services.")}
        common = libraries if common is None else common & libraries
    assert common == set(), f"imported by every service, not preloaded: {sorted(common or ())}"


# Loaded only where used: the driver and dialect of PostgreSQL by a service on PostgreSQL, a
# WebSocket library by nobody (no service speaks WebSocket; uvicorn is told so).
NOT_AT_START_ON_SQLITE = {"psycopg", "sqlalchemy.dialects.postgresql", "websockets"}


def test_a_service_on_sqlite_starts_without_postgresql_or_websocket_libraries(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env["DPI_DATA_DIR"] = str(tmp_path)
    for spec in load_topology().services:
        found = subprocess.run(
            [sys.executable, "-c", NEW_MODULES, spec.app, *PRELOAD],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=env,
        ).stdout.split()
        loaded = NOT_AT_START_ON_SQLITE & set(found)
        assert loaded == set(), f"{spec.name} imports at start on SQLite: {sorted(loaded)}"


def test_the_preloaded_tls_context_is_kept_unless_the_service_trusts_other_cas(
    monkeypatch, request
):
    forget_tls_contexts()
    # built below from a changed environment: later tests build theirs from the restored one
    request.addfinalizer(forget_tls_contexts)
    warm_tls()
    preloaded = tls_context()
    assert tls_context(trust_env=True) is preloaded  # what the services' clients use: no new one
    assert tls_context(True) is preloaded
    no_env = tls_context(trust_env=False)
    assert no_env is not preloaded
    forget_tls_if_env_differs(dict(os.environ))
    assert tls_context() is preloaded
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    forget_tls_if_env_differs({**os.environ, "SSL_CERT_FILE": "/etc/ssl/certs/other.pem"})
    assert tls_context() is not preloaded
    assert tls_context(trust_env=False) is not no_env
