"""The tiny world's MultiPL-E: twelve HumanEval-style problems in the ten paper languages.

A problem is data: a typed signature, a one-sentence description, a Python reference that
computes the expected answers, and a way to draw arguments from the knowledge base (entity
names, birth years, masses, melting points, populations, arithmetic results). Each is drawn
once per world seed and rendered into every language by `world.benchmarks.code_syntax` in
MultiPL-E's shape; `world.benchmarks.code_solutions` holds a reference completion per language.
No prompt, description or function name of a problem occurs in any corpus (tests check it).
The code corpus teaches the skills as a real pretraining corpus does: it holds a sibling of
every problem in every language (`world.benchmarks.code_practice`), the same function under
another name and description with other examples, so a pass is generalisation from those.
Bump `CODE_VERSION` on any change to the problems or their rendering.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from evaluation.code.languages import LANGUAGES
from evaluation.code.problems import CodeProblem
from world.benchmarks import code_syntax as syn
from world.benchmarks.code_solutions import SOLUTIONS
from world.benchmarks.common import stream
from world.knowledge import KnowledgeBase

CODE_VERSION = 1
CASES = 6  # test cases per problem, plus one example in the prompt


@dataclass(frozen=True)
class Pools:
    """The knowledge base's values the problems draw their arguments from."""

    small: tuple[int, ...]  # arithmetic results, 0..225
    signed: tuple[int, ...]  # melting points (some below zero) and element masses
    years: tuple[int, ...]  # birth years
    big: tuple[int, ...]  # city populations
    words: tuple[str, ...]  # lowercase one-word names and Velan words
    names: tuple[str, ...]  # capitalised multi-word names: people, "person of city"


def pools(kb: KnowledgeBase) -> Pools:
    """Draw pools from the knowledge base (sorted, so they are independent of set order)."""
    one_word = [e.name.lower() for e in (*kb.cities, *kb.animals, *kb.elements)]
    one_word += [part.lower() for p in kb.people for part in p.name.split()]
    names = [p.name for p in kb.people] + [f"{p.name} of {p.birthplace}" for p in kb.people]
    return Pools(
        small=tuple(sorted({f.result for f in kb.arithmetic if f.result >= 0})),
        signed=tuple(
            sorted({c.melting_point for c in kb.compounds} | {e.mass for e in kb.elements})
        ),
        years=tuple(sorted({p.birth_year for p in kb.people})),
        big=tuple(sorted({c.population for c in kb.cities})),
        words=tuple(sorted(set(one_word) | {velan for _, velan in kb.lexicon})),
        names=tuple(sorted(names)),
    )


Draw = Callable[[Pools, random.Random], tuple]


def _ints(pool: str, low: int, high: int) -> Draw:
    """A list of `low`..`high` numbers from one pool, with repeats."""
    return lambda p, r: ([r.choice(getattr(p, pool)) for _ in range(r.randint(low, high))],)


def _keep_greater(p: Pools, r: random.Random) -> tuple:
    """A list and a limit below its largest element, so the answer is never empty."""
    xs = [r.choice(p.years + p.small) for _ in range(r.randint(2, 6))]
    below = sorted(set(xs))[:-1]
    return xs, r.choice(below) if below else min(xs) - 1


def _fizz(p: Pools, r: random.Random) -> tuple:
    """A number of each kind (by 15, by 3, by 5, neither) in turn, as far as the pool has one."""
    kind = r.randrange(4)
    pick = [n for n in p.small if (n % 3 == 0) + 2 * (n % 5 == 0) == 3 - kind] or p.small
    return (r.choice(pick),)


def _letter(p: Pools, r: random.Random) -> tuple:
    """A name and a letter, half the time one that occurs in it."""
    text = r.choice(p.names).lower()
    pool = text.replace(" ", "") if r.random() < 0.5 else "abcdefghijklmnopqrstuvwxyz"
    return text, r.choice(pool)


def _palindrome(p: Pools, r: random.Random) -> tuple:
    """A word, or a palindrome made from one (odd or even length)."""
    word = r.choice(p.words)
    return (r.choice([word, word + word[::-1], word + word[-2::-1]]),)


def _number(p: Pools, r: random.Random) -> tuple:
    return (r.choice(r.choice([p.small, p.years, p.big])),)


def _fizz_word(n: int) -> str:
    if n % 15 == 0:
        return "fizzbuzz"
    return "fizz" if n % 3 == 0 else "buzz" if n % 5 == 0 else str(n)


@dataclass(frozen=True)
class Spec:
    """One problem: signature, description ({list}/{true}/{false} reworded per language),
    the Python reference and how to draw its arguments."""

    name: str
    params: tuple[tuple[str, syn.Type], ...]
    returns: syn.Type
    doc: str
    reference: Callable[..., object]
    draw: Draw


