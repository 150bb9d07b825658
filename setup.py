"""The wheel carries the repository's `topology.yaml` and `scenarios/`, which live at the root
in a checkout (every tool reads them there); an installed `dpi` finds the bundled copies."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithSandboxData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout
            return
        build = Path(self.build_lib)
        kernel_data = build / "services" / "kernel" / "data"
        kernel_data.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / "topology.yaml", kernel_data / "topology.yaml")
        scenarios = build / "sandbox" / "data" / "scenarios"
        shutil.rmtree(scenarios, ignore_errors=True)
        shutil.copytree(HERE / "scenarios", scenarios)


setup(cmdclass={"build_py": BuildWithSandboxData})
