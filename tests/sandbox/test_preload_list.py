"""The preloader's list: every library module all services import is imported once, before
the forks (`sandbox/preload.py`), not again in each service."""

from __future__ import annotations

import subprocess
import sys

from sandbox.preload import PRELOAD
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
