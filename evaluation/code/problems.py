"""One MultiPL-E problem in one language: what the model continues and what checks it.

Both sources of problems produce this shape: the tiny world's HumanEval-style problems
(`world.benchmarks.code`) and real HumanEval items (`evaluation.real.items`). A program is
``prompt + completion + tests``; it passes when it exits 0 in time, as in MultiPL-E.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class CodeProblem:
    """A MultiPL-E-style item: ``prompt`` is a signature plus doc comment, ``tests`` a main
    that exits non-zero on a wrong answer, ``stop_sequences`` end the generation."""

    name: str  # e.g. "tiny_code_3_sum_list", "HumanEval_0_has_close_elements"
    language: str  # a key of evaluation.code.languages.LANGUAGES
    prompt: str
    tests: str
    stop_sequences: tuple[str, ...]
    solution: str | None = None  # a reference completion, where one is known

    def program(self, completion: str) -> str:
        """The whole source file the sandbox runs."""
        return self.prompt + completion + "\n" + self.tests


def save_problems(problems: list[CodeProblem], path: Path) -> None:
    """One JSON object per problem (atomically: a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in problems))
    tmp.rename(path)


def load_problems(path: Path, languages: list[str] | None = None) -> list[CodeProblem]:
    """The problems saved at ``path`` (in ``languages`` only, when given)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    problems = [CodeProblem(**r | {"stop_sequences": tuple(r["stop_sequences"])}) for r in rows]
    return [p for p in problems if languages is None or p.language in languages]
