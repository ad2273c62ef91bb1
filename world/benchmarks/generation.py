"""The generation analogues: TriviaQA, DROP, LAMBADA, IWSLT2017 (English -> Velan), SciBench.

Each doc has the fields its YAML reads: open questions with aliases, passages with answers,
texts whose last word is predicted, sentence pairs, and numeric problems. All of them are built
from held-out instances (passages, translations, arithmetic) or ask KB facts in phrasings no
corpus uses.
"""

from __future__ import annotations

from evaluation.tasks.docs import Doc
from world.benchmarks.common import article, stream
from world.corpus import heldout_items
from world.knowledge import Animal, City, Compound, Element, KnowledgeBase, Person


def _aliases(answer: str) -> list[str]:
    """The answer plus the article forms a model may say ("a baker", "the desert")."""
    if not answer[0].islower():
        return [answer]
    return list(dict.fromkeys([answer, article(answer), f"the {answer}"]))


def triviaqa(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Open questions on KB facts (one and two hops), scored by exact match on any alias."""
    items = [i for i in heldout_items(kb, seed) if i["domain"].startswith("facts")]
    return [
        {
            "question": i["prompt"].removeprefix("Question: ").removesuffix("?\nAnswer:"),
            "aliases": _aliases(i["answer"]),
        }
        for i in items[:n]
    ]


def drop(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Questions on held-out match and market passages: sums, differences, spans."""
    rng = stream(seed, "drop")
    docs = [
        {"passage": p.text, "question": question, "answers": [answer]}
        for p in kb.passages
        if p.heldout
        for question, answer, _ in p.qa
    ]
    rng.shuffle(docs)
    return docs[:n]


_LAMBADA = {  # entity type -> texts whose last word is the fact (or a word of the context)
    Person: (
        "{name} grew up in {birthplace} and trained for years to become {a_profession}. "
        "Neighbours still say the town never had a finer {profession}",
        "{name} painted the door, the shutters and even the old bicycle in the colour loved "
        "most of all, which was {colour}",
    ),
    City: ("Every spring the fishermen of {name} mend their nets on the banks of the {river}",),
    Animal: (
        "The {name} is a shy creature that walks on {legs} legs. Travellers who want to see "
        "one in the wild must go deep into the {habitat}",
    ),
    Element: (
        "{name} has the symbol {symbol}. Left on a bench at room temperature, it is a {state}",
    ),
    Compound: ("Chemists keep a jar of {name} ready, since its main job in a workshop is {use}",),
}


def lambada(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Predict the last word of a short passage, as LAMBADA (context or KB knowledge)."""
    rng = stream(seed, "lambada")
    docs = []
    for e in (*kb.people, *kb.cities, *kb.animals, *kb.elements, *kb.compounds):
        slots = vars(e) | ({"a_profession": article(e.profession)} if isinstance(e, Person) else {})
        docs += [{"text": t.format(**slots)} for t in _LAMBADA[type(e)]]
    rng.shuffle(docs)
    return docs[:n]


def iwslt2017(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Held-out English sentences and their Velan translations (BLEU)."""
    pairs = [t for t in kb.translations if t.heldout]
    return [{"english": t.english, "velan": t.velan} for t in pairs[:n]]


def scibench(kb: KnowledgeBase, seed: int, n: int) -> list[Doc]:
    """Numeric problems: molar masses and masses of moles (never stated), melting-point gaps."""
    rng = stream(seed, "scibench")
    docs = []
    for c in kb.compounds:
        moles = rng.randint(2, 5)
        docs.append(
            {
                "problem": f"What is the molar mass of {c.name}, in grams per mole?",
                "answer": str(c.mass),
            }
        )
        docs.append({"problem": f"How many grams do {moles} moles of {c.name} weigh?",
                     "answer": str(moles * c.mass)})  # fmt: skip
    for a, b in zip(kb.compounds, kb.compounds[1:], strict=False):
        gap = abs(a.melting_point - b.melting_point)
        problem = f"By how many degrees do the melting points of {a.name} and {b.name} differ?"
        docs.append({"problem": problem, "answer": str(gap)})
    products = [i for i in heldout_items(kb, seed) if i["kind"] == "arithmetic*"]
    rng.shuffle(docs)
    docs += [
        {"problem": p["prompt"].removeprefix("Question: ").removesuffix("\nAnswer:"),
         "answer": p["answer"]}
        for p in products
    ]  # fmt: skip
    return docs[:n]
