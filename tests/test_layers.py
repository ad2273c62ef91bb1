"""The import layers hold: imports flow down the pipeline and nothing imports the tiny world.

`make lint` checks the same with import-linter; this test walks the graph itself, so a plain
`make test` fails on an upward edge too, and adds two rules import-linter cannot state.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = {"configs": 0, "fusion": 1, "training": 2, "evaluation": 3, "reports": 4, "world": 4}


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYER:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, ast.AST]]:
    """(module imported, node) of every absolute import of the project's own packages."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            name = next((n for n in reversed(names) if n in MODULES), node.module)
            out.append((name, node))
        elif isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names]
    return [(name, node) for name, node in out if name.split(".")[0] in LAYER]


def test_imports_flow_down_and_nothing_imports_the_world() -> None:
    bad = []
    for module, path in MODULES.items():
        top = module.split(".")[0]
        for name, _ in _imports(path):
            other = name.split(".")[0]
            if other == top:
                continue
            if other == "world" or LAYER[other] >= LAYER[top]:
                bad.append(f"{module} -> {name}")
    assert not bad, bad


def test_a_cli_is_imported_by_nobody() -> None:
    """A module with ``main()`` is an entry point: library code lives beside it, so no cycle
    can run through a CLI (the two cycles of the old layout both did)."""
    clis = {
        m
        for m, p in MODULES.items()
        if any(
            isinstance(n, ast.FunctionDef) and n.name == "main"
            for n in ast.parse(p.read_text()).body
        )
    }
    importers = [
        f"{module} -> {name}"
        for module, path in MODULES.items()
        for name, _ in _imports(path)
        if name in clis and name != module
    ]
    assert clis and not importers, importers


def test_no_function_level_import_of_our_own_modules() -> None:
    """Function-level imports of our modules only ever hid a cycle or an upward edge."""
    hidden = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden += [f"{module}:{n.lineno} {name}" for name, n in _imports_in(fn)]
    assert not hidden, hidden


def _imports_in(fn: ast.AST) -> list[tuple[str, ast.AST]]:
    out = []
    for node in ast.walk(fn):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LAYER:
            out.append((node.module, node))
        elif isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names if a.name.split(".")[0] in LAYER]
    return out


def test_eval_on_a_built_world_does_not_import_the_world(micro_world) -> None:
    """`make eval` reads the world's files; loading its generators would mean it rebuilds them."""
    script = (
        "import sys\n"
        "from evaluation import run_eval\n"
        f"sys.argv = ['run_eval', '--config', {str(ROOT / 'configs/micro.yaml')!r},"
        f" '--runs', {str(micro_world.runs)!r}, '--model', 'llama2',"
        " '--suites', 'commonsense,multiple', '--tasks', 'tiny_boolq']\n"
        "run_eval.main()\n"
        "loaded = sorted(m for m in sys.modules if m == 'world' or m.startswith('world.'))\n"
        "assert not loaded, loaded\n"
        "print('no world module loaded')\n"
    )
    env = dict(os.environ, MLFLOW_TRACKING_URI="")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no world module loaded" in done.stdout


@pytest.mark.skipif(not (ROOT / ".venv/bin/lint-imports").exists(), reason="needs make setup")
def test_import_linter_contract_is_kept() -> None:
    done = subprocess.run(
        [str(ROOT / ".venv/bin/lint-imports")], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and "1 kept, 0 broken" in done.stdout, done.stdout[-2000:]
