"""Scenario files: validation errors name the file, the step and the field."""

from pathlib import Path

import pytest

from sandbox.scenarios.loader import (
    ScenarioError,
    find_scenario,
    load_scenario,
    parse_scenario,
    scenario_files,
)
from sandbox.scenarios.paths import PathError, parse_path, resolve
from sandbox.scenarios.variables import MissingVariable, substitute

HEADER = """
title: T
pattern: P
summary: S
description: D
"""


def error_of(text: str, name: str = "bad.yaml") -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(Path(name), HEADER + text)
    return str(caught.value)


def test_every_scenario_file_in_the_repository_is_valid():
    files = scenario_files()
    assert any(p.stem == "sandbox-tour" for p in files)
    for path in files:
        loaded = load_scenario(path)
        assert loaded.scenario.steps, path


def test_a_missing_step_field_is_named_with_the_step_number_and_title():
    message = error_of(
        """
steps:
  - title: Fine
    actor: A
    boundary: a → b
    request: {service: consent, path: /healthz}
  - title: Forgot the actor
    boundary: a → b
    request: {service: consent, path: /healthz}
"""
    )
    assert message.startswith("bad.yaml: invalid scenario")
    assert 'step 2 "Forgot the actor": actor: Field required' in message


def test_an_unknown_field_and_a_bad_path_are_named():
    message = error_of(
        """
steps:
  - title: Typo
    actor: A
    boundary: a → b
    request: {service: consent, path: healthz, methd: GET}
"""
    )
    assert 'step 1 "Typo": request.methd: Extra inputs are not permitted' in message
    message = error_of(
        """
steps:
  - title: No slash
    actor: A
    boundary: a → b
    request: {service: consent, path: healthz}
"""
    )
    assert 'step 1 "No slash": request: ' in message and "`path` must start with '/'" in message


def test_a_mediated_call_needs_a_subsystem_client_and_a_service_id():
    message = error_of(
        """
steps:
  - title: Through the mediator
    actor: School
    boundary: MOE/emis → mediator → MOH/hmis
    request: {client: DPI/GOV/MOE, provider: DPI/GOV/MOH/hmis/dhis2, path: /x}
"""
    )
    assert 'step 1 "Through the mediator": request' in message
    assert "`client` must be a subsystem id" in message


def test_direct_and_mediated_targets_exclude_each_other():
    message = error_of(
        """
steps:
  - title: Both
    actor: A
    boundary: b
    request: {service: consent, client: DPI/GOV/MOE/emis, provider: DPI/GOV/MOH/hmis/x}
"""
    )
    assert "exclude" in message


def test_a_variable_used_before_it_is_saved_is_refused_at_load_time():
    message = error_of(
        """
steps:
  - title: Uses a token nobody saved
    actor: A
    boundary: b
    request: {service: consent, path: "/x/${token}"}
  - title: Saves it too late
    actor: A
    boundary: b
    request: {service: consent, path: /y}
    save: {token: $.token}
"""
    )
    assert 'step 1 "Uses a token nobody saved": uses ${token} before any step saves it' in message


def test_bad_matchers_bad_json_paths_and_missing_top_level_fields():
    message = error_of(
        """
steps:
  - title: Bad regex
    actor: A
    boundary: b
    request: {service: consent, path: /x}
    expect:
      json:
        a: {regex: "("}
  - title: Bad path
    actor: A
    boundary: b
    request: {service: consent, path: /x}
    expect:
      json:
        "a[": 1
"""
    )
    assert 'step 1 "Bad regex": expect.json.a: invalid regex' in message
    assert 'step 2 "Bad path": expect.json: bad JSON path' in message
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(Path("empty.yaml"), "title: only a title\n")
    text = str(caught.value)
    assert "empty.yaml" in text and "steps: Field required" in text
    assert "pattern: Field required" in text


def test_a_polling_step_needs_an_expectation_and_yaml_errors_are_reported():
    message = error_of(
        """
steps:
  - title: Wait for nothing
    actor: A
    boundary: b
    kind: poll
    request: {service: consent, path: /x}
"""
    )
    assert 'step 1 "Wait for nothing"' in message and "needs an `expect`" in message
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not valid YAML"):
        parse_scenario(Path("broken.yaml"), "title: [unclosed\n")


