"""The tiny world's knowledge base: every fact the corpora state and the benchmarks ask about.

Everything is drawn from `random.Random` seeded by the caller, so one seed gives one world.
Entities carry a `group` ("a" or "b"): the `facts_a` and `facts_b` corpus domains describe one
group each, which is how two source models end up knowing different things.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from world import wordlists as wl
from world.names import NameGenerator
from world.pile import Invention, Therapy, Thinker, build_pile_knowledge
from world.programs import Program, build_programs
from world.puzzles import LogicPuzzle, build_puzzles
from world.reading import Passage, build_passages
from world.velan import TranslationPair, build_translations

GROUPS = ("a", "b")


@dataclass(frozen=True)
class Person:
    name: str
    group: str
    birthplace: str  # a City of the same group, so two-hop questions stay within one group
    profession: str
    birth_year: int
    colour: str


@dataclass(frozen=True)
class City:
    name: str
    group: str
    country: str
    population: int
    river: str


@dataclass(frozen=True)
class Animal:
    name: str
    group: str
    habitat: str
    diet: str
    legs: int


@dataclass(frozen=True)
class Element:
    name: str
    group: str
    symbol: str
    mass: int
    state: str


@dataclass(frozen=True)
class Compound:
    name: str
    group: str
    formula: str  # element symbols with counts, e.g. "Qr2Zx"
    mass: int  # molar mass: a fact never stated, computable from the formula and element masses
    melting_point: int
    use: str


Entity = Person | City | Animal | Element | Compound


@dataclass(frozen=True)
class ArithmeticFact:
    a: int
    op: str  # "+", "-" or "*"
    b: int
    result: int
    heldout: bool


@dataclass(frozen=True)
class CommonsenseFact:
    obj: str
    use: str
    location: str


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the world knows; frozen and compared by value, so determinism is testable."""

    seed: int
    people: tuple[Person, ...]
    cities: tuple[City, ...]
    animals: tuple[Animal, ...]
    elements: tuple[Element, ...]
    compounds: tuple[Compound, ...]
    arithmetic: tuple[ArithmeticFact, ...]
    programs: tuple[Program, ...]
    puzzles: tuple[LogicPuzzle, ...]
    commonsense: tuple[CommonsenseFact, ...]
    lexicon: tuple[tuple[str, str], ...]  # (English word, Velan word)
    translations: tuple[TranslationPair, ...]
    passages: tuple[Passage, ...]
    thinkers: tuple[Thinker, ...]
    therapies: tuple[Therapy, ...]
    inventions: tuple[Invention, ...]

    def entities(self, group: str) -> tuple[Entity, ...]:
        """All entities of one group, in a fixed order."""
        every = (*self.people, *self.cities, *self.animals, *self.elements, *self.compounds)
        return tuple(e for e in every if e.group == group)

    def city(self, name: str) -> City:
        """Look a city up by name (for two-hop questions)."""
        return next(c for c in self.cities if c.name == name)


_SHARES = {"people": 0.4, "cities": 0.2, "animals": 0.2, "elements": 0.08, "compounds": 0.12}
_MINIMUM = {"people": 1, "cities": 1, "animals": 1, "elements": 2, "compounds": 1}


def _split(n: int) -> dict[str, int]:
    """Entities per kind and group: people dominate since they carry the most relations."""
    return {
        kind: max(_MINIMUM[kind], round(n * share / len(GROUPS))) for kind, share in _SHARES.items()
    }


def _symbol(name: str, taken: set[str]) -> str:
    """A chemical symbol: first letter plus a later letter of the name, unique in the world."""
    for letter in name[1:]:
        symbol = name[0] + letter
        if symbol not in taken:
            taken.add(symbol)
            return symbol
    raise ValueError(f"no free symbol for {name}")


def _chemistry(
    rng: random.Random, names: NameGenerator, group: str, counts: dict[str, int], symbols: set[str]
) -> tuple[list[Element], list[Compound]]:
    """Invented elements, and binary compounds of them whose molar mass is never stated."""
    elements = []
    for _ in range(counts["elements"]):
        name = names.name(suffix="ium")
        elements.append(
            Element(name, group, _symbol(name, symbols), rng.randint(3, 90), rng.choice(wl.STATES))
        )
    compounds = []
    for _ in range(counts["compounds"]):
        parts = [(e, rng.randint(1, 3)) for e in rng.sample(elements, 2)]
        formula = "".join(e.symbol + (str(k) if k > 1 else "") for e, k in parts)
        compounds.append(
            Compound(
                names.name(suffix="ine"),
                group,
                formula,
                sum(e.mass * k for e, k in parts),
                rng.randint(-50, 900),
                rng.choice(wl.COMPOUND_USES),
            )
        )
    return elements, compounds