_INTS: tuple[tuple[str, syn.Type], ...] = (("xs", "list[int]"),)
SPECS: tuple[Spec, ...] = (
    Spec(
        "sum_list",
        _INTS,
        "int",
        "Return the total of all the numbers in the {list} xs.",
        sum,
        _ints("signed", 0, 6),
    ),
    Spec(
        "largest",
        _INTS,
        "int",
        "Return the biggest number of the non-empty {list} xs.",
        max,
        _ints("signed", 1, 6),
    ),
    Spec(
        "count_even",
        _INTS,
        "int",
        "Count how many of the numbers in the {list} xs are even.",
        lambda xs: sum(x % 2 == 0 for x in xs),
        _ints("signed", 0, 6),
    ),
    Spec(
        "keep_greater",
        (("xs", "list[int]"), ("limit", "int")),
        "list[int]",
        "Keep the numbers of the {list} xs that are bigger than limit, in the same order.",
        lambda xs, limit: [x for x in xs if x > limit],
        _keep_greater,
    ),
    Spec(
        "running_sum",
        _INTS,
        "list[int]",
        "Return the running totals of the non-empty {list} xs: item i is xs[0] + ... + xs[i].",
        lambda xs: [sum(xs[: i + 1]) for i in range(len(xs))],
        _ints("small", 1, 6),
    ),
    Spec(
        "digit_sum",
        (("n", "int"),),
        "int",
        "Add up the decimal digits of the number n >= 0.",
        lambda n: sum(int(c) for c in str(n)),
        _number,
    ),
    Spec(
        "fizz_word",
        (("n", "int"),),
        "str",
        'Give "fizzbuzz" when n is a multiple of 15, else "fizz" for a multiple of 3, else '
        '"buzz" for a multiple of 5, else n written in decimal digits.',
        _fizz_word,
        _fizz,
    ),
    Spec(
        "count_letter",
        (("text", "str"), ("letter", "str")),
        "int",
        "Count the places where the one-letter string letter occurs in text.",
        lambda text, letter: text.count(letter),
        _letter,
    ),
    Spec(
        "reverse_word",
        (("word", "str"),),
        "str",
        "Give back word spelled from its end to its start.",
        lambda word: word[::-1],
        lambda p, r: (r.choice(p.words),),
    ),
    Spec(
        "is_palindrome",
        (("text", "str"),),
        "bool",
        "Give {true} when text is the same read backwards, otherwise {false}.",
        lambda text: text == text[::-1],
        _palindrome,
    ),
    Spec(
        "count_vowels",
        (("text", "str"),),
        "int",
        "Count the letters of text that are one of a, e, i, o and u.",
        lambda text: sum(c in "aeiou" for c in text),
        lambda p, r: (r.choice(r.choice([p.words, p.names])).lower(),),
    ),
    Spec(
        "initials",
        (("name", "str"),),
        "str",
        "Join the first letter of every space-separated word of name, keeping its case.",
        lambda name: "".join(w[0] for w in name.split()),
        lambda p, r: (r.choice(p.names),),
    ),
)


def draw_cases(spec: Spec, kb_pools: Pools, rng: random.Random) -> list[tuple[tuple, object]]:
    """The example and the test cases of one problem: distinct argument tuples, answered by
    the reference; fewer only when a tiny world has too few values to draw from. `rng` is the
    problem's own stream (a practice sibling has another)."""
    cases: dict[str, tuple[tuple, object]] = {}
    for _ in range(40 * (CASES + 1)):
        args = spec.draw(kb_pools, rng)
        cases.setdefault(repr(args), (args, spec.reference(*args)))
        if len(cases) == CASES + 1:
            break
    return list(cases.values())


def render(spec: Spec, number: int, lang: str, cases: list[tuple[tuple, object]]) -> CodeProblem:
    """One problem in one language, MultiPL-E's shape (prompt, tests, stop sequences)."""
    syntax = syn.SYNTAX[lang]
    kinds = tuple(kind for _, kind in spec.params)
    example, tests = cases[0], cases[1:]
    return CodeProblem(
        name=f"tiny_code_{number}_{spec.name}",
        language=lang,
        prompt=syn.prompt(syntax, spec.name, spec.params, spec.returns, spec.doc, example),
        tests=syn.tests(syntax, spec.name, kinds, spec.returns, tests),
        stop_sequences=LANGUAGES[lang].stop_sequences,
        solution=SOLUTIONS[spec.name][lang],
    )


def tiny_code_problems(
    kb: KnowledgeBase, seed: int, languages: list[str] | None = None
) -> list[CodeProblem]:
    """Every problem in every requested language (default: all ten), language by language."""
    kb_pools = pools(kb)
    drawn = [
        (i, spec, draw_cases(spec, kb_pools, stream(seed, f"code:{spec.name}")))
        for i, spec in enumerate(SPECS)
    ]
    return [
        render(spec, i, lang, cases)
        for lang in languages or list(LANGUAGES)
        for i, spec, cases in drawn
    ]
