"""Shared tiny-world fixtures: one knowledge base and one corpus build per test session."""

from __future__ import annotations

import pytest

from world.corpus import build_corpora, heldout_items
from world.knowledge import KnowledgeBase, build_knowledge

SEED = 7


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return build_knowledge(SEED, n_entities=240)


@pytest.fixture(scope="session")
def corpora(kb: KnowledgeBase) -> dict[str, dict[str, list[str]]]:
    return build_corpora(kb, docs_per_domain=200, test_fraction=0.1, seed=SEED)


@pytest.fixture(scope="session")
def items(kb: KnowledgeBase) -> list[dict[str, str]]:
    return heldout_items(kb, seed=SEED)