def _group_entities(
    rng: random.Random,
    names: NameGenerator,
    group: str,
    counts: dict[str, int],
    places: tuple[list[str], list[str]],
    symbols: set[str],
) -> list[Entity]:
    """Draw one group's entities; relations (birthplace, formula) point inside the group."""
    countries, rivers = places
    cities = [
        City(
            names.name(),
            group,
            rng.choice(countries),
            rng.randint(8, 900) * 1000,
            rng.choice(rivers),
        )
        for _ in range(counts["cities"])
    ]
    people = [
        Person(
            f"{names.name()} {names.name()}",
            group,
            rng.choice(cities).name,
            rng.choice(wl.PROFESSIONS),
            rng.randint(1700, 1990),
            rng.choice(wl.COLOURS),
        )
        for _ in range(counts["people"])
    ]
    animals = [
        Animal(
            names.name(), group, rng.choice(wl.HABITATS), rng.choice(wl.DIETS), rng.choice(wl.LEGS)
        )
        for _ in range(counts["animals"])
    ]
    elements, compounds = _chemistry(rng, names, group, counts, symbols)
    return [*people, *cities, *animals, *elements, *compounds]


def _arithmetic(rng: random.Random, n_heldout: int) -> tuple[ArithmeticFact, ...]:
    """All small +, -, * problems; `n_heldout` per operation are kept out of every corpus.

    Commutative problems are stored once (a <= b), so holding out 3 + 5 also holds out 5 + 3.
    """
    pools = {
        "+": [(a, b, a + b) for a in range(100) for b in range(a, 100)],
        "-": [(a, b, a - b) for a in range(100) for b in range(a + 1)],
        "*": [(a, b, a * b) for a in range(2, 16) for b in range(a, 16)],
    }
    facts = []
    for op, pool in pools.items():
        heldout = set(rng.sample(range(len(pool)), n_heldout))
        facts += [ArithmeticFact(a, op, b, r, i in heldout) for i, (a, b, r) in enumerate(pool)]
    return tuple(facts)


def build_knowledge(seed: int, n_entities: int = 240) -> KnowledgeBase:
    """Generate the whole tiny world from one seed.

    Args:
        seed: the only source of randomness (a private `random.Random`, no global state).
        n_entities: people, cities, animals, elements and compounds over both groups; at least
            12, and rounded per kind (each group has at least one of each and two elements).

    Returns:
        A frozen knowledge base; equal seeds give equal bases, in any process.
    """
    if n_entities < 12:
        raise ValueError(f"n_entities={n_entities} is too small; use at least 12")
    rng = random.Random(f"tiny-world-kb:{seed}")
    names = NameGenerator(rng)
    places = ([names.name() for _ in range(6)], [names.name() for _ in range(10)])
    counts, symbols = _split(n_entities), set()
    entities = [e for g in GROUPS for e in _group_entities(rng, names, g, counts, places, symbols)]
    thinkers, therapies, inventions = build_pile_knowledge(rng, names)
    lexicon, translations = build_translations(rng, names)
    return KnowledgeBase(
        seed=seed,
        people=tuple(e for e in entities if isinstance(e, Person)),
        cities=tuple(e for e in entities if isinstance(e, City)),
        animals=tuple(e for e in entities if isinstance(e, Animal)),
        elements=tuple(e for e in entities if isinstance(e, Element)),
        compounds=tuple(e for e in entities if isinstance(e, Compound)),
        arithmetic=_arithmetic(rng, n_heldout=60),
        programs=build_programs(rng),
        puzzles=build_puzzles(rng),
        commonsense=tuple(CommonsenseFact(*o) for o in wl.OBJECTS),
        lexicon=lexicon,
        translations=translations,
        passages=build_passages(rng, names),
        thinkers=thinkers,
        therapies=therapies,
        inventions=inventions,
    )
