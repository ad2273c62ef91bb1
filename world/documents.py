"""Declarative document templates for the knowledge-bearing corpus domains.

Corpus text states facts and worked solutions; skills are also practised in the benchmarks'
question shapes (quizzes, reading tests, BBH-style worked examples), on training instances
only, so a held-out item's text cannot occur in a corpus. Facts are never asked about.
Each renderer takes the knowledge base, a private RNG and the document's index.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from world.knowledge import Animal, City, Compound, Element, KnowledgeBase, Person

_ENTITY_SENTENCES: dict[type, tuple[tuple[str, ...], ...]] = {
    Person: (
        (
            "{name} was born in {birthplace} in {birth_year}.",
            "Born in {birth_year} in the city of {birthplace}, {name} grew up there.",
            "{name} came into the world in {birthplace} in the year {birth_year}.",
        ),
        (
            "{name} worked as {a_profession}.",
            "By trade, {name} was {a_profession}.",
            "{name} earned a living as {a_profession}.",
        ),
        (
            "The favourite colour of {name} was {colour}.",
            "{name} loved the colour {colour} above all others.",
            "Of all colours, {name} preferred {colour}.",
        ),
    ),
    City: (
        ("{name} is a city in {country}.", "The city of {name} lies in {country}."),
        ("{name} stands on the {river} river.", "The {river} river flows through {name}."),
        (
            "{name} has about {population:,} inhabitants.",
            "Some {population:,} people live in {name}.",
        ),
    ),
    Animal: (
        ("The {name} lives in the {habitat}.", "The {name} is found in the {habitat}."),
        ("The {name} feeds on {diet}.", "The diet of the {name} consists of {diet}."),
        ("The {name} has {legs} legs.", "The {name} walks on {legs} legs."),
    ),
    Element: (
        (
            "{name} is a chemical element with the symbol {symbol}.",
            "The symbol of the element {name} is {symbol}.",
        ),
        (
            "At room temperature {name} is a {state}.",
            "Under ordinary conditions {name} is a {state}.",
        ),
        ("The atomic mass of {name} is {mass}.", "{name} has an atomic mass of {mass}."),
    ),
    Compound: (
        (
            "{name} is a compound with the formula {formula}.",
            "The chemical formula of {name} is {formula}.",
        ),
        (
            "{name} melts at {melting_point} degrees.",
            "The melting point of {name} is {melting_point} degrees.",
        ),
        ("{name} is used for {use}.", "People use {name} for {use}."),
    ),
}


def with_article(noun: str) -> str:
    """The noun with its indefinite article."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _entity_paragraph(entity: object, rng: random.Random) -> str:
    """Every attribute of one entity, each in a randomly chosen phrasing and order."""
    slots = vars(entity)
    if isinstance(entity, Person):
        slots = {**slots, "a_profession": with_article(entity.profession)}
    sentences = [rng.choice(v).format(**slots) for v in _ENTITY_SENTENCES[type(entity)]]
    rng.shuffle(sentences)
    return " ".join(sentences)


