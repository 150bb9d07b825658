"""`dpi log verify`: prove the mediator's message log straight from its database.

Reading the database (not asking the running mediator) means the check trusts nothing the
mediator says about itself, and nothing the database says about itself either: signatures count
only under the keys pinned outside it (`<data dir>/interop_layer/trust/keys.json`, or `--keys`),
and the log must still reach the mediator's signed head anchor (`head.json`, or `--anchor`) and
the last head this verifier proved (`verified.json`, or `--state`). Any edited, inserted, deleted
or truncated record, or a key the pinned set lacks, fails with the first bad record named.
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


def _fail(message: str) -> int:
    err_console.print(f"[red]Message log verification FAILED[/red] {message}")
    return 1


def cmd_log_verify(args: argparse.Namespace) -> int:
    from services.interop_layer.messagelog.trust import (
        HEAD_FILE,
        KEYS_FILE,
        VERIFIED_FILE,
        TrustError,
        read_anchor,
        read_keys,
        read_verified,
        write_verified,
    )
    from services.interop_layer.messagelog.verify import KnownHead, verify_database

    data_dir = Path(args.data_dir).resolve() if args.data_dir else default_data_dir()
    trust = data_dir / "interop_layer" / "trust"
    url = args.database_url or database_url(data_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        err_console.print(f"[red]error:[/red] no message log at {url} (has the sandbox run?)")
        return 2
    keys_path = Path(args.keys) if args.keys else trust / KEYS_FILE
    anchor_path = Path(args.anchor) if args.anchor else trust / HEAD_FILE
    state_path = Path(args.state) if args.state else trust / VERIFIED_FILE
    try:
        pinned = read_keys(keys_path)
    except TrustError as exc:
        err_console.print(f"[red]error:[/red] {exc} (the mediator writes it at first start)")
        return 2
    try:
        anchor = read_anchor(anchor_path, pinned)
        verified = read_verified(state_path)
    except TrustError as exc:
        return _fail(f"- {exc}.")
    known = [
        KnownHead(anchor.seq, anchor.record_hash, f"mediator's head anchor (seq {anchor.seq})")
    ]
    if verified is not None:
        seq, digest = verified
        known.append(KnownHead(seq, digest, f"head this verifier proved before (seq {seq})"))
    report = verify_database(url, pinned=pinned, known=known)
    if report.ok:
        if report.verified_seq is not None and report.verified_hash is not None:
            write_verified(state_path, seq=report.verified_seq, record_hash=report.verified_hash)
        console.print(
            f"[green]Message log verified[/green]: {report.checked} records, chain and "
            f"signatures intact under the pinned keys (head {report.head_seq}, purge anchor "
            f"{report.anchor_seq}, mediator's head anchor {anchor.seq})."
        )
        return 0
    where = (
        f"record {report.first_bad_seq}"
        + (f" (X-Road-Id {report.first_bad_x_road_id})" if report.first_bad_x_road_id else "")
        if report.first_bad_seq is not None
        else "the chain marks"
    )
    return _fail(f"at {where}: {report.reason} ({report.checked} records checked before it).")


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
    verify.add_argument(
        "--keys", help="pinned public keys (default: <data dir>/interop_layer/trust/keys.json)"
    )
    verify.add_argument(
        "--anchor", help="the mediator's signed head anchor (default: .../trust/head.json)"
    )
    verify.add_argument(
        "--state", help="where this verifier keeps the last head it proved (.../verified.json)"
    )
    verify.set_defaults(func=cmd_log_verify)
