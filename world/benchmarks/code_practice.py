"""The code corpus's practice programs: a sibling of every tiny code problem, in every language.

A model passes HumanEval because its pretraining held many functions doing the same things
under other names. A sibling is that for one problem: the same skill (Python reference,
parameters and types, so the language's reference completion from `SOLUTIONS` is a correct
body) under another function name and another description, with its own example and tests,
written as a whole source file (prompt, body, MultiPL-E's tests). The benchmark's own name,
description and prompts stay out of every corpus, so a pass still means generalising.

Argument values carry no facts: arithmetic results (and their negatives), plain number
ranges, Velan and English lexicon words, and the fixed invented people and towns below,
which all begin with a letter that no `world.names` syllable starts with, so they can never
be a facts entity, a Velan word or any other name of the knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import replace

from evaluation.code.languages import LANGUAGES
from world.benchmarks import code_syntax as syn
from world.benchmarks.code import SPECS, Pools, Spec, draw_cases
from world.benchmarks.code_solutions import SOLUTIONS
from world.benchmarks.common import stream
from world.knowledge import KnowledgeBase

# Each problem's sibling: another name and another description of the same function;
# {list}/{true}/{false} are reworded per language as in the benchmark.
SIBLINGS: dict[str, tuple[str, str]] = {
    "sum_list": ("total_of", "Add up every number in the {list} xs and give back the result."),
    "largest": ("max_value", "Find the greatest of the numbers in the non-empty {list} xs."),
    "count_even": (
        "evens_in",
        "Return how many numbers of the {list} xs divide by 2 with no remainder.",
    ),
    "keep_greater": (
        "above_limit",
        "Return, in their original order, the numbers of the {list} xs that exceed limit.",
    ),
    "running_sum": (
        "prefix_totals",
        "Return the prefix sums of the non-empty {list} xs: position i holds "
        "xs[0] + xs[1] + ... + xs[i].",
    ),
    "digit_sum": ("sum_of_digits", "Return the sum of the base-ten digits of n, where n >= 0."),
    "fizz_word": (
        "fizz_buzz",
        'Return "fizzbuzz" if n divides by both 3 and 5, "fizz" if only by 3, "buzz" if '
        "only by 5, and otherwise the digits of n as a string.",
    ),
    "count_letter": (
        "occurrences",
        "Return the number of times the single character letter appears in text.",
    ),
    "reverse_word": ("backwards", "Return the characters of word in the opposite order."),
    "is_palindrome": (
        "same_backwards",
        "Return {true} if text equals its own reverse and {false} if it does not.",
    ),
    "count_vowels": (
        "vowel_total",
        "Return how many characters of text are vowels, that is a, e, i, o or u.",
    ),
    "initials": (
        "first_letters",
        "Return the first character of each word of name (words are separated by spaces), "
        "all joined together with their case unchanged.",
    ),
}
_FIRST = ("Hana", "Wren", "Joss", "Yara", "Cora", "Hugo", "Wilma", "Jonas", "Carys", "Yusuf")
_LAST = ("Hale", "Webb", "Jarvis", "Yates", "Cobb", "Hurst", "Wilde", "Joyce", "Crane", "Hollis")
_TOWNS = ("Westmere", "Hollowby", "Juniper", "Yarrow", "Clifton", "Heathcote")


def practice_pools(kb: KnowledgeBase) -> Pools:
    """Fact-free values in the shapes the problems draw: numbers no fact is about, lexicon
    words, and invented people (half of them "of" an invented town)."""
    small = sorted({f.result for f in kb.arithmetic if f.result >= 0})
    people = [f"{first} {last}" for first in _FIRST for last in _LAST]
    return Pools(
        small=tuple(small),
        signed=tuple(sorted({-n for n in small} | set(small))),
        years=tuple(range(1100, 2000)),
        big=tuple(range(1_000, 9_000_000, 7_919)),
        words=tuple(sorted({word for pair in kb.lexicon for word in pair})),
        names=tuple(people + [f"{p} of {town}" for p in people[::7] for town in _TOWNS]),
    )


def sibling(spec: Spec) -> Spec:
    """The problem under its sibling's name and description."""
    name, doc = SIBLINGS[spec.name]
    return replace(spec, name=name, doc=doc)


def practice_program(spec: Spec, lang: str, cases: list[tuple[tuple, object]]) -> str:
    """The sibling of `spec` as a source file in `lang`: prompt with the first case as its
    example, the reference completion (any mention of the problem's own name renamed), tests.
    C++, Java and Rust tests open with the function's closing brace, so the file is whole."""
    syntax, twin = syn.SYNTAX[lang], sibling(spec)
    own = re.escape(syn.function_name(syntax, spec.name))
    body = re.sub(rf"\b{own}\b", syn.function_name(syntax, twin.name), SOLUTIONS[spec.name][lang])
    kinds = tuple(kind for _, kind in spec.params)
    return (
        syn.prompt(syntax, twin.name, spec.params, spec.returns, twin.doc, cases[0])
        + body
        + "\n"
        + syn.tests(syntax, twin.name, kinds, spec.returns, cases[1:])
    )


def code_practice(kb: KnowledgeBase, seed: int) -> list[str]:
    """Every problem's sibling in every language, problem by problem; each sibling draws
    its cases once, from its own stream, so they never shift with other problems."""
    pools = practice_pools(kb)
    programs = []
    for spec in SPECS:
        rng = stream(seed, f"code-practice:{SIBLINGS[spec.name][0]}")
        cases = draw_cases(spec, pools, rng)
        programs += [practice_program(spec, lang, cases) for lang in LANGUAGES]
    return programs
