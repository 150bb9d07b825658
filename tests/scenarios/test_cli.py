"""`dpi scenarios`, and `dpi run` / `dpi trace` when there is nothing to talk to."""

from pathlib import Path

import pytest

from sandbox import display
from sandbox.cli import main
from sandbox.launcher import free_offset
from sandbox.scenarios.loader import load_scenario, scenario_files
from services.kernel.topology import load_topology


def test_scenarios_lists_every_scenario_with_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the console is built at import, before COLUMNS is set when another test imported it first
    monkeypatch.setattr(display.console, "width", 300)
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for path in scenario_files():
        loaded = load_scenario(path)
        assert loaded.name in out
        assert loaded.scenario.summary in out


def test_run_without_a_sandbox_says_what_is_not_answering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    offset = free_offset(load_topology())
    code = main(["run", "sandbox-tour", "--port-offset", str(offset), "--data-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"id_registry (http://127.0.0.1:{8001 + offset})" in err
    assert "--up" in err
    assert not (tmp_path / "runs").exists()


def test_run_needs_a_name_or_all_and_a_known_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--data-dir", str(tmp_path)]) == 2
    assert main(["run", "no-such-scenario", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--all" in err and "no scenario 'no-such-scenario'" in err


def test_trace_of_an_unknown_run_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", "--data-dir", str(tmp_path)]) == 1
    assert main(["trace", "0000", "--data-dir", str(tmp_path)]) == 1
    assert "no run" in capsys.readouterr().err


def test_the_json_schema_of_scenario_files_validates_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    import jsonschema
    import yaml

    assert main(["scenarios", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    for path in scenario_files():
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "no steps"}, schema)
