"""Run every benchmark in `bench/` one after another: `python -m bench` (or `make bench`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    # `national` needs PostgreSQL and takes minutes even at its small scale: run it by name
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name not in ("common", "national")
    )
    chosen = sys.argv[1:] or names
    for name in chosen:
        print(f"\n== bench.{name} ==", flush=True)
        module = importlib.import_module(f"bench.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
