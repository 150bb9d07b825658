"""The preloader: one process imports what every service imports, then forks each service.

Started by the launcher as `python -m sandbox.preload`, it reads one JSON request a line on
stdin (`{"name", "app", "port", "log", "env"}`, and for a replica the inherited listening
sockets it serves on, `"fds"`, and those of the others it closes, `"close"`), forks a child
that becomes that service's uvicorn process, and answers `{"name", "pid"}` (or
`{"name", "error"}`) on stdout. It reaps its children and reports
`{"exited": pid, "code": n}`. At end of input (the launcher is done or gone) it exits; the
services carry on, adopted by init, as spawned ones do after `dpi up -d`.

Nothing that must not cross a fork exists here before the fork: no thread, event loop,
database engine or exporter is created by the imports; `services.kernel.ids` refills its random
pool in each child; each child opens its own engine and exporter in its lifespan.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import os
import select
import signal
import sys
import threading
import time
import traceback
from typing import Any

from sandbox.serve import run_uvicorn

# Imported by every service (or by several): measured as the intersection of `sys.modules`
# after importing each service's `main`. Service modules themselves are imported in the child.
PRELOAD = (
    "uvicorn.main",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.httptools_impl",
    "uvloop",
    "fastapi",
    "fastapi.routing",
    "fastapi.responses",
    "fastapi.security",
    "fastapi.openapi.utils",
    "fastapi.concurrency",
    "fastapi_offline",
    "pydantic",
    "pydantic.v1",  # FastAPI looks for v1 models as it registers every route
    "pydantic_settings",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlmodel",
    "httpx",
    "httpcore",  # httpx imports it with the first client: at start where a worker calls out
    "anyio",
    "anyio._backends._asyncio",
    "orjson",
    "yaml",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.serialization",
    "joserfc.jws",
    "joserfc.jwt",
    "jsonschema",
    "re2",
    "xml.etree.ElementTree",
    "services.kernel.app",
    "services.kernel.serving",
    "services.kernel.mediator",
    "services.kernel.outbox",
    "services.kernel.outbox_admin",
    "services.kernel.callers",
    "services.kernel.partner_keys",
)
# Only when trace export is switched on (otherwise no service imports the SDK).
PRELOAD_OTEL = ("services.kernel.otel_sdk",)
POSTGRES = ("psycopg", "sqlalchemy.dialects.postgresql.psycopg")


def preload_modules(env: dict[str, str] | os._Environ[str]) -> list[str]:
    """The modules to import before forking, for the services' environment."""
    names = list(PRELOAD)
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        names += PRELOAD_OTEL
    if any(k.endswith("_DATABASE_URL") and v.startswith("postgres") for k, v in env.items()):
        names += POSTGRES
    return names


TLS_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def warm_tls() -> None:
    """Build the TLS context the services' clients share before the forks: it parses the whole
    CA bundle (~25 ms of CPU), once here instead of once in every service that calls out at
    start. The one that ignores the environment (`trust_env=False`) is the mediator's alone:
    built there, in parallel with the other services, not here before any of them starts."""
    from services.kernel.http import tls_context

    tls_context()


def forget_tls_if_env_differs(env: dict[str, str]) -> None:
    """A service told to trust other CAs than the preloader was builds its own context."""
    if any(env.get(name) != os.environ.get(name) for name in TLS_ENV):
        from services.kernel.http import forget_tls_contexts

        forget_tls_contexts()


def preload(names: list[str]) -> list[str]:
    """Import `names`; returns those that failed (a missing optional library is no error)."""
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an import error here only costs the child that import
            failed.append(f"{name}: {exc}")
    return failed


class Preloader:
    """The loop: requests in on `inp`, answers and exit reports out on `out`."""

    def __init__(self, inp: int, out: int) -> None:
        self.inp = inp
        self.out = out
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def say(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the launcher has gone: nobody to tell
            os.write(self.out, json.dumps(message).encode() + b"\n")

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        pending = b""
        while True:
            self.reap()
            try:
                readable, _, _ = select.select([self.inp, self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in readable:
                os.read(self.wake_r, 4096)
            if self.inp in readable:
                chunk = os.read(self.inp, 65536)
                if not chunk:
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))
        self.reap()

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.say({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    def handle(self, request: dict[str, Any]) -> None:
        if threading.active_count() > 1:  # a fork would copy a lock some thread holds
            self.say({"name": request.get("name"), "error": "the preloader runs a thread"})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: the launcher spawns it instead
            self.say({"name": request.get("name"), "error": f"fork failed: {exc}"})
            return
        if pid == 0:
            self.become_service(request)  # never returns
        self.children.add(pid)
        self.say({"name": request["name"], "pid": pid})

    def become_service(self, request: dict[str, Any]) -> None:
        code = 1
        try:
            os.setsid()  # its own process group, signalled alone, like a spawned service
            name_process(f"dpi-{request['name']}")
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            for fd in (self.wake_r, self.wake_w, *request.get("close", ())):
                os.close(fd)
            redirect_output(request["log"])
            forget_tls_if_env_differs(request["env"])
            os.environ.clear()
            os.environ.update(request["env"])
            code = run_uvicorn(request["app"], int(request["port"]), request.get("fds", ()))
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)


def name_process(name: str) -> None:
    """What `ps -o comm` and `top` show (Linux; 15 characters): which service this is."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name[:15])


def redirect_output(log: str) -> None:
    """stdin from /dev/null, stdout and stderr appended to the service's log, unbuffered."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own stdin for its life
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            write_through=True,
        )
        setattr(sys, name, stream)


def prepare() -> list[str]:
    """Everything before the first fork; returns the modules that could not be preloaded."""
    # No collection while importing (they ran about every 700 new objects, several over the whole
    # heap: 80 ms of the imports' 650), and none before the freeze: the imports leave some 2,000
    # unreachable objects of 190,000, and finding them cost another 40-50 ms.
    gc.disable()
    # httpx imports its command-line client where rich, pygments and click are installed (the
    # `dpi` command's): 35 ms of CPU for a client no service runs; httpx then keeps a stub `main`.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    failed = preload(preload_modules(os.environ))
    with contextlib.suppress(Exception):  # without it each service builds its own, as before
        warm_tls()
    gc.freeze()  # what the imports built stays out of every collection: its pages stay shared
    gc.enable()  # for what is made from now on, here and in the services forked
    return failed


def main() -> None:
    started = time.monotonic()
    failed = prepare()
    took = time.monotonic() - started
    print(f"preloaded in {took:.2f}s; not preloaded: {failed or 'none'}", file=sys.stderr)
    sys.stderr.flush()
    Preloader(inp=sys.stdin.fileno(), out=sys.stdout.fileno()).serve()
    # Out without the interpreter's teardown: freeing the preloaded heap writes to every page of
    # it, each still shared with the services, so each would be copied first (0.1-0.2 s while the
    # launcher waits for this exit to adopt them). Nothing here needs closing but the output.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
