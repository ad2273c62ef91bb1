"""The world card's probes: cheap multiple-choice items, per knowledge partition and skill.

Fusion needs a premise: each source knows what the target does not, and the two sources know
different things. The probes measure that premise directly, model by model, without
generation or chain of thought: each item is a context, a few continuations and the index of
the true one, scored by loglikelihood (``evaluation.card``).

What a probe asks depends on what the partition teaches:
- *stated facts* (`facts_a`, `facts_b`, `commonsense`, and the Pile-like `phil`, `nih`,
  `uspto`): the corpora state each fact; a probe is the cloze of one statement in one of the
  corpus's phrasings, the fact's value against other values of the same attribute. The fact
  is in the training text (that is what knowing it means); the item is not a document;
- *skills* (`arithmetic`, `code`, `logic`, `translation`, `reading`): instances the knowledge
  base holds out of every corpus, so only the skill, not a memory, answers them.

Distractors are other values of the same attribute (same entity kind and group where there
are enough), preferring values that occur in the context itself (the other team of a match,
the other friends of a puzzle), so an answer cannot be picked by what the context mentions.
Everything is drawn from `random.Random` seeded per item: one seed gives one probe set.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

from world import wordlists as wl
from world.documents import with_article
from world.knowledge import Animal, City, Compound, Element, KnowledgeBase, Person

Probe = dict  # {"id", "partition", "kind", "context", "choices", "label"}
CHOICES = 4  # the true continuation and up to three distractors

# (kind, cloze context, true continuation, continuation template): one corpus phrasing each
_FACT_CLOZES: dict[type, tuple[tuple[str, str, str], ...]] = {
    Person: (
        ("birthplace", "{name} was born in", " {}"),
        ("birth_year", "{name} was born in {birthplace} in", " {}."),
        ("profession", "{name} worked as", " {}."),
        ("colour", "The favourite colour of {name} was", " {}."),
    ),
    City: (
        ("country", "{name} is a city in", " {}."),
        ("river", "{name} stands on the", " {} river."),
        ("population", "{name} has about", " {} inhabitants."),
    ),
    Animal: (
        ("habitat", "The {name} lives in the", " {}."),
        ("diet", "The {name} feeds on", " {}."),
        ("legs", "The {name} has", " {} legs."),
    ),
    Element: (
        ("symbol", "The symbol of the element {name} is", " {}."),
        ("state", "At room temperature {name} is a", " {}."),
        ("mass", "The atomic mass of {name} is", " {}."),
    ),
    Compound: (
        ("formula", "The chemical formula of {name} is", " {}."),
        ("melting_point", "The melting point of {name} is", " {} degrees."),
        ("use", "{name} is used for", " {}."),
    ),
}
_VALUE = {
    "profession": lambda e: with_article(e.profession),
    "population": lambda e: f"{e.population:,}",
}
# Attributes drawn from a word list: any value of the list is a plausible distractor.
_CLOSED = {
    "profession": [with_article(p) for p in wl.PROFESSIONS],
    "colour": list(wl.COLOURS),
    "habitat": list(wl.HABITATS),
    "diet": list(wl.DIETS),
    "legs": [str(n) for n in wl.LEGS],
    "state": list(wl.STATES),
}


def _value(entity: object, kind: str) -> str:
    return _VALUE[kind](entity) if kind in _VALUE else str(getattr(entity, kind))


def _mentioned(value: str, context: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", context) is not None


def make_probe(
    item_id: str,
    partition: str,
    kind: str,
    context: str,
    pattern: str,
    true: str,
    pool: list[str],
) -> Probe:
    """One item: ``pattern`` (e.g. ``" {} legs."``) filled with the true value and with up to
    three distractors from ``pool``, those mentioned in the context first, in a seeded order."""
    rng = random.Random(f"tiny-world-probe:{item_id}")
    others = sorted(set(pool) - {true})
    mentioned = [v for v in others if _mentioned(v, context)]
    rest = [v for v in others if v not in mentioned]
    picked = rng.sample(mentioned, min(len(mentioned), CHOICES - 1))
    picked += rng.sample(rest, min(len(rest), CHOICES - 1 - len(picked)))
    if not picked:
        raise ValueError(f"probe {item_id}: no distractor for {true!r}")
    values = [true, *picked]
    rng.shuffle(values)
    return {
        "id": item_id,
        "partition": partition,
        "kind": kind,
        "context": context,
        "choices": [pattern.format(v) for v in values],
        "label": values.index(true),
    }


def _fact_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    every = (*kb.people, *kb.cities, *kb.animals, *kb.elements, *kb.compounds)
    for entity in every:
        cls, group = type(entity), entity.group
        same_kind = [e for e in every if type(e) is cls]
        for kind, context, pattern in _FACT_CLOZES[cls]:
            pool = [_value(e, kind) for e in same_kind if e.group == group]
            if len(set(pool)) < 3:  # too few in the group: other groups' values too
                pool = [_value(e, kind) for e in same_kind]
            pool += _CLOSED.get(kind, [])
            text = context.format(**vars(entity))
            yield make_probe(
                f"facts_{group}:{entity.name}:{kind}",
                f"facts_{group}",
                kind,
                text,
                pattern,
                _value(entity, kind),
                pool,
            )


_OPS = {"+": "plus", "-": "minus", "*": "times"}


def _arithmetic_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    """Held-out problems; distractors near the result, as a wrong sum would be."""
    for f in (f for f in kb.arithmetic if f.heldout):
        near = [f.result + d for d in (-10, -2, -1, 1, 2, 10) if f.result + d >= 0]
        yield make_probe(
            f"arithmetic:{f.a}{f.op}{f.b}",
            "arithmetic",
            f"arithmetic{f.op}",
            f"{f.a} {_OPS[f.op]} {f.b} equals",
            " {}.",
            str(f.result),
            [str(v) for v in near],
        )


def _code_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    """A held-out function, then what one of its tests asserts; the other tests' outputs
    (and the family's) are the distractors."""
    held = [p for p in kb.programs if p.heldout]
    outputs = {
        p.family: [t.split(" == ", 1)[1] for q in held if q.family == p.family for t in q.tests]
        for p in held
    }
    for p in held:
        for i, test in enumerate(p.tests[:2]):
            call, out = test.split(" == ", 1)
            yield make_probe(
                f"code:{p.name}:{i}",
                "code",
                p.family,
                f"{p.source}\n\n{call} ==",
                " {}",
                out,
                outputs[p.family],
            )


def _logic_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    """A held-out puzzle with its worked steps but the last (which states the answer)."""
    held = [p for p in kb.puzzles if p.heldout]
    answers = {p.kind: [q.answer for q in held if q.kind == p.kind] for p in held}
    for i, p in enumerate(held):
        steps = " ".join(p.steps[:-1])
        context = f"Puzzle: {p.statement} {p.question}\nSolution: {steps} The answer is"
        yield make_probe(f"logic:{i}", "logic", p.kind, context, " {}.", p.answer, answers[p.kind])


def _commonsense_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    uses = [f.use for f in kb.commonsense]
    places = [f.location for f in kb.commonsense]
    for f in kb.commonsense:
        obj = with_article(f.obj)
        yield make_probe(
            f"commonsense:{f.obj}:use",
            "commonsense",
            "use",
            f"People use {obj} for",
            " {}.",
            f.use,
            uses,
        )
        yield make_probe(
            f"commonsense:{f.obj}:location",
            "commonsense",
            "location",
            f"{obj.capitalize()} is usually kept in the",
            " {}.",
            f.location,
            places,
        )


def _translation_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    held = [t for t in kb.translations if t.heldout]
    velan = [t.velan for t in held]
    for i, t in enumerate(held):
        yield make_probe(
            f"translation:{i}",
            "translation",
            "en-velan",
            f"English: {t.english}\nVelan:",
            " {}",
            t.velan,
            velan,
        )


def _reading_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    """A held-out passage, then the cloze of one of its answer statements; distractors are
    held-out answers of the same shape (numbers for numbers), the passage's own first."""
    held = [p for p in kb.passages if p.heldout]
    answers = [a for p in held for _, a, _ in p.qa]
    for i, p in enumerate(held):
        for q, (_, answer, statement) in enumerate(p.qa):
            found = list(re.finditer(rf"(?<!\w){re.escape(answer)}(?!\w)", statement, re.I))
            start, end = found[-1].span()
            cap = statement[start].isupper() and not answer[0].isupper()
            case = (lambda v: v[0].upper() + v[1:]) if cap else (lambda v: v)
            context = (p.text + "\n\n" + statement[:start]).rstrip()
            kind = "number" if answer.isdigit() else "text"
            pool = [case(a) for a in answers if a.isdigit() == answer.isdigit()]
            yield make_probe(
                f"reading:{i}:{q}",
                "reading",
                kind,
                context,
                " {}" + statement[end:],
                case(answer),
                pool,
            )


_PILE: dict[str, tuple[tuple[str, str, str, str], ...]] = {  # (kind, context, pattern, field)
    "phil": (
        ("school", "{name}, the founder of the", " {} tradition", "school"),
        ("century", "{name}, who held in the", " {}th century", "century"),
        (
            "rival",
            "{name}, the founder of the {school} tradition, first stated the view: an account of",
            " {}",
            "rival",
        ),
    ),
    "nih": (
        (
            "investigator",
            "{drug}, a candidate agent developed in the laboratory of",
            " {}",
            "investigator",
        ),
        ("gene", "In {model}, we found that {drug} {mechanism}", " {}", "gene"),
        ("disease", "early-phase clinical trials of {drug} in patients with", " {}.", "disease"),
    ),
    "uspto": (
        ("assignee", "U.S. Pat. No. {prior_art} to", " {}", "assignee"),
        ("device", "U.S. Pat. No. {prior_art} to {assignee} discloses a", " {}", "device"),
        (
            "component",
            "One approach, described in U.S. Pat. No. {prior_art} assigned to "
            "{assignee}, provides a",
            " {}",
            "component",
        ),
    ),
}


def _pile_probes(kb: KnowledgeBase) -> Iterator[Probe]:
    subjects = {"phil": kb.thinkers, "nih": kb.therapies, "uspto": kb.inventions}
    for domain, clozes in _PILE.items():
        items = subjects[domain]
        for i, subject in enumerate(items):
            slots = vars(subject)
            for kind, context, pattern, field in clozes:
                pool = [str(getattr(s, field)) for s in items]
                yield make_probe(
                    f"{domain}:{i}:{kind}",
                    domain,
                    kind,
                    context.format(**slots),
                    pattern,
                    str(slots[field]),
                    pool,
                )


PROBE_BUILDERS: tuple[Callable[[KnowledgeBase], Iterator[Probe]], ...] = (
    _fact_probes,
    _arithmetic_probes,
    _code_probes,
    _logic_probes,
    _commonsense_probes,
    _translation_probes,
    _reading_probes,
    _pile_probes,
)


def probe_items(kb: KnowledgeBase) -> list[Probe]:
    """Every probe of the world, grouped by partition in a fixed order."""
    return [probe for build in PROBE_BUILDERS for probe in build(kb)]
