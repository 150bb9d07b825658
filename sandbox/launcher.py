"""Start every service of the topology as its own uvicorn process, wait for readiness, stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import httpx

from sandbox.children import Child, replica_env, replica_log_name
from sandbox.children import console_spec as console_spec
from sandbox.children import print_ready as print_ready
from sandbox.display import err_console
from sandbox.errors import LaunchError as LaunchError
from sandbox.ports import ReplicaSockets, check_ports
from sandbox.ports import free_offset as free_offset
from sandbox.ports import port_in_use as port_in_use
from sandbox.processes import (
    LaunchMode,
    PreloaderClient,
    ServiceProcess,
    become_subreaper,
    launch_mode,
    spawn,
)
from sandbox.state import (
    RunningService,
    SandboxState,
    clear_state,
    in_use,
    load_state,
    prepare_data_dir,
    save_state,
)
from sandbox.stopping import last_lines, stop_pids
from services.kernel.topology import ServiceSpec, Topology

SEED_CACHE_ENV = "DPI_SEED_CACHE"


def seed_cache_dir() -> Path:
    """Pre-built seeded databases, shared by this user's sandboxes (keyed by what seeding reads)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dpi-sandbox" / "seed"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop_on_signals() -> None:
    """Ctrl-C and `kill` both end a foreground sandbox cleanly, even where the shell that
    started us ignores SIGINT (background jobs of non-interactive shells do)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


class Launcher:
    """The embedded sandbox: one process per service (or `replicas` sharing its port), all on
    loopback."""

    def __init__(
        self,
        topology: Topology,
        data_dir: Path,
        port_offset: int = 0,
        mode: LaunchMode | None = None,
        *,
        console: bool = False,
        replicas: int = 1,
    ) -> None:
        self.topology = topology
        self.data_dir = data_dir.resolve()
        self.port_offset = port_offset
        self.mode = launch_mode(mode)
        self.console = console  # also serve the workshop console on the control port
        self.replicas = replicas  # processes per topology service (the console stays one)
        self.children: list[Child] = []
        self.preloader: PreloaderClient | None = None
        self.adopts = False  # services outlive the preloader as this process's children

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DPI_DATA_DIR"] = str(self.data_dir)
        env["DPI_PORT_OFFSET"] = str(self.port_offset)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault(SEED_CACHE_ENV, str(seed_cache_dir()))  # empty: no seed cache
        return env

    def refuse_if_running(self) -> None:
        """Refuse a second start on a data directory in use; its state file stays untouched."""
        if load_state(self.data_dir) is None:
            return
        if in_use(self.data_dir):
            raise LaunchError(
                f"A sandbox is already running from {self.data_dir} "
                "(see `dpi status`; stop it with `dpi down`)."
            )
        clear_state(self.data_dir)

    def start(self) -> None:
        """Start every service; raises LaunchError before starting anything on a port conflict."""
        self.refuse_if_running()
        specs = self.topology.start_order()
        check_ports(
            [*specs, console_spec(self.topology)] if self.console else specs, self.port_offset
        )
        prepare_data_dir(self.data_dir)
        env = self.child_env()
        sockets = None
        if self.replicas > 1:
            sockets = ReplicaSockets.bind(specs, self.port_offset, self.replicas)
        try:
            if self.mode == "fork":
                self.adopts = become_subreaper()
                preload_log = self.data_dir / "logs" / "preload.log"
                fds = sockets.fds() if sockets else ()
                self.preloader = PreloaderClient(env, preload_log, pass_fds=fds)
            for spec in specs:
                if sockets is None:
                    self.children.append(self.start_one(spec, spec.port + self.port_offset, env))
                    continue
                for replica in range(1, self.replicas + 1):
                    self.children.append(self.start_replica(spec, replica, env, sockets))
        finally:
            if sockets is not None:
                sockets.close()  # the replicas hold the sockets now
        if self.console:
            self.children.append(self.start_console(env))
        self.save(launcher_pid=os.getpid())

    def start_one(self, spec: ServiceSpec, port: int, env: dict[str, str]) -> Child:
        """One topology service's process (see `start_process`)."""
        process, how, log = self.start_process(spec.name, spec.app, port, env)
        return Child(spec, port, process, log, how)

    def start_replica(
        self, spec: ServiceSpec, replica: int, env: dict[str, str], sockets: ReplicaSockets
    ) -> Child:
        """Replica `replica` of a service: on the service's port, shared, and a port of its own."""
        fds, own = sockets.of(spec.name, replica)
        close = [fd for fd in sockets.fds() if fd not in fds]
        port = spec.port + self.port_offset
        started = self.start_process(
            spec.name, spec.app, port, replica_env(env, spec, replica), fds, close,
            log_name=replica_log_name(spec.name, replica),
        )  # fmt: skip
        process, how, log = started
        return Child(spec, port, process, log, how, replica, own)

    def start_process(
        self,
        name: str,
        app: str,
        port: int,
        env: dict[str, str],
        fds: Sequence[int] = (),
        close: Sequence[int] = (),
        *,
        log_name: str = "",
    ) -> tuple[ServiceProcess, LaunchMode, Path]:
        """A uvicorn process serving the ASGI `app` ("module:attribute") on loopback at `port`
        (or, a replica, on the inherited listening sockets `fds`), logging to `logs/<name>.log`
        (a replica to its own, `logs/<name>.r<i>.log`): forked from the preloader when there is
        one, else spawned. Any process the sandbox runs (a topology service or not) starts here."""
        log = self.data_dir / "logs" / f"{log_name or name}.log"
        if self.preloader is not None:
            forked = self.preloader.fork(name, app, port, log, env, fds, close)
            if forked is not None:
                return forked, "fork", log
        return spawn(app, port, log, env, fds), "spawn", log

    def release(self) -> None:
        """Let the preloader go (the services keep running): before leaving them detached."""
        if self.preloader is not None:
            self.preloader.close()
            self.preloader = None

    def start_console(self, env: dict[str, str]) -> Child:
        """The workshop console (sandbox/console), after the services it reads."""
        spec = console_spec(self.topology)
        port = spec.port + self.port_offset
        log = self.data_dir / "logs" / "console.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.console", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        return Child(spec, port, process, log)

    def save(self, launcher_pid: int | None) -> None:
        save_state(
            SandboxState(
                data_dir=str(self.data_dir),
                port_offset=self.port_offset,
                launcher_pid=launcher_pid,
                services=[
                    RunningService(
                        c.spec.name,
                        c.process.pid,
                        c.port,
                        c.url,
                        str(c.log),
                        c.how,
                        replica=c.replica,
                        own_url=c.own_url if c.replica else "",
                    )
                    for c in self.children
                ],
            )
        )

    def wait_ready(
        self, timeout: float = 60.0, on_ready: Callable[[Child, float], None] | None = None
    ) -> float:
        """Poll every `/readyz` until all answer 200; raise LaunchError on a crash or timeout."""
        started = time.monotonic()
        deadline = started + timeout
        pending = list(self.children)
        # plain HTTP on loopback: no TLS context (its CA bundle costs ~0.1 s on a loaded machine)
        with httpx.Client(timeout=1.0, verify=False) as client:
            while pending:
                for child in list(pending):
                    self.raise_if_exited(child)
                    try:
                        ready = child.ready(client)
                    except httpx.HTTPError:
                        ready = False
                    if ready:
                        pending.remove(child)
                        if on_ready:
                            on_ready(child, time.monotonic() - started)
                if pending and time.monotonic() > deadline:
                    names = ", ".join(c.label for c in pending)
                    last = last_lines(pending[0].log)
                    raise LaunchError(
                        f"Not ready after {timeout:.0f}s: {names}. "
                        f"Last log lines of {pending[0].label}:\n{last}"
                    )
                if pending:
                    time.sleep(0.01)  # a round costs ~10 µs a service that is not listening yet
        if self.adopts:
            self.release()  # its copies of pages the services have since written are freed
        return time.monotonic() - started

    def raise_if_exited(self, child: Child) -> None:
        code = child.process.poll()
        if code is not None:
            last = last_lines(child.log)
            raise LaunchError(
                f"{child.label} exited with code {code} (log: {child.log}). Last log lines:\n{last}"
            )

    def watch(self, interval: float = 0.5) -> None:
        """Block until a service has no process left (raises LaunchError) or a signal interrupts;
        a replica that exits while others of its service serve is reported and left out."""
        while True:
            for child in list(self.children):
                if child.replica and child.process.poll() is not None and self.others(child):
                    self.children.remove(child)
                    left = len(self.others(child))
                    err_console.print(
                        f"[yellow]{child.label} exited with code {child.process.poll()}; "
                        f"{left} of {self.replicas} replicas still serve[/yellow]"
                    )
                    continue
                self.raise_if_exited(child)
            time.sleep(interval)

    def others(self, child: Child) -> list[Child]:
        """The replicas of `child`'s service still running, but `child`."""
        return [
            c
            for c in self.children
            if c.spec.name == child.spec.name and c is not child and c.process.poll() is None
        ]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop what this launcher started; with nothing started (a refused start), the state
        file belongs to another launcher and is left alone."""
        if not self.children:
            self.release()
            return
        stop_pids([c.process.pid for c in self.children], timeout)
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=0.1)
        self.release()
        clear_state(self.data_dir)
