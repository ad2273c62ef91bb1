"""One MultiPL-E problem in one language: what the model continues and what checks it.

Both sources of problems produce this shape: the tiny world's HumanEval-style problems
(`evaluation.tiny.code`) and real HumanEval items (`evaluation.realdata`). A program is
``prompt + completion + tests``; it passes when it exits 0 in time, as in MultiPL-E.
"""

from __future__ import annotations

from dataclasses import dataclass


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
