"""`dpi log verify`: prove the mediator's message log straight from its database.

Reading the database (not asking the running mediator) means the check trusts nothing the
mediator says about itself, and nothing the database says about itself either: signatures count
only under the keys pinned outside it (`<data dir>/interop_layer/trust/keys.json`, or `--keys`),
and every replica's chain must still reach that replica's signed head anchor (`head.json` for
`main`, `head-<replica>.json`, or `--anchor`, one per chain) and the last head this verifier
proved (`verified.json`, or `--state`). Any edited, inserted, deleted or truncated record, or a
key the pinned set lacks, fails with the first bad record named: its replica, its position in
that replica's chain and its seq.
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
        KEYS_FILE,
        VERIFIED_FILE,
        TrustError,
        head_files,
        read_anchor,
        read_keys,
        read_verified,
        write_verified,
    )
    from services.interop_layer.messagelog.verify import KnownHead, verify_database

    if args.workers is not None and args.workers < 1:
        err_console.print("[red]error:[/red] --workers must be at least 1")
        return 2
    data_dir = Path(args.data_dir).resolve() if args.data_dir else default_data_dir()
    trust = data_dir / "interop_layer" / "trust"
    url = args.database_url or database_url(data_dir)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        err_console.print(f"[red]error:[/red] no message log at {url} (has the sandbox run?)")
        return 2
    keys_path = Path(args.keys) if args.keys else trust / KEYS_FILE
    anchor_paths = [Path(path) for path in args.anchor] if args.anchor else head_files(trust)
    state_path = Path(args.state) if args.state else trust / VERIFIED_FILE
    try:
        pinned = read_keys(keys_path)
    except TrustError as exc:
        err_console.print(f"[red]error:[/red] {exc} (the mediator writes it at first start)")
        return 2
    if not anchor_paths:
        return _fail(f"- no head anchor (head*.json) in {trust}.")
    known: list[KnownHead] = []
    try:
        anchors = [read_anchor(path, pinned) for path in anchor_paths]
        verified = read_verified(state_path)
    except TrustError as exc:
        return _fail(f"- {exc}.")
    for anchor in anchors:
        what = f"mediator's head anchor of replica {anchor.replica} (position {anchor.seq})"
        known.append(KnownHead(anchor.seq, anchor.record_hash, what, anchor.replica))
    for replica, (seq, digest) in verified.items():
        what = f"head this verifier proved before for replica {replica} (position {seq})"
        known.append(KnownHead(seq, digest, what, replica))
    report = verify_database(url, pinned=pinned, known=known, workers=args.workers)
    unanchored = sorted({c.replica for c in report.chains} - {a.replica for a in anchors})
    if report.ok and unanchored:
        return _fail(
            f"- no head anchor of replica(s) {', '.join(unanchored)} "
            "(pass each replica's head-<replica>.json with --anchor)."
        )
    if report.ok:
        proved = {
            chain.replica: (chain.verified_position, chain.verified_hash)
            for chain in report.chains
            if chain.verified_position is not None and chain.verified_hash is not None
        }
        write_verified(state_path, proved)
        chains = ", ".join(
            f"{chain.replica} (head {chain.head_position}, purge anchor {chain.anchor_position}, "
            f"{chain.checked} records)"
            for chain in report.chains
        )
        console.print(
            f"[green]Message log verified[/green]: {report.checked} records in "
            f"{len(report.chains)} chain(s), links and signatures intact under the pinned keys: "
            f"{chains or 'no records yet'}."
        )
        return 0
    chain = f"replica {report.first_bad_replica}" if report.first_bad_replica else "the log"
    if report.first_bad_seq is not None:
        where = (
            f"record {report.first_bad_seq} ({chain}, position {report.first_bad_position}"
            + (f", X-Road-Id {report.first_bad_x_road_id}" if report.first_bad_x_road_id else "")
            + ")"
        )
    else:
        where = f"the chain marks of {chain}"
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
        "--anchor",
        action="append",
        help="a replica's signed head anchor, repeatable (default: every .../trust/head*.json)",
    )
    verify.add_argument(
        "--state", help="where this verifier keeps the last head it proved (.../verified.json)"
    )
    verify.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes checking a large PostgreSQL log in ranges (default: one per core)",
    )
    verify.set_defaults(func=cmd_log_verify)
