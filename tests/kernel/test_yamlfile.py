"""YAML read at start goes through libyaml where PyYAML has it: what `yaml.safe_load` gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.interop_layer.catalogue.service import DEFAULT_CATALOGUE
from services.kernel import yamlfile
from services.kernel.topology import topology_path


@pytest.mark.parametrize("path", [topology_path(), DEFAULT_CATALOGUE], ids=lambda p: p.name)
def test_the_files_read_at_start_parse_as_with_the_pure_python_loader(path: Path):
    text = path.read_text(encoding="utf-8")
    assert yamlfile.safe_load(text) == yaml.safe_load(text)


def test_libyaml_is_used_when_pyyaml_has_it_and_stays_safe():
    if yaml.__with_libyaml__:
        assert yamlfile.SafeLoader.__name__ == "CSafeLoader"
    with pytest.raises(yaml.YAMLError):
        yamlfile.safe_load("!!python/object/apply:os.system ['true']")
