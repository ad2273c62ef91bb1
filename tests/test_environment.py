"""The one environment: every pinned package imports at its pinned version, `pip check` clean."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import subprocess
import sys

import pytest

PINNED = {
    "torch": "2.13.0",
    "transformers": "4.57.6",
    "numpy": "1.26.4",
    "pyarrow": "19.0.1",
    "datasets": "3.6.0",
    "accelerate": "1.15.0",
    "deepspeed": "0.19.8",
    "lm_eval": "0.4.13",
    "opencompass": "0.5.4",
    "mlflow": "3.17.2",
    "pandas": "3.0.6",
}
ALSO_IMPORTED = ["rapidfuzz", "numba", "tqdm", "matplotlib", "pytest", "ruff", "pydantic", "yaml"]
DISTRIBUTION = {"lm_eval": "lm_eval", "yaml": "PyYAML"}


@pytest.mark.parametrize("module", sorted(PINNED) + ALSO_IMPORTED)
def test_package_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("module", sorted(PINNED))
def test_pinned_versions(module: str) -> None:
    version = md.version(DISTRIBUTION.get(module, module))
    assert version.split("+")[0] == PINNED[module]


def test_pip_check_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