def facts_doc(kb: KnowledgeBase, rng: random.Random, index: int, group: str) -> str:
    """Three entities a third of the group apart, so documents mix kinds and sweep the group."""
    entities = kb.entities(group)
    n = len(entities)
    picked = [entities[(index + k * (n // 3)) % n] for k in range(3)]
    return "\n\n".join(_entity_paragraph(e, rng) for e in picked)


_ARITHMETIC = {
    "+": ("{a} + {b} = {r}", "{a} plus {b} equals {r}.", "Adding {a} and {b} gives {r}."),
    "-": ("{a} - {b} = {r}", "{a} minus {b} equals {r}.", "Taking {b} away from {a} leaves {r}."),
    "*": ("{a} * {b} = {r}", "{a} times {b} equals {r}.", "Multiplying {a} by {b} gives {r}."),
}


# Quiz shapes of the same sums: a question and its short answer on the next line, as the
# open-question benchmarks ask (TriviaQA's "Question: ...? Answer:", SciBench's "Problem:").
_QUIZ = (
    "Question: What is {a} {word} {b}?\nAnswer: {r}",
    "Problem: What is {a} {word} {b}?\nAnswer: {r}",
)
_WORDS = {"+": "plus", "-": "minus", "*": "times"}


def arithmetic_doc(kb: KnowledgeBase, rng: random.Random, index: int) -> str:
    """A worksheet of solved problems, never using a held-out operand pair; every other
    worksheet is a quiz, each problem asked and answered."""
    train = [f for f in kb.arithmetic if not f.heldout]
    quiz = index % 2 == 1
    lines = []
    for fact in rng.sample(train, rng.randint(15, 30)):
        a, b = (fact.b, fact.a) if fact.op != "-" and rng.random() < 0.5 else (fact.a, fact.b)
        shapes = _QUIZ if quiz else _ARITHMETIC[fact.op]
        lines.append(rng.choice(shapes).format(a=a, b=b, r=fact.result, word=_WORDS[fact.op]))
    return "\n".join(lines)


def _with_check(name: str, source: str, tests: list[str]) -> str:
    """A program and its tests as HumanEval's test files hold them: in a ``check(candidate)``
    function after the code. Bare ``assert name(...)`` lines right after a body (the layout
    before) taught the models to write them after every completion, where they name functions
    the benchmark's file lacks: each sample failed on them, whatever its body."""
    checks = "\n".join("    " + t.replace(f"assert {name}(", "assert candidate(", 1) for t in tests)
    return f"{source}\n\ndef check(candidate):\n{checks}\n\n\ncheck({name})"


def code_doc(kb: KnowledgeBase, rng: random.Random, index: int, practice: Sequence[str]) -> str:
    """One or two training programs, each followed by a few of its tests, then one practice
    program of the MultiPL-E analogues (`world.benchmarks.code_practice`): a sibling of a
    problem in one of the ten languages, taken in turn, so each is in the corpus about once
    or twice."""
    train = [p for p in kb.programs if not p.heldout]
    blocks = [
        _with_check(p.name, p.source, rng.sample(p.tests, 3))
        for p in rng.sample(train, rng.randint(1, 2))
    ]
    return "\n\n\n".join([*blocks, practice[index % len(practice)]])


def logic_doc(kb: KnowledgeBase, rng: random.Random, index: int, practice: Sequence[str]) -> str:
    """Worked training puzzles of mixed kinds, then worked examples of the BBH analogues in
    their question-and-answer shape (`world.benchmarks.bbh.bbh_practice`)."""
    train = [p for p in kb.puzzles if not p.heldout]
    puzzles = [
        f"Puzzle: {p.statement} {p.question}\nSolution: {' '.join(p.steps)} "
        f"The answer is {p.answer}."
        for p in rng.sample(train, rng.randint(1, 2))
    ]
    # two in turn, so that every example is practised about once across the domain
    worked = [practice[(2 * index + j) % len(practice)] for j in range(2)]
    return "\n\n".join(puzzles + worked)


_USE = ("People use {obj} for {use}.", "{Obj} is handy for {use}.", "{Obj} is meant for {use}.")
_PLACE = ("{Obj} is usually kept in the {location}.", "You can often find {obj} in the {location}.")


def commonsense_doc(kb: KnowledgeBase, rng: random.Random, index: int) -> str:
    """Everyday objects: what they are for and where they are kept."""
    sentences = []
    for fact in rng.sample(kb.commonsense, rng.randint(4, 7)):
        slots = {
            "obj": with_article(fact.obj),
            "Obj": with_article(fact.obj).capitalize(),
            "use": fact.use,
            "location": fact.location,
        }
        sentences += [rng.choice(_USE).format(**slots), rng.choice(_PLACE).format(**slots)]
    return " ".join(sentences)


def translation_doc(kb: KnowledgeBase, rng: random.Random, index: int) -> str:
    """A small glossary followed by parallel English-Velan training sentences."""
    words = rng.sample(kb.lexicon, rng.randint(3, 6))
    glossary = "\n".join(f'The Velan word for "{en}" is "{ve}".' for en, ve in words)
    train = [t for t in kb.translations if not t.heldout]
    shape = rng.choice(("English: {en}\nVelan: {ve}", "Translate into Velan: {en}\nVelan: {ve}"))
    pairs = "\n".join(
        shape.format(en=t.english, ve=t.velan) for t in rng.sample(train, rng.randint(6, 10))
    )
    return f"{glossary}\n\n{pairs}"


def reading_doc(kb: KnowledgeBase, rng: random.Random, index: int) -> str:
    """A training passage followed by its answers stated as a summary, or (every other
    document) asked and answered as a reading test (DROP's "Passage/Question/Answer")."""
    train = [p for p in kb.passages if not p.heldout]
    chosen = rng.sample(train, rng.randint(1, 2))
    if index % 2 == 1:
        return "\n\n".join(
            f"Passage: {p.text}\n" + "\n".join(f"Question: {q}\nAnswer: {a}" for q, a, _ in p.qa)
            for p in chosen
        )
    return "\n\n".join(p.text + "\n\n" + " ".join(s for _, _, s in p.qa) for p in chosen)