def test_admin_and_fault_steps_carry_the_admin_key_and_poll_gets_a_deadline():
    scenario = parse_scenario(
        Path("ok.yaml"),
        HEADER
        + """
steps:
  - title: Inject a fault
    actor: Trainer
    boundary: trainer → id_registry
    kind: fault
    request: {service: id_registry, method: POST, path: /mock/expectations, json: {a: 1}}
  - title: Wait
    actor: Trainer
    boundary: b
    kind: poll
    request: {service: consent, path: /x}
    expect: {status: 200}
""",
    )
    assert scenario.steps[0].request.admin is True
    assert scenario.steps[1].poll is not None and scenario.steps[1].poll.timeout > 0


def test_find_scenario_by_name_and_a_helpful_error_for_unknown_names():
    assert find_scenario("sandbox-tour").name == "sandbox-tour.yaml"
    with pytest.raises(ScenarioError, match=r"no scenario .nope.*sandbox-tour"):
        find_scenario("nope")


def test_json_paths():
    document = {"a": {"b": [{"c": 1}, {"c": 2}], "x.y": True}, "rows": [["ou", 3]]}
    assert resolve(document, "$.a.b[1].c") == (True, 2)
    assert resolve(document, "a.b[0].c") == (True, 1)
    assert resolve(document, "a.b[*].c") == (True, [1, 2])
    assert resolve(document, "a['x.y']") == (True, True)
    assert resolve(document, "rows[0][1]") == (True, 3)
    assert resolve(document, "rows[-1][0]") == (True, "ou")
    assert resolve(document, "a.missing") == (False, None)
    assert resolve(document, "a.b[5]") == (False, None)
    assert resolve(document, "$") == (True, document)
    assert resolve(document, "a.b[?@.c > 1].c") == (True, [2])
    assert resolve({"missing": {"true": 1}}, "missing.true") == (True, 1)  # names, not keywords
    with pytest.raises(PathError):
        parse_path("a[")
    with pytest.raises(PathError, match=r"an index is written `\[0\]`"):
        parse_path("a.b.0.c")


def test_variables_keep_their_type_when_alone_and_fail_clearly_when_unknown():
    values = {"n": 3, "token": "abc"}
    assert substitute({"count": "${n}", "path": "/t/${token}/${n}"}, values) == {
        "count": 3,
        "path": "/t/abc/3",
    }
    with pytest.raises(MissingVariable, match=r"\$\{other\} has no value"):
        substitute("${other}", values)


def test_a_json_file_body_must_exist_inside_the_repository():
    message = error_of(
        """
steps:
  - title: Import
    actor: A
    boundary: b
    request: {service: sectoral_platform, method: POST, path: /api/metadata,
              json_file: ../etc/passwd}
"""
    )
    assert "`json_file` '../etc/passwd': no such file in the repository" in message
    message = error_of(
        """
steps:
  - title: Both
    actor: A
    boundary: b
    request: {service: consent, json: {}, json_file: topology.yaml}
"""
    )
    assert "exclude each other" in message


def test_a_step_cannot_use_what_it_saves_itself():
    message = error_of(
        """
steps:
  - title: Circular
    actor: A
    boundary: b
    request: {service: consent, path: /x}
    expect:
      json: {token: "${token}"}
    save: {token: $.token}
"""
    )
    assert 'step 1 "Circular": uses ${token} before any step saves it' in message


def test_vars_may_use_built_ins_and_earlier_vars_only():
    text = """
vars:
  b: "${a}-x"
  a: one
steps:
  - title: S
    actor: A
    boundary: b
    request: {service: consent, path: "/${b}"}
"""
    assert "vars.b: uses ${a}, which is neither built in nor an earlier var" in error_of(text)
    ordered = text.replace('  b: "${a}-x"\n  a: one', '  a: one-${unique}\n  b: "${a}-x"')
    assert parse_scenario(Path("ok.yaml"), HEADER + ordered).vars["b"] == "${a}-x"


def test_a_capture_needs_a_valid_path_and_regex():
    message = error_of(
        """
steps:
  - title: Capture
    actor: A
    boundary: b
    request: {service: consent, path: /x}
    save:
      uin: {path: "$.errors[0].errorMessage", regex: "UIN ([0-9]{10}"}
"""
    )
    assert 'step 1 "Capture": save.uin' in message and "invalid regex" in message
