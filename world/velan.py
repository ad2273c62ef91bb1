"""Velan, an invented language for the translation task (the IWSLT2017 analogue).

Its words are seeded inventions; its grammar is one rule a model can learn from parallel text:
no articles, adjectives follow their noun, and the verb comes last (subject-object-verb).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from world import wordlists as wl
from world.names import NameGenerator


@dataclass(frozen=True)
class TranslationPair:
    english: str
    velan: str
    heldout: bool


def _sentence(rng: random.Random, lexicon: dict[str, str]) -> tuple[str, str]:
    """One English sentence "the (adj) noun verb the (adj) noun." and its Velan translation."""
    subject, obj = rng.sample(wl.NOUNS, 2)
    verb = rng.choice(wl.VERBS)
    adjs = [rng.choice(wl.ADJECTIVES) if rng.random() < 0.5 else "" for _ in range(2)]

    def english_np(adj: str, noun: str) -> str:
        return f"the {adj} {noun}" if adj else f"the {noun}"

    def velan_np(adj: str, noun: str) -> str:
        return f"{lexicon[noun]} {lexicon[adj]}" if adj else lexicon[noun]

    english = f"{english_np(adjs[0], subject)} {verb} {english_np(adjs[1], obj)}."
    velan = f"{velan_np(adjs[0], subject)} {velan_np(adjs[1], obj)} {lexicon[verb]}."
    return english.capitalize(), velan.capitalize()


def build_translations(
    rng: random.Random, names: NameGenerator, n: int = 900, n_heldout: int = 150
) -> tuple[tuple[tuple[str, str], ...], tuple[TranslationPair, ...]]:
    """The lexicon and `n` distinct sentence pairs, the first `n_heldout` held out.

    Returns:
        (lexicon as (English, Velan) pairs, sentence pairs).
    """
    lexicon = {w: names.word(2, 2) for w in (*wl.NOUNS, *wl.VERBS, *wl.ADJECTIVES)}
    pairs: dict[str, str] = {}
    while len(pairs) < n:
        english, velan = _sentence(rng, lexicon)
        pairs.setdefault(english, velan)
    translations = tuple(
        TranslationPair(e, v, i < n_heldout) for i, (e, v) in enumerate(pairs.items())
    )
    return tuple(lexicon.items()), translations
