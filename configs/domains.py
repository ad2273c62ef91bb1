"""The tiny world's corpus domains and named mixes: names every config may use.

They sit in `configs` because the schema validates ``mix`` keys against them, and a config
must load without the world generator (paper configs never build one). Domains split
knowledge on purpose: `facts_a` and `facts_b` describe disjoint entity groups, and the skill
domains are distributed over the two source mixes, so each source knows what the other does
not, which is what fusion must combine.
"""

from __future__ import annotations

DOMAINS: tuple[str, ...] = (
    "facts_a",
    "facts_b",
    "arithmetic",
    "code",
    "logic",
    "commonsense",
    "translation",
    "reading",
    "docs",
    "phil",
    "nih",
    "uspto",
)

_GENERAL = {
    "docs": 0.18,
    "facts_a": 0.08,
    "facts_b": 0.08,
    "arithmetic": 0.08,
    "code": 0.08,
    "logic": 0.08,
    "commonsense": 0.08,
    "translation": 0.08,
    "reading": 0.08,
    "phil": 0.06,
    "nih": 0.06,
    "uspto": 0.06,
}

MIXES: dict[str, dict[str, float]] = {
    # MiniPile analogue: target and KD-teacher pretraining, the fusion corpus, the Pythia base.
    "general": _GENERAL,
    # The tiny target's own pretraining: the general mix without the two facts partitions, so
    # that the facts the sources hold are knowledge the target lacks while it stays their peer
    # on the rest of the fusion corpus (which states those facts only rarely).
    "general_no_facts": {d: w for d, w in _GENERAL.items() if not d.startswith("facts_")},
    # Source 1 (OpenLLaMA analogue): group-A facts, translation, logic, commonsense.
    "source_llama": {
        "facts_a": 0.35,
        "translation": 0.15,
        "logic": 0.15,
        "commonsense": 0.15,
        "docs": 0.20,
    },
    # Source 2 (MPT analogue): group-B facts, code, arithmetic, reading.
    "source_mpt": {
        "facts_b": 0.35,
        "code": 0.20,
        "arithmetic": 0.15,
        "reading": 0.10,
        "docs": 0.20,
    },
    # Pythia experiment: the base continues on one Pile-like domain each.
    "pythia_phil": {"phil": 1.0},
    "pythia_nih": {"nih": 1.0},
    "pythia_uspto": {"uspto": 1.0},
}
