"""The tiny world's corpora: one document list per domain, and weighted mixes of them.

Domains split knowledge on purpose: `facts_a` and `facts_b` describe disjoint entity groups,
and the skill domains (code, translation, ...) are distributed over the two source mixes in
`MIXES`, so each source model knows what the other does not, which is what fusion must combine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

from configs.domains import DOMAINS, MIXES
from world import documents, pile, questions
from world.benchmarks.bbh import bbh_practice
from world.benchmarks.code_practice import code_practice
from world.knowledge import KnowledgeBase
from world.stdlib_docs import stdlib_documents

_Renderer = Callable[[KnowledgeBase, random.Random, int], str]
# every domain but "logic" and "code" (which take their benchmarks' practice) and "docs"
# (real text)
_RENDERERS: dict[str, _Renderer] = {
    "facts_a": partial(documents.facts_doc, group="a"),
    "facts_b": partial(documents.facts_doc, group="b"),
    "arithmetic": documents.arithmetic_doc,
    "commonsense": documents.commonsense_doc,
    "translation": documents.translation_doc,
    "reading": documents.reading_doc,
    "phil": lambda kb, rng, i: pile.phil_doc(kb.thinkers, rng),
    "nih": lambda kb, rng, i: pile.nih_doc(kb.therapies, rng),
    "uspto": lambda kb, rng, i: pile.uspto_doc(kb.inventions, rng),
}


PRACTICE_PER_TASK = 20  # worked examples of each BBH analogue the logic domain draws from


def _unique_docs(
    kb: KnowledgeBase, render: _Renderer, domain: str, rng: random.Random, n: int
) -> list[str]:
    """`n` distinct documents, so no test document is also a training document."""
    docs, seen = [], set()
    for index in range(20 * n):
        doc = render(kb, rng, index)
        if doc not in seen:
            seen.add(doc)
            docs.append(doc)
            if len(docs) == n:
                return docs
    raise ValueError(f"domain {domain!r} cannot produce {n} distinct documents")


def build_corpora(
    kb: KnowledgeBase, docs_per_domain: int = 200, test_fraction: float = 0.1, seed: int = 0
) -> dict[str, dict[str, list[str]]]:
    """Render every domain and split it into train and test documents.

    Args:
        kb: the knowledge base the documents state.
        docs_per_domain: documents per domain, before the split. The facts domains mention
            every entity once `docs_per_domain` reaches a third of a group; `docs` (real
            stdlib text) tops out near 1,000.
        test_fraction: share of each domain held out as its `test` split (perplexity evaluation).
        seed: corpus seed; each domain draws from its own stream, so domains are independent.

    Returns:
        `{domain: {"train": [...], "test": [...]}}` for every domain in `DOMAINS`.
    """
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction} must be in [0, 1)")
    practice = bbh_practice(kb, seed, PRACTICE_PER_TASK)
    renderers = _RENDERERS | {
        "logic": partial(documents.logic_doc, practice=practice),
        "code": partial(documents.code_doc, practice=code_practice(kb, seed)),
    }
    corpora = {}
    for domain in DOMAINS:
        rng = random.Random(f"tiny-world-corpus:{seed}:{domain}")
        if domain == "docs":
            docs = stdlib_documents(docs_per_domain)
        else:
            docs = _unique_docs(kb, renderers[domain], domain, rng, docs_per_domain)
        rng.shuffle(docs)
        n_test = round(len(docs) * test_fraction)
        corpora[domain] = {"train": docs[n_test:], "test": docs[:n_test]}
    return corpora


def _apportion(weights: dict[str, float], n: int) -> dict[str, int]:
    """Split `n` by weight with the largest-remainder rule (exact, order independent)."""
    total = sum(weights.values())
    quotas = {d: n * w / total for d, w in sorted(weights.items())}
    counts = {d: int(q) for d, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda d: (counts[d] - quotas[d], d))
    for d in by_remainder[: n - sum(counts.values())]:
        counts[d] += 1
    return counts


def _expand(weights: dict[str, float], domains: list[str]) -> dict[str, float]:
    """Domain weights, with any named mix of `MIXES` (e.g. "general") spread over its domains."""
    if any(w < 0 for w in weights.values()) or not any(w > 0 for w in weights.values()):
        raise ValueError(f"weights must be >= 0 with a positive sum, got {weights}")
    unknown = sorted(k for k in weights if k not in domains and k not in MIXES)
    if unknown:
        raise KeyError(f"unknown domains {unknown}; available: {domains} or mixes {sorted(MIXES)}")
    expanded: dict[str, float] = {}
    for key, weight in weights.items():
        parts = {key: 1.0} if key in domains else MIXES[key]
        total = sum(parts.values())
        for domain, share in parts.items():
            expanded[domain] = expanded.get(domain, 0.0) + weight * share / total
    return {d: w for d, w in expanded.items() if w > 0}


def mix_corpus(
    corpora: dict[str, dict[str, list[str]]],
    weights: dict[str, float],
    n_docs: int,
    seed: int,
    split: str = "train",
) -> list[str]:
    """Sample `n_docs` documents across domains in proportion to `weights`, shuffled.

    `weights` keys are domains or names of `MIXES` (`{"facts_a": 3, "general": 1}` adds the
    general mix at a quarter of the weight). Within a domain documents are drawn without
    replacement, reshuffling only when the domain is exhausted, so a small weight still sees
    distinct documents first.
    """
    rng = random.Random(f"tiny-world-mix:{seed}")
    mixed: list[str] = []
    for domain, count in _apportion(_expand(weights, sorted(corpora)), n_docs).items():
        pool = corpora[domain][split]
        if count and not pool:
            raise ValueError(f"domain {domain!r} has no {split!r} documents to sample")
        while count > 0:
            order = rng.sample(pool, len(pool))
            mixed += order[:count]
            count -= len(order)
    rng.shuffle(mixed)
    return mixed


def heldout_items(kb: KnowledgeBase, seed: int) -> list[dict[str, str]]:
    """Evaluation items (`domain`, `kind`, `prompt`, `answer`) whose text no corpus contains.

    The order is shuffled by `seed`, so taking a prefix gives a random sample.
    """
    items = [item for build in questions.ITEM_BUILDERS for item in build(kb)]
    random.Random(f"tiny-world-items:{seed}").shuffle(items)
    return items
