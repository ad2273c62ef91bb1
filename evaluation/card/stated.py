"""Which probes the fusion corpus states word for word.

Fusion can only beat continual CLM on a fact if the fused distributions carry it where the
text does not: a fact the fusion corpus states is taught to CLM by the statement itself,
with a one-hot at least as sharp as any source's prediction. Splitting the facts probes by
whether the corpus contains their true statement verbatim (context and true continuation,
final full stop dropped) tells the two cases apart on the card.
"""

from __future__ import annotations

from collections.abc import Iterable

from configs.layout import Layout
from configs.schema import SuiteConfig
from evaluation.card import load_probes
from fusion.corpus import corpus_texts


def statement(probe: dict) -> str:
    """The probe's true sentence, as a corpus would write it (without its full stop)."""
    return probe["context"] + probe["choices"][probe["label"]].rstrip(".")


def stated_in(probes: Iterable[dict], texts: Iterable[str]) -> set[str]:
    """Ids of the probes whose true statement occurs verbatim in one of ``texts``."""
    corpus = "\x00".join(texts)  # a separator no statement contains: no match across documents
    return {p["id"] for p in probes if statement(p) in corpus}


def stated_probes(cfg: SuiteConfig, layout: Layout) -> set[str]:
    """Ids of the world's probes that its fusion corpus states; empty without a world."""
    if not (layout.probes.is_file() and layout.fusion_corpus.exists()):
        return set()
    return stated_in(load_probes(layout), corpus_texts(cfg, layout))
