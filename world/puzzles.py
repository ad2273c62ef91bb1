"""BBH-style logic puzzles with worked solutions: ordering, boolean expressions, object tracking,
navigation.

Instances are unique by text; a seeded share is held out, so an evaluation puzzle is never a
corpus puzzle while its kind of reasoning is taught there step by step.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from world import wordlists as wl


@dataclass(frozen=True)
class LogicPuzzle:
    kind: str
    statement: str
    question: str
    steps: tuple[str, ...]  # the reasoning, one sentence each
    answer: str
    heldout: bool


_Draft = tuple[str, str, tuple[str, ...], str]  # statement, question, steps, answer


def _ordering(rng: random.Random) -> _Draft:
    """Who is the most/least X among three or four people, from adjacent comparisons."""
    more, less, most, least = rng.choice(wl.COMPARISONS)
    people = rng.sample(wl.PUZZLE_NAMES, rng.choice((3, 4)))  # from most to least
    clues = [f"{x} is {more} than {y}." for x, y in zip(people, people[1:], strict=False)]
    rng.shuffle(clues)
    chain = f" is {more} than ".join(people)
    ask_most = rng.random() < 0.5
    answer = people[0] if ask_most else people[-1]
    question = f"Who is the {most if ask_most else least}?"
    steps = (
        f"Putting the clues in a chain: {chain}.",
        f"So {answer} is the {most if ask_most else least}.",
    )
    return f"{', '.join(sorted(people))} are friends. {' '.join(clues)}", question, steps, answer


def _boolean(rng: random.Random) -> _Draft:
    """A two-level boolean expression, evaluated inside out."""

    def leaf() -> str:
        v = rng.choice(("True", "False"))
        return f"not {v}" if rng.random() < 0.4 else v

    left = f"( {leaf()} {rng.choice(('and', 'or'))} {leaf()} )"
    expr = f"{left} {rng.choice(('and', 'or'))} {leaf()}"
    inner = str(eval(left))  # our own boolean string
    answer = str(eval(expr))  # our own boolean string
    steps = (f"The bracket {left} is {inner}.", f"Then the whole expression is {answer}.")
    return f"Consider the boolean expression {expr}.", "What is its value?", steps, answer


def _tracking(rng: random.Random) -> _Draft:
    """Three people swap balls three times; who holds a given ball at the end."""
    people = rng.sample(wl.PUZZLE_NAMES, 3)
    balls = dict(zip(people, rng.sample(wl.BALLS, 3), strict=True))
    start = " ".join(f"{p} has a {b} ball." for p, b in balls.items())
    swaps, steps = [], []
    for _ in range(3):
        x, y = rng.sample(people, 2)
        balls[x], balls[y] = balls[y], balls[x]
        swaps.append(f"{x} and {y} swap balls.")
        steps.append(f"After {x} and {y} swap, {x} has {balls[x]} and {y} has {balls[y]}.")
    target = rng.choice(people)
    question = f"What colour is the ball {target} has at the end?"
    return f"{start} Then, in order: {' '.join(swaps)}", question, tuple(steps), balls[target]


def _navigate(rng: random.Random) -> _Draft:
    """Forward/backward moves; does the walker end where it started."""
    moves = [rng.randint(1, 9) * rng.choice((1, -1)) for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.5:
        moves.append(-sum(moves))  # make roughly half of the walks return home
    moves = [m for m in moves if m] or [1]
    said = " ".join(f"Take {abs(m)} steps {'forward' if m > 0 else 'backward'}." for m in moves)
    total = sum(moves)
    answer = "Yes" if total == 0 else "No"
    steps = (
        f"The moves add up to {' + '.join(f'({m})' for m in moves)} = {total}.",
        f"A total of {total} means the answer is {answer}.",
    )
    question = "Do you end up back at the starting point?"
    return f"Always face forward. {said}", question, steps, answer


PUZZLE_KINDS: dict[str, Callable[[random.Random], _Draft]] = {
    "ordering": _ordering,
    "boolean": _boolean,
    "tracking": _tracking,
    "navigate": _navigate,
}


def build_puzzles(
    rng: random.Random, per_kind: int = 150, heldout_per_kind: int = 30
) -> tuple[LogicPuzzle, ...]:
    """`per_kind` distinct puzzles of each kind, the first `heldout_per_kind` held out."""
    puzzles = []
    for kind, draw in PUZZLE_KINDS.items():
        seen: set[str] = set()
        for _ in range(per_kind * 20):  # bounded: the boolean kind has a finite space
            statement, question, steps, answer = draw(rng)
            if statement + question in seen:
                continue
            seen.add(statement + question)
            heldout = len(seen) <= heldout_per_kind
            puzzles.append(LogicPuzzle(kind, statement, question, steps, answer, heldout))
            if len(seen) == per_kind:
                break
    return tuple(puzzles)
