"""A service's uvicorn server, on its own port or on listening sockets it inherited.

One process per service binds its port itself. Replicas of a service (`dpi up --replicas N`)
all accept on one socket the launcher bound and handed down (the kernel gives each connection
to one of the processes waiting on it, and a replica that dies leaves the others accepting
there), plus each on a socket of its own that the launcher probes for that replica's readiness.
Forked services run `run_uvicorn` in the preloader's child; spawned replicas run
`python -m sandbox.serve APP --port PORT --fd N --fd M`.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

HOST = "127.0.0.1"
STARTUP_FAILURE = 3  # uvicorn's exit code when the app did not start
NO_WS = "none"  # no service speaks WebSocket: uvicorn need not import a WebSocket library


def run_uvicorn(app: str, port: int, fds: Sequence[int] = ()) -> int:
    """What `python -m uvicorn APP --host … --port … --no-access-log --http …` runs; with `fds`,
    serving on those listening sockets instead of binding `port` (which it then only names)."""
    import uvicorn

    from services.kernel.serving import HTTP_PROTOCOL

    try:
        if not fds:
            uvicorn.run(app, host=HOST, port=port, access_log=False, http=HTTP_PROTOCOL, ws=NO_WS)
            return 0
        config = uvicorn.Config(
            app, host=HOST, port=port, access_log=False, http=HTTP_PROTOCOL, ws=NO_WS
        )
        server = uvicorn.Server(config)
        server.run(sockets=[socket.socket(fileno=fd) for fd in fds])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0 if server.started else STARTUP_FAILURE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.serve", description=__doc__)
    parser.add_argument("app", help="the ASGI app, module:attribute")
    parser.add_argument("--port", type=int, required=True, help="the service's port")
    parser.add_argument("--fd", type=int, action="append", default=[], help="listening socket")
    args = parser.parse_args(argv)
    return run_uvicorn(args.app, args.port, args.fd)


if __name__ == "__main__":
    sys.exit(main())
