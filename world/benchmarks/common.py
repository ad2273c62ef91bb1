"""Shared pieces of the tiny-world benchmark generators: seeded streams, distinct draws, options.

Every generator draws from its own `random.Random` keyed by the world seed and the task name,
so adding or changing one task never shifts the items of another.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from evaluation.tasks.docs import Doc
from world.knowledge import KnowledgeBase

# A BBH-style draw: (input text, chain-of-thought rationale, answer); None when the world is
# too small for this draw (e.g. no two entities that differ), so the caller draws again.
Puzzle = tuple[str, str, str]
PuzzleDraw = Callable[[KnowledgeBase, random.Random], Puzzle | None]

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh")


def stream(seed: int, task: str) -> random.Random:
    """The private RNG of one task: the same seed and name give the same items anywhere."""
    return random.Random(f"tiny-eval:{seed}:{task}")


def distinct(draw: Callable[[], Doc | None], n: int, key: str, tries: int = 40) -> list[Doc]:
    """Up to `n` docs whose `key` fields differ; bounded, since small worlds run out of items."""
    docs: list[Doc] = []
    seen: set[str] = set()
    for _ in range(tries * n):
        doc = draw()
        if doc is not None and doc[key] not in seen:
            seen.add(doc[key])
            docs.append(doc)
            if len(docs) == n:
                break
    return docs


def shuffled_with(answer: str, distractors: Sequence[str], rng: random.Random) -> list[str]:
    """The answer among the distractors, in a random order."""
    choices = [answer, *distractors]
    rng.shuffle(choices)
    return choices


def article(noun: str) -> str:
    """The noun with its indefinite article."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def listing(words: list[str]) -> str:
    """A serial-comma list, "x, y, and z", as BBH writes them."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f", and {words[-1]}"


def plural(noun: str) -> str:
    """English plural of the everyday nouns the tasks use (knife -> knives, brush -> brushes)."""
    if noun.endswith("fe"):
        return noun[:-2] + "ves"
    if noun.endswith(("sh", "ch", "s", "x")):
        return noun + "es"
    return noun + "s"


def count_phrase(k: int, noun: str) -> str:
    """A count and its noun: "a kettle", "three kettles"."""
    return article(noun) if k == 1 else f"{NUMBER_WORDS[k]} {plural(noun)}"
