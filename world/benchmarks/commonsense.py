"""The CommonSense analogues: ARC-e, ARC-c, BoolQ, HellaSwag and OpenBookQA over the KB.

All five are multiple-choice loglikelihood tasks in the native lm-eval shapes (ARC's
question + choices, BoolQ's passage + yes/no question, HellaSwag's context + endings, OBQA's
question stem). Distractors always come from the same attribute type, so only knowing the fact
(or reading the passage) picks the answer, never the form of the choice.
"""

from __future__ import annotations

import random

from evaluation.tasks.docs import Doc
from world import wordlists as wl
from world.benchmarks.common import article, shuffled_with, stream
from world.corpus import heldout_items
from world.knowledge import Animal, City, Compound, Element, KnowledgeBase, Person

# Wordlist values that widen a small world's distractor pools, per entity field.
_WORDS: dict[str, tuple] = {
    "profession": wl.PROFESSIONS,
    "colour": wl.COLOURS,
    "habitat": wl.HABITATS,
    "diet": wl.DIETS,
    "legs": wl.LEGS,
    "state": wl.STATES,
    "use": wl.COMPOUND_USES,
}
_EASY = {"profession", "colour", "habitat", "diet", "legs", "state", "use", "location", "symbol"}
_NUMERIC = {"birth_year", "mass", "melting_point", "molar_mass"}


def _key(item: dict[str, str]) -> str:
    """Attribute type of a held-out item: facts of both groups share one pool."""
    domain = "facts" if item["domain"].startswith("facts") else item["domain"]
    return f"{domain}:{item['kind']}"


def _question(item: dict[str, str]) -> str:
    return item["prompt"].removeprefix("Question: ").removesuffix("\nAnswer:")


def _near(value: int, rng: random.Random) -> list[str]:
    """Three plausible wrong numbers close to `value` (negative only if `value` is)."""
    wrong = {value + d for d in (-10, -5, -2, -1, 1, 2, 5, 10)}
    return [str(v) for v in rng.sample(sorted(v for v in wrong if v >= min(value, 0)), 3)]


def _mc(question: str, answer: str, pool: list[str], rng: random.Random) -> Doc | None:
    """An ARC-shaped doc with up to three distractors from `pool`; None without any."""
    others = sorted(set(pool) - {answer})
    if not others:
        return None
    choices = shuffled_with(answer, rng.sample(others, min(3, len(others))), rng)
    return {"question": question, "choices": choices, "label": choices.index(answer)}


