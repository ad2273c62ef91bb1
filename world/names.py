"""Pronounceable invented names, so no tiny-world fact can be guessed from real-world knowledge."""

from __future__ import annotations

import random

_ONSETS = (
    "b",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "dr",
    "kr",
    "th",
    "tr",
    "sk",
)
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ae", "ei", "ou")
_CODAS = ("", "", "", "", "n", "r", "l", "s", "th", "x", "rn")


class NameGenerator:
    """Draws names that are unique across the whole knowledge base.

    One generator per knowledge base means an entity's name never doubles as another entity's
    name or as a word of the invented language, so a name in a document identifies one fact set.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def word(self, min_syllables: int = 2, max_syllables: int = 3) -> str:
        """A fresh lowercase word of at least five letters (short ones collide with English)."""
        while True:
            n = self._rng.randint(min_syllables, max_syllables)
            w = "".join(
                self._rng.choice(_ONSETS) + self._rng.choice(_VOWELS) + self._rng.choice(_CODAS)
                for _ in range(n)
            )
            if len(w) >= 5 and w not in self._used:
                self._used.add(w)
                return w

    def name(self, min_syllables: int = 2, max_syllables: int = 3, suffix: str = "") -> str:
        """A fresh capitalised proper name, optionally with a class suffix ("ium", "ine")."""
        stem = self.word(min_syllables, max_syllables)
        return (stem.rstrip("aeiou") + suffix if suffix else stem).capitalize()
