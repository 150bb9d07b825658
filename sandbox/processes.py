"""How the launcher starts a service process: forked from the preloader, or spawned afresh.

`fork` (the default where the platform has it, Linux): the preloader (`sandbox/preload.py`)
imports the libraries once and forks each service, so their pages stay shared. `spawn`: each
service is `python -m uvicorn …`, as before; chosen with `DPI_LAUNCH_MODE=spawn` or
`dpi up --launch spawn`, and taken for any service the preloader cannot start.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from sandbox.state import pid_alive
from services.kernel.serving import HTTP_PROTOCOL

HOST = "127.0.0.1"
LaunchMode = Literal["fork", "spawn"]
MODE_ENV = "DPI_LAUNCH_MODE"
UNKNOWN_EXIT = -255  # the process ended after its preloader did: nobody saw its status
PR_SET_CHILD_SUBREAPER = 36


class ServiceProcess(Protocol):
    """What the launcher needs of a running service: `subprocess.Popen` has it."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


def launch_mode(requested: str | None = None) -> LaunchMode:
    """`requested`, else `$DPI_LAUNCH_MODE`, else `fork` on Linux and `spawn` elsewhere."""
    chosen = requested or os.environ.get(MODE_ENV) or ""
    if chosen not in ("", "fork", "spawn"):
        raise ValueError(f"{MODE_ENV} must be fork or spawn, got {chosen!r}")
    if chosen == "spawn" or not hasattr(os, "fork"):
        return "spawn"
    if chosen == "fork" or sys.platform == "linux":
        return "fork"
    return "spawn"


def spawn(
    app: str, port: int, log: Path, env: dict[str, str], fds: Sequence[int] = ()
) -> subprocess.Popen[bytes]:
    """The service as a fresh `python -m uvicorn` process in its own session; a replica serves on
    the listening sockets `fds` it inherits (`python -m sandbox.serve`)."""
    if fds:
        command = [sys.executable, "-m", "sandbox.serve", app, "--port", str(port)]
        command += [arg for fd in fds for arg in ("--fd", str(fd))]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
            "--http",
            HTTP_PROTOCOL,
        ]
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            pass_fds=tuple(fds),
        )


def become_subreaper() -> bool:
    """Linux: descendants orphaned later (the preloader's children once it exits) are adopted by
    this process, which can then wait for them; False where that is not available."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


class Forked:
    """A service forked by the preloader: its exit status comes from the preloader's reports,
    or, once the preloader has gone and this process adopted it, from `waitpid`."""

    def __init__(self, pid: int, preloader: PreloaderClient) -> None:
        self._pid = pid
        self._preloader = preloader
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self._pid

    def poll(self) -> int | None:
        if self.returncode is not None:
            return self.returncode
        try:
            pid, status = os.waitpid(self._pid, os.WNOHANG)
        except ChildProcessError:  # still the preloader's child (or adopted by init)
            self.returncode = self._preloader.exit_code(self._pid, alive=pid_alive)
        else:
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self._pid}", timeout or 0.0)
            time.sleep(0.02)
        return code


class PreloaderClient:
    """The launcher's end of `python -m sandbox.preload`: requests out, pids and exits back."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        answer_timeout: float = 60.0,
        pass_fds: Sequence[int] = (),
    ) -> None:
        """`pass_fds`: replicas' listening sockets, which it hands to the services it forks."""
        self.answer_timeout = answer_timeout
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        self._gone = False
        with log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.preload"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
            )
        assert self.process.stdout is not None
        threading.Thread(
            target=self._read, args=(self.process.stdout,), name="dpi-preloader", daemon=True
        ).start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours (a library printing at import)
            if "exited" in message:
                with self._changed:
                    self._exits[int(message["exited"])] = int(message["code"])
                    self._changed.notify_all()
            else:
                self._answers.put(message)
        with self._changed:
            self._gone = True
            self._changed.notify_all()
        self._answers.put({"error": "the preloader has exited"})

    def fork(
        self,
        name: str,
        app: str,
        port: int,
        log: Path,
        env: dict[str, str],
        fds: Sequence[int] = (),
        close: Sequence[int] = (),
    ) -> Forked | None:
        """The service forked from the preloader, or None when it cannot (then spawn it); a
        replica serves on the inherited sockets `fds` and closes the others' (`close`)."""
        request = {"name": name, "app": app, "port": port, "log": str(log), "env": env}
        if fds:
            request.update(fds=list(fds), close=list(close))
        stdin = self.process.stdin
        if self._gone or stdin is None:
            return None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
            answer = self._answers.get(timeout=self.answer_timeout)
        except (OSError, ValueError, queue.Empty):
            return None
        if "pid" not in answer:
            return None
        return Forked(int(answer["pid"]), self)

    def exit_code(self, pid: int, alive: Any) -> int | None:
        """The reported exit status; a pid that is gone unreported gets a moment for the report."""
        with self._changed:
            if pid in self._exits:
                return self._exits[pid]
            if alive(pid):
                return None
            self._changed.wait_for(lambda: pid in self._exits or self._gone, timeout=1.0)
            return self._exits.get(pid, UNKNOWN_EXIT)

    def close(self, timeout: float = 5.0) -> None:
        """End of input: the preloader exits; services it started keep running."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
