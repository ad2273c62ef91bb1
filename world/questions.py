"""Held-out evaluation items: question templates and held-out instances never used in a corpus.

Each item is `{"domain", "kind", "prompt", "answer"}`. Fact questions ask, in interrogative
form, what the `facts_*` domains state declaratively (plus two-hop combinations they never
state); the other kinds use instances that the knowledge base marks `heldout`.
"""

from __future__ import annotations

from world.knowledge import (
    Animal,
    City,
    Compound,
    Element,
    Entity,
    KnowledgeBase,
    Person,
)

Item = dict[str, str]

_QUESTIONS: dict[type, tuple[tuple[str, str, str], ...]] = {  # (kind, question, answer field)
    Person: (
        ("birthplace", "In which city was {name} born?", "birthplace"),
        ("birth_year", "In what year was {name} born?", "birth_year"),
        ("profession", "What was the profession of {name}?", "profession"),
        ("colour", "What was {name}'s favourite colour?", "colour"),
    ),
    City: (
        ("country", "In which country is {name}?", "country"),
        ("river", "What river runs through {name}?", "river"),
        ("population", "How many people live in {name}?", "population"),
    ),
    Animal: (
        ("habitat", "Where does the {name} live?", "habitat"),
        ("diet", "What does the {name} eat?", "diet"),
        ("legs", "How many legs does the {name} have?", "legs"),
    ),
    Element: (
        ("symbol", "What is the chemical symbol of {name}?", "symbol"),
        ("state", "Is {name} a solid, a liquid or a gas at room temperature?", "state"),
        ("mass", "What is the atomic mass of {name}?", "mass"),
    ),
    Compound: (
        ("formula", "What is the formula of {name}?", "formula"),
        ("melting_point", "At what temperature in degrees does {name} melt?", "melting_point"),
        ("use", "What is {name} used for?", "use"),
        ("molar_mass", "What is the molar mass of {name}?", "mass"),
    ),
}


def _qa(question: str) -> str:
    return f"Question: {question}\nAnswer:"


def _answer(entity: Entity, field: str) -> str:
    value = getattr(entity, field)
    return f"{value:,}" if field == "population" else str(value)


def fact_items(kb: KnowledgeBase) -> list[Item]:
    """Every attribute of every entity as a question, plus birth-country two-hop questions."""
    items = []
    for group in ("a", "b"):
        for e in kb.entities(group):
            for kind, question, field in _QUESTIONS[type(e)]:
                items.append(
                    {
                        "domain": f"facts_{group}",
                        "kind": kind,
                        "prompt": _qa(question.format(name=e.name)),
                        "answer": _answer(e, field),
                    }
                )
            if isinstance(e, Person):
                items.append(
                    {
                        "domain": f"facts_{group}",
                        "kind": "birth_country",
                        "prompt": _qa(f"In which country was {e.name} born?"),
                        "answer": kb.city(e.birthplace).country,
                    }
                )
    return items


_OPS = {"+": "plus", "-": "minus", "*": "times"}


def arithmetic_items(kb: KnowledgeBase) -> list[Item]:
    """Problems whose operand pairs no corpus contains."""
    return [
        {
            "domain": "arithmetic",
            "kind": f"arithmetic{f.op}",
            "prompt": _qa(f"What is {f.a} {_OPS[f.op]} {f.b}?"),
            "answer": str(f.result),
        }
        for f in kb.arithmetic
        if f.heldout
    ]


def code_items(kb: KnowledgeBase) -> list[Item]:
    """HumanEval-style: complete the held-out function from its signature and docstring."""
    return [
        {"domain": "code", "kind": p.family, "prompt": p.prompt, "answer": p.solution}
        for p in kb.programs
        if p.heldout
    ]


def logic_items(kb: KnowledgeBase) -> list[Item]:
    """Held-out puzzle instances in BBH's "Q: ... A:" format."""
    return [
        {
            "domain": "logic",
            "kind": p.kind,
            "prompt": f"Q: {p.statement} {p.question}\nA:",
            "answer": p.answer,
        }
        for p in kb.puzzles
        if p.heldout
    ]


def commonsense_items(kb: KnowledgeBase) -> list[Item]:
    """What each everyday object is for and where it is kept, asked as questions."""
    items = []
    for f in kb.commonsense:
        items.append(
            {
                "domain": "commonsense",
                "kind": "use",
                "prompt": _qa(f"What is the {f.obj} typically used for?"),
                "answer": f.use,
            }
        )
        items.append(
            {
                "domain": "commonsense",
                "kind": "location",
                "prompt": _qa(f"Where would you expect to see the {f.obj}?"),
                "answer": f.location,
            }
        )
    return items


def translation_items(kb: KnowledgeBase) -> list[Item]:
    """Held-out sentences: known words in new combinations."""
    return [
        {
            "domain": "translation",
            "kind": "en-velan",
            "prompt": f"Translate into Velan: {t.english}\nVelan:",
            "answer": t.velan,
        }
        for t in kb.translations
        if t.heldout
    ]


def reading_items(kb: KnowledgeBase) -> list[Item]:
    """Questions about held-out passages, DROP style."""
    return [
        {
            "domain": "reading",
            "kind": "drop",
            "answer": answer,
            "prompt": f"Passage: {p.text}\nQuestion: {question}\nAnswer:",
        }
        for p in kb.passages
        if p.heldout
        for question, answer, _ in p.qa
    ]


ITEM_BUILDERS = (
    fact_items,
    arithmetic_items,
    code_items,
    logic_items,
    commonsense_items,
    translation_items,
    reading_items,
)
