"""Short Python programs (HumanEval-style) in parametrised families.

A family ("sum of the multiples of k") appears in the code corpus with some parameters and is
asked about with others, so a held-out task is new text whose skill is learnable.
Expected outputs come from running the reference solution itself (our own template code), so
tests and solutions can never disagree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_INTS = "(xs: list[int])"
_TEXT = "(text: str)"
_WORDS = (
    "apple",
    "river",
    "stone",
    "light",
    "cat",
    "sun",
    "moon",
    "bread",
    "sky",
    "tea",
    "map",
    "garden",
    "owl",
    "yellow",
    "quiet",
)


@dataclass(frozen=True)
class _Family:
    name: str  # formatted with the parameter's label
    signature: str
    doc: str  # formatted with the parameter's value
    body: str  # formatted with the parameter's value
    params: tuple[tuple[str, object], ...]  # (label for the name, value for doc/body)
    inputs: str = "ints"  # argument type: "ints", "letters" (one word) or "words"


_FAMILIES = (
    _Family(
        "sum_multiples_of_{}",
        f"{_INTS} -> int",
        "Return the sum of the numbers in xs that are divisible by {}.",
        "    return sum(x for x in xs if x % {} == 0)\n",
        tuple((str(k), k) for k in range(2, 8)),
    ),
    _Family(
        "count_above_{}",
        f"{_INTS} -> int",
        "Return how many numbers in xs are greater than {}.",
        "    return sum(1 for x in xs if x > {})\n",
        tuple((str(k), k) for k in (0, 5, 10, 20, 50)),
    ),
    _Family(
        "scale_by_{}",
        f"{_INTS} -> list[int]",
        "Return a new list with every number in xs multiplied by {}.",
        "    return [x * {} for x in xs]\n",
        tuple((str(k), k) for k in range(2, 7)),
    ),
    _Family(
        "sum_of_powers_{}",
        f"{_INTS} -> int",
        "Return the sum of every number in xs raised to the power {}.",
        "    return sum(x ** {} for x in xs)\n",
        tuple((str(k), k) for k in range(1, 5)),
    ),
    _Family(
        "drop_below_{}",
        f"{_INTS} -> list[int]",
        "Return the numbers in xs that are at least {}, in their original order.",
        "    return [x for x in xs if x >= {}]\n",
        tuple((str(k), k) for k in (0, 3, 5, 10, 25)),
    ),
    _Family(
        "repeat_chars_{}",
        f"{_TEXT} -> str",
        "Return text with every character repeated {} times.",
        '    return "".join(c * {} for c in text)\n',
        tuple((str(k), k) for k in range(2, 6)),
        "words",
    ),
    _Family(
        "shift_letters_{}",
        f"{_TEXT} -> str",
        "Return the lowercase word text with every letter moved {} places on in the alphabet.",
        '    return "".join(chr((ord(c) - 97 + {}) % 26 + 97) for c in text)\n',
        tuple((str(k), k) for k in range(1, 7)),
        "letters",
    ),
    _Family(
        "long_words_{}",
        f"{_TEXT} -> list[str]",
        "Return the words of text that are longer than {} letters.",
        "    return [w for w in text.split() if len(w) > {}]\n",
        tuple((str(k), k) for k in range(2, 7)),
        "words",
    ),
    _Family(
        "reverse_words_{}",
        f"{_TEXT} -> str",
        "Return the words of text in reverse order, joined by {!r}.",
        "    return {!r}.join(reversed(text.split()))\n",
        (("space", " "), ("comma", ","), ("dash", "-"), ("underscore", "_")),
        "words",
    ),
    _Family(
        "replace_vowels_{}",
        f"{_TEXT} -> str",
        "Return text with every vowel replaced by {!r}.",
        '    return "".join({!r} if c in "aeiou" else c for c in text)\n',
        (("star", "*"), ("hash", "#"), ("dash", "-"), ("dot", ".")),
        "words",
    ),
)


@dataclass(frozen=True)
class Program:
    name: str
    family: str
    prompt: str  # signature and docstring, as a HumanEval prompt
    solution: str  # the indented body that completes the prompt
    tests: tuple[str, ...]  # `assert name(...) == ...` lines
    heldout: bool

    @property
    def source(self) -> str:
        """The complete function."""
        return self.prompt + self.solution


def _inputs(rng: random.Random, kind: str) -> str:
    """A random argument literal of the family's input type."""
    if kind == "ints":
        return repr([rng.randint(-5, 40) for _ in range(rng.randint(0, 6))])
    if kind == "letters":
        return repr("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(5)))
    return repr(" ".join(rng.sample(_WORDS, rng.randint(1, 4))))


def _program(rng: random.Random, fam: _Family, label: str, value: object, heldout: bool) -> Program:
    """Render one member of a family and record its behaviour on random inputs."""
    name = fam.name.format(label)
    solution = fam.body.format(value)
    args = [_inputs(rng, fam.inputs) for _ in range(6)]
    namespace: dict = {}
    exec(f"def {name}{fam.signature}:\n{solution}", namespace)  # our own template
    outputs = [repr(namespace[name](eval(a))) for a in args]  # literals we made
    prompt = (
        f'def {name}{fam.signature}:\n    """{fam.doc.format(value)}\n\n'
        f'    >>> {name}({args[0]})\n    {outputs[0]}\n    """\n'
    )
    tests = tuple(f"assert {name}({a}) == {o}" for a, o in zip(args, outputs, strict=True))
    return Program(name, fam.name.format("k"), prompt, solution, tests, heldout)


def build_programs(rng: random.Random) -> tuple[Program, ...]:
    """Every family member; one or two parameters per family (by seed) are held out."""
    programs = []
    for fam in _FAMILIES:
        n_heldout = 2 if len(fam.params) >= 5 else 1
        heldout = set(rng.sample(range(len(fam.params)), n_heldout))
        programs += [
            _program(rng, fam, label, value, i in heldout)
            for i, (label, value) in enumerate(fam.params)
        ]
    return tuple(programs)
