"""National volumes on PostgreSQL: how the ID system, the health platform's aggregate data and
tracker, and the mediator's message log hold up as they grow to a country's size, and two
mediator replicas against one.

Run: `.venv/bin/python -m bench.national [--scale small|medium|full] [--only id,dhis2,...]`
(`DPI_BENCH_SCALE` and `DPI_BENCH_ONLY` do the same). Each part creates and drops its own
database at `DPI_BENCH_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/postgres),
serves on loopback only, prints its progress, stops at its deadline (the sizes not reached are
named) and stops every process it started. Each part shows its growth as a table over three
sizes: `full` is the issue's national sizes, `medium` a tenth of them, `small` about a
hundredth.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence

from bench.national import pg
from bench.national.measure import DeadlineReached, Part

FULL: dict[str, tuple[int, int, int]] = {
    "id": (10_000, 100_000, 1_000_000),
    "dhis2": (100_000, 1_000_000, 10_000_000),
    "tracker": (10_000, 100_000, 1_000_000),
    "log": (100_000, 1_000_000, 10_000_000),
    "replicas": (1, 2, 2),  # not sizes: one replica against two
}
# `medium` is a tenth of the national sizes, `small` a hundredth, but never below what a part
# loads through the API before bulk-loading (1,000 people enrolled or tracked entities imported)
FLOOR = {"id": 1_000, "tracker": 1_000}
SMALL = {"id": (1_000, 5_000, 10_000), "tracker": (1_000, 5_000, 10_000)}
DIVISOR = {"small": 100, "medium": 10, "full": 1}
# seconds per part at each scale
DEADLINE = {"small": 300.0, "medium": 1200.0, "full": 3600.0}


def sizes(part: str, scale: str) -> list[int]:
    if part == "replicas":
        return [1, 2]
    if scale == "small" and part in SMALL:
        return list(SMALL[part])
    return [max(FLOOR.get(part, 1), n // DIVISOR[scale]) for n in FULL[part]]


def _runner(name: str) -> tuple[Callable[[Sequence[int], Part], None], list[str]]:
    if name == "id":
        from bench.national import id as module
    elif name == "dhis2":
        from bench.national import dhis2 as module  # type: ignore[no-redef]
    elif name == "tracker":
        from bench.national import tracker as module  # type: ignore[no-redef]
    elif name == "log":
        from bench.national import messagelog as module  # type: ignore[no-redef]
    else:
        from bench.national import replicas as module  # type: ignore[no-redef]
    return module.run, module.COLUMNS


def run_part(name: str, chosen: Sequence[int], seconds: float) -> Part:
    run, columns = _runner(name)
    part = Part(name, seconds, columns)
    print(f"\n== {name}: sizes {', '.join(f'{n:,}' for n in chosen)} (deadline {seconds:.0f} s)")
    try:
        run(chosen, part)
    except DeadlineReached as exc:
        part.notes.append(f"{exc}: sizes after the last row were not measured")
    except Exception:  # one part failing must not hide the others' figures
        part.notes.append("FAILED: " + traceback.format_exc(limit=3).strip().splitlines()[-1])
        traceback.print_exc()
    return part


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.national", description=__doc__)
    parser.add_argument("--scale", choices=sorted(DIVISOR),
                        default=os.environ.get("DPI_BENCH_SCALE", "small"))  # fmt: skip
    parser.add_argument("--only", default=os.environ.get("DPI_BENCH_ONLY", ",".join(FULL)),
                        help=f"comma-separated parts among {', '.join(FULL)}")  # fmt: skip
    parser.add_argument("--sizes", help="override the sizes of every chosen part: 1000,2000,3000")
    parser.add_argument("--deadline", type=float, help="seconds per part")
    args = parser.parse_args(list(argv))
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(FULL))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose among {', '.join(FULL)}")
    problem = pg.reachable()
    if problem is not None:
        print(f"PostgreSQL is not reachable at {pg.ADMIN_URL}: {problem}", file=sys.stderr)
        return 2
    began = time.monotonic()
    results = []
    for name in parts:
        chosen = sizes(name, args.scale)
        if args.sizes and name != "replicas":
            chosen = [int(n) for n in args.sizes.split(",")]
        results.append(run_part(name, chosen, args.deadline or DEADLINE[args.scale]))
    print(f"\n== national volumes, scale {args.scale}, {time.monotonic() - began:.0f} s in all")
    for part in results:
        print(f"\n### {part.name}\n\n{part.table()}\n")
        for note in part.notes:
            print(f"- {note}")
    return 0
