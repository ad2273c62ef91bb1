"""The three BBH subtasks whose BIG-bench source is a program, not a task.json.

BIG-bench's boolean_expressions, multistep_arithmetic and web_of_lies draw their items in a
task.py at evaluation time. BBH fixed one setting of each, and its items show which:
boolean_expressions uses expressions of exactly 8 tokens over True/False/not/and/or and
parentheses, multistep_arithmetic_two two parenthesised groups of four single-digit
operands (-9..9, operators + - *), and web_of_lies chains of five statements. These
generators draw fresh items by those rules from a seeded RNG: the rule is BBH's, the items
are not BBH's own. web_of_lies takes its names from the cached task.py, so no list of names
is copied here.
"""

from __future__ import annotations

import ast
import functools
import random
from collections.abc import Callable
from pathlib import Path

from configs.errors import SuiteError
from evaluation.tasks.docs import Doc

BOOLEAN_TOKENS = 8  # BBH's expression length, in tokens (parentheses count)
ARITHMETIC_GROUPS, ARITHMETIC_OPERANDS = 2, 4
WEB_OF_LIES_STATEMENTS = 5
_CONSTANTS, _BINARY = ("True", "False"), ("and", "or")
_OPERATORS = ("+", "-", "*")


@functools.cache
def boolean_expressions(length: int = BOOLEAN_TOKENS) -> tuple[tuple[str, ...], ...]:
    """Every well-formed expression of exactly `length` tokens, sorted.

    The grammar is BIG-bench's: an operand (constant, ``not`` or ``(``) follows the start, an
    operator or ``(``; an operator or ``)`` follows a constant or ``)``; the expression ends on
    a constant or ``)`` with every parenthesis closed.
    """
    found: list[tuple[str, ...]] = []

    def extend(prefix: tuple[str, ...], depth: int) -> None:
        last = prefix[-1] if prefix else "("
        if len(prefix) == length:
            if depth == 0 and last in (*_CONSTANTS, ")"):
                found.append(prefix)
            return
        after_operand = last in (*_CONSTANTS, ")")
        for token in (*_BINARY, ")") if after_operand else (*_CONSTANTS, "not", "("):
            if token == ")" and depth == 0:
                continue
            extend((*prefix, token), depth + (token == "(") - (token == ")"))

    extend((), 0)
    return tuple(sorted(found))


def _evaluate(expression: str) -> str:
    """The value of an expression built only from Python's own boolean/integer tokens."""
    return str(eval(expression, {"__builtins__": {}}, {}))  # tokens are ours, never input


def boolean_docs(rng: random.Random, n: int) -> list[Doc]:
    """`n` distinct expressions (input ``<expression> is``) and their values."""
    every = list(boolean_expressions())
    rng.shuffle(every)  # a larger n extends a smaller one's items, never reshuffles them
    chosen = every[:n]
    return [{"input": f"{' '.join(e)} is", "target": _evaluate(" ".join(e))} for e in chosen]


def _chain(terms: list[str], rng: random.Random) -> str:
    """``(t1 op t2 op ...)`` with each operator drawn from + - *."""
    parts = [terms[0]]
    for term in terms[1:]:
        parts += [rng.choice(_OPERATORS), term]
    return "(" + " ".join(parts) + ")"


def _arithmetic(rng: random.Random) -> Doc:
    def group() -> str:
        return _chain([str(rng.randint(-9, 9)) for _ in range(ARITHMETIC_OPERANDS)], rng)

    expression = _chain([group() for _ in range(ARITHMETIC_GROUPS)], rng)
    return {"input": f"{expression} =", "target": _evaluate(expression)}


def names_of(task_py: Path) -> list[str]:
    """The ``_names`` list of BIG-bench's web_of_lies task.py, read without running it."""
    for node in ast.walk(ast.parse(task_py.read_text())):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_names" for t in node.targets
        ):
            return [str(x) for x in ast.literal_eval(node.value)]
    raise SuiteError(f"{task_py} has no _names list: delete the real-data cache and refetch it")


def _web_of_lies(names: list[str], rng: random.Random) -> Doc:
    people = rng.sample(names, WEB_OF_LIES_STATEMENTS)
    truthful, sentences = True, []
    for i, person in enumerate(people):
        says_truth = rng.random() < 0.5
        truthful = truthful == says_truth  # calling someone a liar flips the chain's truth
        claim = "tells the truth" if says_truth else "lies"
        subject = person if i == 0 else f"{person} says {people[i - 1]}"
        sentences.append(f"{subject} {claim}.")
    question = f"Question: {' '.join(sentences)} Does {people[-1]} tell the truth?"
    return {"input": question, "target": "Yes" if truthful else "No"}


def description_of(task_py: Path) -> str:
    """The ``description=`` of a task.py's ``TaskMetadata(...)``, with a closing full stop."""
    for node in ast.walk(ast.parse(task_py.read_text())):
        value = node.value if isinstance(node, ast.keyword) and node.arg == "description" else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value.rstrip(".") + "."
    raise SuiteError(f"{task_py} has no description: delete the real-data cache and refetch it")


def _distinct(draw: Callable[[], Doc], n: int) -> list[Doc]:
    """Up to `n` docs with different inputs (bounded: a rule may have fewer items)."""
    docs: dict[str, Doc] = {}
    for _ in range(100 * n):
        doc = draw()
        docs.setdefault(doc["input"], doc)
        if len(docs) == n:
            break
    return list(docs.values())


def arithmetic_docs(_: Path, rng: random.Random, n: int) -> list[Doc]:
    """`n` distinct two-group expressions (input ``<expression> =``) and their values."""
    return _distinct(lambda: _arithmetic(rng), n)


def web_of_lies_docs(task_py: Path, rng: random.Random, n: int) -> list[Doc]:
    """`n` distinct five-statement chains over BIG-bench's names, answered Yes or No."""
    names = names_of(task_py)
    return _distinct(lambda: _web_of_lies(names, rng), n)


Drawer = Callable[[Path, random.Random, int], list[Doc]]  # (task.py, rng, n) -> docs
# BBH subtask -> (the BIG-bench task whose task.py holds the rule, its drawer).
GENERATED: dict[str, tuple[str, Drawer]] = {
    "boolean_expressions": ("boolean_expressions", lambda _, rng, n: boolean_docs(rng, n)),
    "multistep_arithmetic_two": ("multistep_arithmetic", arithmetic_docs),
    "web_of_lies": ("web_of_lies", web_of_lies_docs),
}
