"""Read scenario files and explain what is wrong with one: file, step, field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sandbox.scenarios.model import ROOT, Request, Scenario
from sandbox.scenarios.variables import VARIABLE
from sandbox.where import did_you_mean

SCENARIOS_DIR = ROOT / "scenarios"
BUILTINS = frozenset({"run_id", "unique", "now", "today"})


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file, step and field."""


@dataclass(frozen=True)
class LoadedScenario:
    name: str
    path: Path
    scenario: Scenario


def _describe(loc: tuple[int | str, ...], raw: Any) -> str:
    """`step 2 "Title": request.path` from a pydantic location."""
    parts = [str(part) for part in loc]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        index = loc[1]
        title = ""
        steps = raw.get("steps") if isinstance(raw, dict) else None
        if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], dict):
            title = f' "{steps[index].get("title", "")}"' if steps[index].get("title") else ""
        field = ".".join(parts[2:]) or "(the step)"
        return f"step {index + 1}{title}: {field}"
    return ".".join(parts) or "(the file)"


def _format_errors(path: Path, error: ValidationError, raw: Any) -> str:
    lines = [f"{path.name}: invalid scenario"]
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  - {_describe(tuple(item['loc']), raw)}: {message}")
    return "\n".join(lines)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def request_variables(request: Request) -> set[str]:
    found: set[str] = set()
    for text in _strings(request.model_dump(by_alias=True)):
        found.update(VARIABLE.findall(text))
    return found


def _check_variables(path: Path, scenario: Scenario) -> None:
    known = set(BUILTINS)
    for name, value in scenario.vars.items():
        used = {found for text in _strings(value) for found in VARIABLE.findall(text)}
        if used - known:
            names = ", ".join(f"${{{n}}}" for n in sorted(used - known))
            raise ScenarioError(
                f"{path.name}: invalid scenario\n  - vars.{name}: uses {names}, which is neither "
                f"built in nor an earlier var (known: {', '.join(sorted(known))})"
            )
        known.add(name)
    for index, step in enumerate(scenario.steps):
        missing = sorted(request_variables(step.request) - known)
        expected = {
            name
            for matcher in [*step.expect.json_.values(), *step.expect.headers.values()]
            for text in _strings(matcher.model_dump())
            for name in VARIABLE.findall(text)
        }
        missing += sorted(expected - known - set(missing))
        if missing:
            names = ", ".join(f"${{{name}}}" for name in missing)
            raise ScenarioError(
                f'{path.name}: invalid scenario\n  - step {index + 1} "{step.title}": '
                f"uses {names} before any step saves it (known: {', '.join(sorted(known))})"
            )
        known |= set(step.save)


def parse_scenario(path: Path, text: str) -> Scenario:
    """Validate one scenario's text; raise ScenarioError naming file, step and field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path.name}: a scenario is a mapping with title, steps, ...")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(path, exc, raw)) from exc
    _check_variables(path, scenario)
    return scenario


def load_scenario(path: Path) -> LoadedScenario:
    scenario = parse_scenario(path, path.read_text(encoding="utf-8"))
    return LoadedScenario(name=path.stem, path=path, scenario=scenario)


def scenario_files(directory: Path = SCENARIOS_DIR) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def find_scenario(name: str, directory: Path = SCENARIOS_DIR) -> Path:
    """A scenario by file path or by name (`sandbox-tour`)."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    for path in scenario_files(directory):
        if path.stem == name:
            return path
    stems = [p.stem for p in scenario_files(directory)]
    hint = did_you_mean(name, stems)
    known = ", ".join(stems) or "none"
    raise ScenarioError(f"no scenario {name!r}{hint} in {directory} (known: {known})")
