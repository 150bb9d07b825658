"""`dpi`: run the sandbox embedded (no Docker) and look at it."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path

from sandbox.display import (
    console,
    console_url,
    err_console,
    services_table,
)
from sandbox.env import register as register_env
from sandbox.faults import register as register_faults
from sandbox.launcher import (
    Launcher,
    LaunchError,
    print_ready,
    stop_on_signals,
)
from sandbox.logverify import register as register_log
from sandbox.logview import log_files, show_logs
from sandbox.replicas import check_replicas
from sandbox.scenarios.parser import BODIES_ENV
from sandbox.scenarios.parser import register as register_scenarios
from sandbox.state import MARKER, default_data_dir, in_use
from sandbox.stopping import stop_sandbox
from sandbox.where import did_you_mean, find_data_dir
from services.kernel.topology import load_topology, port_offset


def _offset(args: argparse.Namespace) -> int:
    return args.port_offset if args.port_offset is not None else port_offset()


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).resolve() if args.data_dir else default_data_dir()


def _running_dir(args: argparse.Namespace) -> Path:
    """For commands on a running sandbox: found from any directory, and named."""
    data_dir = find_data_dir(args.data_dir)
    err_console.print(f"[dim]data directory: {data_dir}[/dim]")
    return data_dir


def version() -> str:
    try:
        return metadata.version("dpi-sandbox")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def cmd_demo(args: argparse.Namespace) -> int:
    """`dpi up`, then every scenario with full message logging, then keep serving."""
    os.environ.setdefault(BODIES_ENV, "full")  # the boundary reports list the fields that crossed
    return cmd_up(args)


def cmd_up(args: argparse.Namespace) -> int:
    topology = load_topology()
    try:
        check_replicas(topology, args.replicas, docker=getattr(args, "docker", False))
    except LaunchError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return 2
    if getattr(args, "docker", False):
        from sandbox.docker_mode import up_with_docker

        return up_with_docker(topology, _offset(args), args.timeout)
    launcher = Launcher(
        topology,
        _data_dir(args),
        _offset(args),
        console=True,
        mode=args.launch,
        replicas=args.replicas,
    )
    stop_on_signals()
    each = f" ({args.replicas} replicas each)" if args.replicas > 1 else ""
    try:
        console.print(
            f"Starting {len(topology.services)} services{each} (data: {launcher.data_dir})"
        )
        launcher.start()
        elapsed = launcher.wait_ready(timeout=args.timeout, on_ready=print_ready)
        console.print(services_table(topology, launcher.port_offset))
        console.print(f"All {len(topology.services)} services ready in {elapsed:.1f}s.")
        console.print(f"[bold]Console: {console_url(topology, launcher.port_offset)}[/bold]")
        if args.detach:
            launcher.release()
            launcher.save(launcher_pid=None)
            console.print(
                "Running in the background: `dpi status`, `dpi logs SERVICE`, `dpi down`."
            )
            return 0
        if getattr(args, "scenarios", False):
            from sandbox.scenarios.commands import run_all_scenarios

            console.print("\nRunning every scenario against the sandbox…")
            if run_all_scenarios(data_dir=launcher.data_dir, port_offset=launcher.port_offset):
                err_console.print("[yellow]Some scenarios failed (above); still serving.[/yellow]")
            console.print(services_table(topology, launcher.port_offset))
            console.print(f"[bold]Console: {console_url(topology, launcher.port_offset)}[/bold]")
        console.print("Press Ctrl-C to stop.")
        launcher.watch()
    except LaunchError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        launcher.stop()
        return 1
    except KeyboardInterrupt:
        console.print("\nStopping…")
        launcher.stop()
        console.print("Stopped.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    if args.docker:
        from sandbox.docker_mode import down_with_docker

        return down_with_docker()
    stopped = Counter(stop_sandbox(_running_dir(args), timeout=args.timeout))
    names = [f"{name} ({n} replicas)" if n > 1 else name for name, n in stopped.items()]
    console.print(f"Stopped: {', '.join(names)}" if names else "No sandbox is running.")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from sandbox.status import cmd_status as status

    return status(args, _running_dir(args), _offset(args))


def cmd_logs(args: argparse.Namespace) -> int:
    names = load_topology().names()
    if args.service not in names:
        hint = did_you_mean(args.service, names)
        err_console.print(
            f"[red]error:[/red] unknown service {args.service!r}{hint}; one of {', '.join(names)}"
        )
        return 2
    logs = _running_dir(args) / "logs"
    files = log_files(logs, args.service, args.replica)
    if not files:
        which = f"replica r{args.replica} of " if args.replica is not None else ""
        err_console.print(f"[red]error:[/red] no log yet for {which}{args.service} (in {logs})")
        return 1
    show_logs(files, lines=args.lines, follow=args.follow, raw=args.raw)
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    if in_use(data_dir):
        err_console.print(
            f"[red]error:[/red] a sandbox is running from {data_dir}; `dpi down` first."
        )
        return 1
    if not data_dir.exists():
        console.print(f"Nothing to reset: {data_dir} does not exist.")
        return 0
    if not (data_dir / MARKER).exists() and any(data_dir.iterdir()):
        err_console.print(
            f"[red]error:[/red] {data_dir} is not a sandbox data directory; not wiping."
        )
        return 1
    if not args.force and sys.stdin.isatty():
        answer = input(f"Delete every database, log and run report in {data_dir}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            console.print("Nothing deleted.")
            return 1
    shutil.rmtree(data_dir)
    console.print(f"Wiped {data_dir}.")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from sandbox.generate import ROOT, write_all

    if not (ROOT / "compose").is_dir():
        err_console.print(
            "[red]error:[/red] `dpi generate` rewrites a checkout's files; run it in one."
        )
        return 2

    changed = write_all(check=args.check)
    if args.check and changed:
        err_console.print(f"[red]out of date:[/red] {', '.join(changed)} (run `dpi generate`)")
        return 1
    console.print(f"Updated: {', '.join(changed)}" if changed else "Everything is up to date.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dpi", description=__doc__)
    parser.add_argument("--version", action="version", version=f"dpi-sandbox {version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default: $DPI_DATA_DIR or ./.dpi-data)")
    common.add_argument("--port-offset", type=int, help="added to every port ($DPI_PORT_OFFSET)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", parents=[common], help="start every service and wait until ready")
    up.add_argument("--detach", "-d", action="store_true", help="return once ready")
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    up.add_argument(
        "--docker", action="store_true", help="PostgreSQL and every service as containers"
    )
    up.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="processes per service, sharing its port (more than 1 needs PostgreSQL: "
        "DPI_<SERVICE>_DATABASE_URL for every service)",
    )
    up.add_argument(
        "--launch",
        choices=["fork", "spawn"],
        help="fork services from one preloaded process (default on Linux) or spawn each afresh "
        "($DPI_LAUNCH_MODE)",
    )
    up.set_defaults(func=cmd_up)

    demo = sub.add_parser(
        "demo", parents=[common], help="start the sandbox, run every scenario, keep serving"
    )
    demo.add_argument("--timeout", type=float, default=60.0)
    demo.set_defaults(func=cmd_demo, detach=False, scenarios=True, replicas=1, launch=None)

    down = sub.add_parser("down", parents=[common], help="stop a running sandbox")
    down.add_argument("--timeout", type=float, default=10.0)
    down.add_argument("--docker", action="store_true", help="remove the containers of --docker")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", parents=[common], help="readiness of each service")
    status.set_defaults(func=cmd_status)

    logs = sub.add_parser("logs", parents=[common], help="show a service's log")
    logs.add_argument("service")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("--raw", action="store_true", help="print the JSON lines as they are")
    logs.add_argument(
        "--replica", type=int, metavar="I", help="only replica I's log (`dpi up --replicas N`)"
    )
    logs.set_defaults(func=cmd_logs)

    reset = sub.add_parser("reset", parents=[common], help="wipe the data directory")
    reset.add_argument("--force", action="store_true", help="do not ask (on a terminal)")
    reset.set_defaults(func=cmd_reset)

    generate = sub.add_parser(
        "generate", help="regenerate the compose files, deploy/k8s and the README table"
    )
    generate.add_argument("--check", action="store_true", help="fail if anything is stale")
    generate.set_defaults(func=cmd_generate)

    register_scenarios(sub, common)
    register_log(sub, common)
    register_env(sub, common)
    register_faults(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
