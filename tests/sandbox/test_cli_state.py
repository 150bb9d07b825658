"""A running sandbox is never forgotten: a refused second start leaves it alone, and `dpi
status/down/logs` find it from any directory (regression for issue 20)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.state import (
    RunningService,
    SandboxState,
    load_state,
    pid_alive,
    prepare_data_dir,
    running_sandboxes,
    save_state,
    state_path,
)
from tests.sandbox.helpers import dpi, free_offset


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "state-home"
    monkeypatch.setenv("DPI_STATE_HOME", str(home))
    return home


@pytest.fixture
def fake_sandbox(
    tmp_path: Path, state_home: Path
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A data directory whose state records one live process (no HTTP): enough for the CLI."""
    data_dir = tmp_path / "running"
    prepare_data_dir(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    offset = free_offset()
    save_state(
        SandboxState(
            data_dir=str(data_dir),
            port_offset=offset,
            launcher_pid=None,
            services=[
                RunningService(
                    "consent",
                    process.pid,
                    8003 + offset,
                    f"http://127.0.0.1:{8003 + offset}",
                    str(data_dir / "logs" / "consent.log"),
                )
            ],
        )
    )
    (data_dir / "logs" / "consent.log").write_text("a line of consent's log\n")
    try:
        yield data_dir, process
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_refused_second_up_leaves_the_running_sandbox_recorded(fake_sandbox, state_home):
    data_dir, process = fake_sandbox
    before = state_path(data_dir).read_text()
    second = dpi("up", "--detach", data_dir=data_dir, env={"DPI_STATE_HOME": str(state_home)})
    assert second.returncode == 1
    assert "already running" in " ".join(second.stderr.split())
    assert state_path(data_dir).read_text() == before
    assert pid_alive(process.pid)
    assert running_sandboxes() == [data_dir.resolve()]


def test_status_logs_and_down_find_the_sandbox_from_another_directory(
    fake_sandbox, state_home, tmp_path
):
    data_dir, process = fake_sandbox
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"DPI_STATE_HOME": str(state_home), "COLUMNS": "200"}
    status = dpi("status", data_dir=None, env=env, cwd=elsewhere)
    assert f"data directory: {data_dir}" in " ".join(status.stderr.split())
    assert "not answering" in status.stdout  # found, though it serves no HTTP
    logs = dpi("logs", "consent", data_dir=None, env=env, cwd=elsewhere)
    assert logs.returncode == 0 and "a line of consent's log" in logs.stdout
    down = dpi("down", data_dir=None, env=env, cwd=elsewhere)
    assert down.returncode == 0 and "Stopped: consent" in down.stdout
    assert process.wait(timeout=10) is not None
    assert load_state(data_dir) is None and running_sandboxes() == []
    again = dpi("status", data_dir=None, env=env, cwd=elsewhere)
    assert again.returncode == 1 and "No sandbox is running from" in again.stdout


def test_several_running_sandboxes_need_a_choice(fake_sandbox, state_home, tmp_path):
    data_dir, _ = fake_sandbox
    other = tmp_path / "other"
    prepare_data_dir(other)
    state = load_state(data_dir)
    assert state is not None
    save_state(SandboxState(str(other), state.port_offset, None, state.services))
    result = dpi("down", data_dir=None, env={"DPI_STATE_HOME": str(state_home)}, cwd=tmp_path)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "several sandboxes are running" in message and "--data-dir" in message
    assert load_state(data_dir) is not None and load_state(other) is not None


def test_reset_refuses_while_in_use_even_with_force(fake_sandbox, state_home):
    data_dir, process = fake_sandbox
    for args in (("reset",), ("reset", "--force")):
        result = dpi(*args, data_dir=data_dir, env={"DPI_STATE_HOME": str(state_home)})
        assert result.returncode == 1 and "dpi down" in result.stderr
    assert (data_dir / "logs" / "consent.log").exists() and pid_alive(process.pid)


def test_stale_registry_entries_are_dropped(tmp_path, state_home):
    data_dir = tmp_path / "gone"
    prepare_data_dir(data_dir)
    save_state(
        SandboxState(str(data_dir), 0, None, [RunningService("consent", 2**22 + 7, 1, "", "")])
    )
    assert list((state_home / "running").glob("*.json"))
    assert running_sandboxes() == []
    assert not list((state_home / "running").glob("*.json"))


def test_version_and_did_you_mean(tmp_path):
    version = dpi("--version", data_dir=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("dpi-sandbox ")
    logs = dpi("logs", "consnet", data_dir=tmp_path)
    assert logs.returncode == 2 and "did you mean 'consent'?" in logs.stderr
    run = dpi("run", "sandbox-tuor", data_dir=tmp_path)
    assert run.returncode == 2 and "did you mean 'sandbox-tour'?" in run.stderr


def test_reset_asks_on_a_terminal(tmp_path):
    own = tmp_path / "own"
    prepare_data_dir(own)
    script = (
        "import sys; sys.stdin.isatty = lambda: True; "
        "from sandbox.cli import main; sys.exit(main(['reset', '--data-dir', sys.argv[1]]))"
    )
    for answer, kept in (("n\n", True), ("y\n", False)):
        result = subprocess.run(
            [sys.executable, "-c", script, str(own)],
            input=answer,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert own.exists() is kept, result.stdout + result.stderr
