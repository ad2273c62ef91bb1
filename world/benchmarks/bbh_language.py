"""BBH analogues about language and world knowledge, written from the knowledge base.

Each task keeps BBH's question and answer format; the knowledge it needs (what an object is
for, where it is kept, who works as what, Velan words) is the tiny world's, and every sentence
template here is new: none of them occurs in a corpus.
"""

from __future__ import annotations

import random

from evaluation.tasks.docs import letter, options
from world import wordlists as wl
from world.benchmarks.common import Puzzle, article, shuffled_with
from world.knowledge import KnowledgeBase

_YES_NO = "\nOptions:\n- Yes\n- No"


def causal_judgement(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Did a borrower cause the trouble? Yes when the missing tool stopped the work."""
    a, b = (p.name for p in rng.sample(kb.people, 2))
    fact = rng.choice(kb.commonsense)
    story = f"{a} needed the {fact.obj} for {fact.use}. That morning {b} had borrowed the "
    if rng.random() < 0.5:
        story += f"{fact.obj} without asking. {a} searched everywhere and had to give up."
        question, answer = f"Did {b} cause {a} to give up?", "Yes"
        why = f"{a} gave up only because the {fact.obj} was missing, and {b} had taken it."
    else:
        story += f"{fact.obj} but put it back in time. {a} finished, then slipped on a wet step."
        question, answer = f"Did {b} cause {a} to slip?", "No"
        why = f"The {fact.obj} was back in time; the slip came from the wet step, not from {b}."
    text = "How would a typical person answer each of the following questions about causation?"
    return f"{text}\n{story}\n{question}{_YES_NO}", why, answer


# (sentence, what "they" would do, antecedent: 0 first person, 1 second, 2 ambiguous, reason)
_PRONOUNS = (
    ("The {x} paid the {y} because they had finished the job.", "had finished the job", 1,
     "the one who is paid is the one who did the job"),
    ("The {x} thanked the {y} because they had been given a gift.", "had been given a gift", 0,
     "people thank others for what they themselves received"),
    ("The {x} apologised to the {y} because they had broken a cup.", "had broken a cup", 0,
     "the one who apologises is the one who did the damage"),
    ("The {x} congratulated the {y} because they had won a prize.", "had won a prize", 1,
     "people congratulate the winner"),
    ("The {x} told the {y} that they would arrive late.", "would arrive late", 2,
     "either of them could be the one arriving late"),
    ("The {x} phoned the {y} after they got home.", "got home", 2,
     "either of them could have got home"),
)  # fmt: skip


def disambiguation_qa(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Whose is the pronoun: the first person, the second, or ambiguous."""
    template, action, answer, reason = rng.choice(_PRONOUNS)
    x, y = rng.sample(wl.PROFESSIONS, 2)
    text = "In the following sentences, explain the antecedent of the pronoun (which thing the "
    text += "pronoun refers to), or state that it is ambiguous.\n"
    text += f"Sentence: {template.format(x=x, y=y)}\n"
    text += options([f"The {x} {action}", f"The {y} {action}", "Ambiguous"])
    who = ("the " + (x, y)[answer]) if answer < 2 else "ambiguous"
    return text, f"Here {reason}, so the pronoun is {who}.", letter(answer)


_FORMS = (  # (second premise, conclusion, valid, name)
    ("{x} is {p}.", "{x} is {q}.", True, "modus ponens"),
    ("{x} is not {q}.", "{x} is not {p}.", True, "modus tollens"),
    ("{x} is {q}.", "{x} is {p}.", False, "affirming the consequent"),
    ("{x} is not {p}.", "{x} is not {q}.", False, "denying the antecedent"),
)


def formal_fallacies(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """A one-step syllogism about KB people; valid or one of the two classic fallacies."""
    x, friend = (p.name for p in rng.sample(kb.people, 2))
    p = article(rng.choice(wl.PROFESSIONS))
    q = rng.choice((f"a friend of {friend}", f"a fan of {rng.choice(wl.COLOURS)}"))
    second, conclusion, valid, name = rng.choice(_FORMS)
    slots = {"x": x, "p": p, "q": q}
    argument = f"Every person who is {p} is {q}. {second.format(**slots)} "
    argument += f"Therefore, {conclusion.format(**slots)}"
    text = f'"Here is an argument: {argument}"\nIs the argument, given the explicitly stated '
    text += "premises, deductively valid or invalid?\nOptions:\n- valid\n- invalid"
    answer = "valid" if valid else "invalid"
    return text, f"The argument has the form of {name}, which is {answer}.", answer


_ORDER = {  # adjective categories in English order
    "opinion": ("lovely", "ugly", "wonderful", "terrible", "nice"),
    "size": ("big", "small", "huge", "tiny"),
    "age": ("old", "new", "ancient"),
    "shape": ("square", "round", "triangular"),
    "colour": wl.COLOURS,
    "material": ("wool", "glass", "steel", "paper", "leather"),
    "purpose": ("hiking", "drinking", "walking", "sleeping"),
}


def hyperbaton(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Which of two phrases has its adjectives in English order."""
    cats = sorted(rng.sample(list(_ORDER), 3), key=list(_ORDER).index)
    words = [rng.choice(_ORDER[c]) for c in cats]
    noun = rng.choice(wl.NOUNS)
    wrong = words[:]
    while wrong == words:
        rng.shuffle(wrong)
    right_text, wrong_text = (" ".join(w) + f" {noun}" for w in (words, wrong))
    choices = shuffled_with(right_text, [wrong_text], rng)
    text = f"Which sentence has the correct adjective order:\n{options(choices)}"
    why = "English orders adjectives opinion, size, age, shape, colour, material, purpose. "
    why += f"Only {right_text!r} follows it ({', '.join(cats)})."
    return text, why, letter(choices.index(right_text))


def movie_recommendation(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Find the object that belongs with the others: the same room (commonsense facts)."""
    rooms = {f.location for f in kb.commonsense}
    room = rng.choice(sorted(r for r in rooms if sum(f.location == r for f in kb.commonsense) > 1))
    inside = [f.obj for f in kb.commonsense if f.location == room]
    rng.shuffle(inside)
    given, answer = inside[: rng.randint(1, len(inside) - 1)], inside[-1]
    others = [f.obj for f in kb.commonsense if f.location != room]
    choices = shuffled_with(answer, rng.sample(others, 3), rng)
    text = f"Find an object similar to {', '.join(given)}:\n{options(choices)}"
    why = f"{', '.join(given).capitalize()}: all kept in the {room}. Of the options, only the "
    return text, why + f"{answer} is also kept there.", letter(choices.index(answer))


def _typos(name: str, rng: random.Random) -> list[str]:
    """Misspellings that are not words: a doubled, a dropped and a swapped letter."""
    i = rng.randrange(1, len(name) - 2)
    return [
        name[:i] + name[i] + name[i:],
        name[:i] + name[i + 1 :],
        name[:i] + name[i + 1] + name[i] + name[i + 2 :],
    ]


def ruin_names(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """The humorous edit turns the end of a KB name into an everyday English word."""
    name = rng.choice([e.name for e in (*kb.cities, *kb.animals, *kb.elements, *kb.compounds)])
    word = rng.choice(wl.NOUNS)
    pun = name[: max(2, len(name) - 3)] + word
    choices = shuffled_with(pun, [t for t in dict.fromkeys(_typos(name, rng)) if t != name], rng)
    text = f"Which of the following is a humorous edit of this name: '{name}'?\n{options(choices)}"
    why = f"'{pun}' ends in the everyday word '{word}', a pun; the rest are misspellings."
    return text, why, letter(choices.index(pun))


_ERRORS = ("Modifiers or Adjectives", "Numerical Values", "Negation or Antonyms")
_ERRORS += ("Named Entities", "Dropped Content", "Facts")


def _negate(english: str) -> str:
    """Negate the verb of a tiny-world sentence ("sees" -> "does not see")."""
    for verb in wl.VERBS:
        if f" {verb} " in english:
            base = verb[:-3] + "y" if verb.endswith("ies") else verb[:-1]
            base = base[:-1] if verb.endswith(("ches", "shes")) else base
            return english.replace(f" {verb} ", f" does not {base} ", 1)
    raise ValueError(f"no verb in {english!r}")


def salient_translation_error_detection(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """A Velan sentence and a flawed English translation: name the kind of error."""
    pair = rng.choice([t for t in kb.translations if t.heldout])
    words = pair.english.rstrip(".").split()
    adjectives = [w for w in words if w in wl.ADJECTIVES]
    kinds = ["Negation or Antonyms", "Facts"]
    if adjectives:
        kinds += ["Modifiers or Adjectives", "Dropped Content"]
    kind = rng.choice(kinds)
    if kind == "Negation or Antonyms":
        wrong, change = _negate(pair.english), "negates the verb"
    elif kind == "Facts":
        noun = words[-1]
        other = rng.choice([n for n in wl.NOUNS if n not in words])
        wrong, change = pair.english.replace(f" {noun}.", f" {other}."), f"turns {noun} into"
        change += f" {other}"
    else:
        adj = rng.choice(adjectives)
        other = rng.choice([a for a in wl.ADJECTIVES if a not in words])
        swap = f" {other} " if kind.startswith("Modifiers") else " "
        wrong = pair.english.replace(f" {adj} ", swap, 1)
        change = f"changes {adj} to {other}" if swap.strip() else f"leaves out {adj}"
    text = "The following translations from Velan to English contain a particular error. "
    text += f"Please identify that error.\nSource: {pair.velan}\nTranslation: {wrong}\n"
    text += f"The translation contains an error pertaining to\n{options(_ERRORS)}"
    why = f"A correct translation is '{pair.english}'. This one {change}, an error of {kind}."
    return text, why, letter(_ERRORS.index(kind))


_SARCASM = (  # (sarcastic, sincere): the sarcastic one praises a bad turn or denies a fact
    ("How wonderful, the {obj} vanished right when I needed it for {use}.",
     "How annoying, the {obj} vanished right when I needed it for {use}."),
    ("I just love it when someone hides my {obj} and I cannot manage {use}.",
     "I really hate it when someone hides my {obj} and I cannot manage {use}."),
    ("Sure, a {obj} is the last thing you would want for {use}.",
     "Sure, a {obj} is the first thing you would want for {use}."),
)  # fmt: skip


def snarks(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Which of two statements about an everyday object is sarcastic."""
    fact = rng.choice(kb.commonsense)
    sarcastic, sincere = (t.format(obj=fact.obj, use=fact.use) for t in rng.choice(_SARCASM))
    choices = shuffled_with(sarcastic, [sincere], rng)
    text = f"Which statement is sarcastic?\n{options(choices)}"
    why = f"A {fact.obj} is what people use for {fact.use}; {letter(choices.index(sarcastic))} "
    why += "says the opposite of what the speaker means."
    return text, why, letter(choices.index(sarcastic))


_WORK = {  # what each profession is seen doing at work
    "baker": "kneaded dough", "astronomer": "charted the stars", "carpenter": "planed a plank",
    "poet": "finished a sonnet", "physician": "examined a patient", "sailor": "hoisted a sail",
    "weaver": "threaded a loom", "architect": "drew a floor plan", "botanist": "pressed a fern",
    "violinist": "tuned a violin", "cartographer": "drew a coastline",
    "blacksmith": "forged a horseshoe", "judge": "sentenced a thief",
    "potter": "glazed a bowl", "engineer": "tested a pump", "librarian": "shelved new books",
}  # fmt: skip


def sports_understanding(kb: KnowledgeBase, rng: random.Random) -> Puzzle:
    """Is "<person> <did a trade's task> at work" plausible, given the person's profession."""
    person = rng.choice(kb.people)
    trade = person.profession if rng.random() < 0.5 else rng.choice(list(_WORK))
    answer = "yes" if trade == person.profession else "no"
    text = f'Is the following sentence plausible? "{person.name} {_WORK[trade]} at work."'
    why = f"{person.name} was {article(person.profession)}, and {article(trade)} is who "
    why += f"{_WORK[trade]} at work, so the sentence is {'im' * (answer == 'no')}plausible."
    return text, why, answer