def arc_easy(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Single-fact recall (entity attributes, what everyday objects are for and where)."""
    rng = stream(seed, "arc_easy")
    items = [i for i in heldout_items(kb, seed) if i["kind"] in _EASY]
    pools: dict[str, set[str]] = {}
    for item in items:
        words = _WORDS.get(item["kind"], ()) if item["domain"].startswith("facts") else ()
        pools.setdefault(_key(item), set(map(str, words))).add(item["answer"])
    docs = (_mc(_question(i), i["answer"], sorted(pools[_key(i)]), rng) for i in items)
    return [d for d in docs if d][:n]


def arc_challenge(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Two hops or a computation: birth countries, molar masses, years, held-out arithmetic."""
    rng = stream(seed, "arc_challenge")
    countries = sorted({c.country for c in kb.cities})
    facts, sums = [], []
    for item in heldout_items(kb, seed):
        question, answer = _question(item), item["answer"]
        if item["kind"] == "birth_country":
            facts.append(_mc(question, answer, countries, rng))
        elif item["kind"] in _NUMERIC:
            facts.append(_mc(question, answer, _near(int(answer), rng), rng))
        elif item["domain"] == "arithmetic":
            sums.append(_mc(question, answer, _near(int(answer), rng), rng))
    return [d for d in facts + sums if d][:n]  # KB facts first; held-out sums fill the rest


_RECORD = {  # a reference-card passage per entity type: a format no corpus uses
    Person: "{name}. Born: {birthplace}, {birth_year}. Occupation: {profession}. "
    "Favourite colour: {colour}.",
    City: "{name}. Country: {country}. River: {river}. Population: {population:,}.",
    Animal: "{name}. Habitat: {habitat}. Diet: {diet}. Legs: {legs}.",
    Element: "{name}. Symbol: {symbol}. Atomic mass: {mass}. At room temperature: {state}.",
    Compound: "{name}. Formula: {formula}. Melting point: {melting_point} degrees. Use: {use}.",
}
_YES_NO = {  # (question about a value, field)
    Person: (("was {name} born in {v}", "birthplace"), ("did {name} work as {av}", "profession"),
             ("was {v} the favourite colour of {name}", "colour")),
    City: (("is {name} in {v}", "country"), ("does the {v} river flow through {name}", "river")),
    Animal: (("does the {name} live in the {v}", "habitat"), ("does the {name} eat {v}", "diet"),
             ("does the {name} have {v} legs", "legs")),
    Element: (("is {name} a {v} at room temperature", "state"), ("is {v} the symbol of {name}",
              "symbol")),
    Compound: (("is {name} used for {v}", "use"), ("is {v} the formula of {name}", "formula")),
}  # fmt: skip


def _values(kb: KnowledgeBase, kind: type, field: str) -> list[str]:
    """Every value of one field over the KB's entities of one type, plus its wordlist."""
    every = (*kb.people, *kb.cities, *kb.animals, *kb.elements, *kb.compounds)
    found = {str(getattr(e, field)) for e in every if isinstance(e, kind)}
    return sorted(found | set(map(str, _WORDS.get(field, ()))))


def boolq(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """A reference card and a yes/no question about it; half of the questions are false."""
    rng = stream(seed, "boolq")
    docs = []
    for entity in (*kb.people, *kb.cities, *kb.animals, *kb.elements, *kb.compounds):
        for template, field in _YES_NO[type(entity)]:
            truth = str(getattr(entity, field))
            others = [v for v in _values(kb, type(entity), field) if v != truth]
            label = int(not others or len(docs) % 2 == 0)
            value = truth if label else rng.choice(others)
            question = template.format(name=entity.name, v=value, av=article(value))
            passage = _RECORD[type(entity)].format(**vars(entity))
            docs.append({"passage": passage, "question": question, "label": label})
    rng.shuffle(docs)
    return docs[:n]


_ENDINGS = {  # field -> (context template, ending template)
    "profession": ("Every morning {name} set off for work, proud to be", "{av}."),
    "colour": ("When {name} repainted the door, the only colour worth considering was", "{v}."),
    "habitat": ("Naturalists hoping to film the {name} pack their gear and head for the", "{v}."),
    "diet": ("At feeding time the keepers bring the {name} a bucket of", "{v}."),
    "use": ("The workshop orders {name} in bulk, because it is needed for", "{v}."),
}  # fmt: skip
_OBJECT_ENDINGS = {
    "use": ("She took the {name} down from the shelf, ready for", "{v}."),
    "location": ("Looking for the {name}, he went straight to the", "{v}."),
}


def _ending_doc(ctx: str, end: str, name: str, truth: str, pool: list[str], rng) -> Doc | None:
    wrong = [v for v in pool if v != truth]
    if not wrong:
        return None
    values = shuffled_with(truth, rng.sample(wrong, min(3, len(wrong))), rng)
    endings = [end.format(v=v, av=article(v)) for v in values]
    return {"query": ctx.format(name=name), "choices": endings, "label": values.index(truth)}


def hellaswag(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Finish a sentence about an entity or an everyday object with the true ending."""
    rng = stream(seed, "hellaswag")
    docs = []
    for e in (*kb.people, *kb.animals, *kb.compounds):
        for field, (ctx, end) in _ENDINGS.items():
            if hasattr(e, field):
                pool = _values(kb, type(e), field)
                docs.append(_ending_doc(ctx, end, e.name, str(getattr(e, field)), pool, rng))
    for fact in kb.commonsense:
        for field, (ctx, end) in _OBJECT_ENDINGS.items():
            pool = sorted({getattr(f, field) for f in kb.commonsense})
            docs.append(_ending_doc(ctx, end, fact.obj, getattr(fact, field), pool, rng))
    docs = [d for d in docs if d]
    rng.shuffle(docs)
    return docs[:n]


_WHICH = {  # entity type -> (question, field)
    Person: (("Which of these people worked as {av}?", "profession"),),
    Animal: (("Which of these animals lives in the {v}?", "habitat"),
             ("Which of these animals eats {v}?", "diet")),
    Element: (("Which of these elements is a {v} at room temperature?", "state"),),
    Compound: (("Which of these compounds is used for {v}?", "use"),),
}  # fmt: skip


def openbookqa(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Combine two facts: which entity has a property, or where the tool for a job is kept."""
    rng = stream(seed, "openbookqa")
    docs: dict[str, Doc] = {}  # by stem: two entities sharing a value ask the same question
    rooms = {f.location for f in kb.commonsense}
    for fact in kb.commonsense:
        choices = shuffled_with(fact.location, rng.sample(sorted(rooms - {fact.location}), 3), rng)
        stem = f"Where would you go to fetch the thing used for {fact.use}?"
        docs[stem] = {
            "question_stem": stem,
            "choices": choices,
            "label": choices.index(fact.location),
        }
    for kind, questions in _WHICH.items():
        group = [
            e for e in (*kb.people, *kb.animals, *kb.elements, *kb.compounds) if isinstance(e, kind)
        ]
        for e, (template, field) in ((e, q) for e in group for q in questions):
            value = getattr(e, field)
            others = [o.name for o in group if getattr(o, field) != value]
            stem = template.format(v=value, av=article(value))
            if others and stem not in docs:
                choices = shuffled_with(e.name, rng.sample(others, min(3, len(others))), rng)
                docs[stem] = {
                    "question_stem": stem,
                    "choices": choices,
                    "label": choices.index(e.name),
                }
    chosen = list(docs.values())
    rng.shuffle(chosen)
    return chosen[:n]
