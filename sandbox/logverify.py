"""`dpi log verify`: prove the mediator's message log straight from its database.

Reading the database (not asking the running mediator) means the check trusts nothing the
mediator says about itself: any edited, inserted or deleted record breaks the chain or a
signature, and the first bad record is named.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sandbox.display import console, err_console
from sandbox.state import default_data_dir
from services.kernel.settings import load_settings


def database_url(data_dir: Path | None) -> str:
    settings = load_settings("interop_layer")
    if data_dir is not None and not settings.database_url:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings.database()


def cmd_log_verify(args: argparse.Namespace) -> int:
    from services.interop_layer.messagelog.verify import verify_database

    data_dir = Path(args.data_dir).resolve() if args.data_dir else default_data_dir()
    url = args.database_url or database_url(data_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        err_console.print(f"[red]error:[/red] no message log at {url} (has the sandbox run?)")
        return 2
    report = verify_database(url)
    if report.ok:
        console.print(
            f"[green]Message log verified[/green]: {report.checked} records, chain and "
            f"signatures intact (head {report.head_seq}, purge anchor {report.anchor_seq})."
        )
        return 0
    where = (
        f"record {report.first_bad_seq} (X-Road-Id {report.first_bad_x_road_id})"
        if report.first_bad_seq is not None
        else "the chain marks"
    )
    err_console.print(
        f"[red]Message log verification FAILED[/red] at {where}: {report.reason} "
        f"({report.checked} records checked before it)."
    )
    return 1


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    log = sub.add_parser("log", help="the mediator's message log")
    log_sub = log.add_subparsers(dest="log_command", required=True)
    verify = log_sub.add_parser(
        "verify", parents=[common], help="prove the hash chain and signatures of the message log"
    )
    verify.add_argument(
        "--database-url", help="the mediator's database (default: its settings / the data dir)"
    )
    verify.set_defaults(func=cmd_log_verify)
