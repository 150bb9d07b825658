"""The `dpi scenarios`, `run` and `trace` commands' arguments: the commands themselves
(`sandbox.scenarios.commands`, with the scenario runner and the trace builder) are imported
when one of them runs, not by every `dpi` command (`dpi up` starts sooner)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

BODIES_ENV = "DPI_INTEROP_LAYER_MESSAGE_LOG_BODIES"


def _later(name: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        commands = importlib.import_module("sandbox.scenarios.commands")
        result: int = getattr(commands, name)(args)
        return result

    return command


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("between 1 and 10000")
    return value


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add `scenarios`, `run` and `trace` to the `dpi` parser."""
    listing = sub.add_parser("scenarios", help="list the scenarios with one-line descriptions")
    listing.add_argument(
        "--schema", action="store_true", help="print the JSON Schema of scenario files"
    )
    listing.set_defaults(func=_later("cmd_scenarios"))

    run = sub.add_parser("run", parents=[common], help="run scenarios against the sandbox")
    run.add_argument("scenario", nargs="*", help="scenario names (see `dpi scenarios`)")
    run.add_argument("--all", action="store_true", help="run every scenario")
    run.add_argument("--up", action="store_true", help="start a sandbox for the run, stop it after")
    run.add_argument("--timeout", type=float, default=60.0, help="readiness timeout with --up")
    run.add_argument(
        "--repeat",
        type=_positive,
        default=1,
        help="run each scenario N times and report timings per step (first run traced)",
    )
    run.set_defaults(func=_later("cmd_run"))

    trace = sub.add_parser("trace", parents=[common], help="summary of a run's trace")
    trace.add_argument("run_id", nargs="?", help="run id (default: the latest run)")
    trace.set_defaults(func=_later("cmd_trace"))
