"""DROP-like reading passages: numbers to add, compare and look up.

Corpus passages come with their answers stated as a summary (the skill is learnable); held-out
passages are used only as evaluation prompts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from world import wordlists as wl
from world.names import NameGenerator


@dataclass(frozen=True)
class Passage:
    text: str
    qa: tuple[tuple[str, str, str], ...]  # (question, answer, the answer as a statement)
    heldout: bool


def _match(rng: random.Random, names: NameGenerator) -> Passage:
    """A four-quarter match between two invented teams."""
    home, away = (f"{names.name()} {m}" for m in rng.sample(wl.MASCOTS, 2))
    points = [tuple(rng.sample(range(15), 2)) for _ in wl.QUARTERS]  # no tied quarters
    lines = [f"The {home} hosted the {away}."]
    lines += [
        f"In the {q} quarter the {home} scored {h} points and the {away} scored {a}."
        for q, (h, a) in zip(wl.QUARTERS, points, strict=True)
    ]
    home_total, away_total = sum(h for h, _ in points), sum(a for _, a in points)
    q = rng.randrange(4)
    h, a = points[q]
    leader = home if h > a else away
    qa = (
        (
            f"How many points did the {home} score in the whole match?",
            str(home_total),
            f"Over the whole match the {home} scored {home_total} points.",
        ),
        (
            f"How many points were scored in the {wl.QUARTERS[q]} quarter?",
            str(h + a),
            f"Together the teams scored {h + a} points in the {wl.QUARTERS[q]} quarter.",
        ),
        (
            f"Which team scored more points in the {wl.QUARTERS[q]} quarter?",
            f"the {leader}",
            f"The {leader} won the {wl.QUARTERS[q]} quarter.",
        ),
        (
            "By how many points did the final scores differ?",
            str(abs(home_total - away_total)),
            f"The final scores were {home_total} to {away_total}, "
            f"a difference of {abs(home_total - away_total)} points.",
        ),
    )
    return Passage(" ".join(lines), qa, False)


def _market(rng: random.Random, names: NameGenerator) -> Passage:
    """Sales of two goods over three days in an invented town."""
    town = names.name()
    days = rng.sample(wl.DAYS, 3)
    days.sort(key=wl.DAYS.index)
    first, second = rng.sample(wl.GOODS, 2)
    sales = [(rng.randint(5, 60), rng.randint(5, 60)) for _ in days]
    lines = [f"The market of {town} opens three days a week."]
    lines += [
        f"On {d} its traders sold {x} baskets of {first} and {y} baskets of {second}."
        for d, (x, y) in zip(days, sales, strict=True)
    ]
    total_first = sum(x for x, _ in sales)
    d = rng.randrange(3)
    x, y = sales[d]
    more, fewer = (first, second) if x >= y else (second, first)
    best = max(range(3), key=lambda i: (sales[i][1], -i))
    qa = (
        (
            f"How many baskets of {first} were sold in total?",
            str(total_first),
            f"In total {total_first} baskets of {first} were sold.",
        ),
        (
            f"How many more baskets of {more} than {fewer} were sold on {days[d]}?",
            str(abs(x - y)),
            f"On {days[d]} the traders sold {abs(x - y)} more baskets of {more} than of {fewer}.",
        ),
        (
            f"On which day were the most baskets of {second} sold?",
            days[best],
            f"The most baskets of {second} were sold on {days[best]}.",
        ),
    )
    return Passage(" ".join(lines), qa, False)


def build_passages(
    rng: random.Random, names: NameGenerator, n: int = 300, n_heldout: int = 60
) -> tuple[Passage, ...]:
    """`n` passages, alternating matches and markets; the first `n_heldout` are held out."""
    passages = []
    for i in range(n):
        p = (_match if i % 2 == 0 else _market)(rng, names)
        passages.append(Passage(p.text, p.qa, i < n_heldout))
    return tuple(passages)
