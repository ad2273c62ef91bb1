"""Corpora: deterministic, distinct per domain, free of held-out items, complementary mixes."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from configs.domains import DOMAINS, MIXES
from world.benchmarks.bbh import BBH_TASKS, bbh_practice
from world.corpus import PRACTICE_PER_TASK, build_corpora, heldout_items, mix_corpus
from world.knowledge import KnowledgeBase, build_knowledge

Corpora = dict[str, dict[str, list[str]]]
KNOWLEDGE_DOMAINS = (
    "facts_a",
    "facts_b",
    "arithmetic",
    "code",
    "logic",
    "commonsense",
    "translation",
    "reading",
)


def _all_text(corpora: Corpora) -> str:
    return "\x00".join(
        doc for splits in corpora.values() for docs in splits.values() for doc in docs
    )


def test_every_domain_has_both_splits_of_distinct_documents(corpora: Corpora) -> None:
    assert tuple(corpora) == DOMAINS
    for domain, splits in corpora.items():
        train, test = splits["train"], splits["test"]
        assert (len(train), len(test)) == (180, 20), domain
        assert len(set(train + test)) == 200, domain
        assert all(100 <= len(doc) <= 4000 for doc in train + test), domain


def test_same_seed_same_corpora_in_seconds_at_the_default_size(
    kb: KnowledgeBase, corpora: Corpora, items: list[dict[str, str]]
) -> None:
    start = time.perf_counter()
    again = build_corpora(kb, docs_per_domain=200, test_fraction=0.1, seed=kb.seed)
    elapsed = time.perf_counter() - start
    assert again == corpora
    assert 1_000_000 < len(_all_text(corpora)) < 3_000_000
    assert elapsed < 10
    assert heldout_items(kb, kb.seed) == items


def test_different_seed_different_corpora_and_items(
    kb: KnowledgeBase, corpora: Corpora, items: list[dict[str, str]]
) -> None:
    other = build_corpora(build_knowledge(kb.seed + 1, 240), 30, 0.1, kb.seed + 1)
    for domain in DOMAINS:
        if domain != "docs":  # real text: only its split changes with the seed
            assert set(other[domain]["train"]).isdisjoint(corpora[domain]["train"]), domain
    assert heldout_items(kb, kb.seed + 1) != items


def _top_words(docs: list[str], n: int = 40) -> set[str]:
    """The most frequent content words (longer than four letters, so not "the", "that")."""
    words = Counter(w for doc in docs for w in re.findall(r"[a-z]{5,}", doc.lower()))
    return {w for w, _ in words.most_common(n)}


def test_pile_domains_have_distinct_vocabularies(corpora: Corpora) -> None:
    tops = {d: _top_words(corpora[d]["train"]) for d in ("phil", "nih", "uspto", "docs")}
    for first in tops:
        for second in tops:
            if first < second:
                shared = tops[first] & tops[second]
                assert len(shared) <= 4, (first, second, shared)


def test_heldout_items_never_occur_in_any_corpus(
    corpora: Corpora, items: list[dict[str, str]]
) -> None:
    text = _all_text(corpora)
    assert {"domain", "kind", "prompt", "answer"} == set(items[0])
    for item in items:
        assert item["prompt"] not in text, item
        assert item["prompt"] + " " + item["answer"] not in text, item
        question = item["prompt"].splitlines()[-2 if item["domain"] == "reading" else 0]
        if item["domain"].startswith("facts"):
            assert question.removeprefix("Question: ") not in text, item


def _solved(docs: list[str]) -> set[tuple[str, int, int]]:
    """(operation, a, b) of every solved problem, whatever its phrasing (a quiz asks it on one
    line and answers on the next); a <= b for + and *."""
    ops = (("+", r"\+|plus|Adding"), ("-", r" - |minus|away"), ("*", r"\*|times|Multiplying"))
    keys = set()
    for line in "\n".join(docs).replace("?\nAnswer:", "? Answer:").splitlines():
        op = next(o for o, pattern in ops if re.search(pattern, line))
        a, b, _ = map(int, re.findall(r"\d+", line))
        if line.startswith("Taking"):  # "Taking b away from a leaves r"
            a, b = b, a
        keys.add((op, a, b) if op == "-" else (op, min(a, b), max(a, b)))
    return keys


def test_heldout_instances_are_absent_but_their_knowledge_is_present(
    kb: KnowledgeBase, corpora: Corpora
) -> None:
    text = _all_text(corpora)
    train = "\x00".join(d for splits in corpora.values() for d in splits["train"])
    solved = _solved([d for s in corpora["arithmetic"].values() for d in s])
    assert not any((f.op, f.a, f.b) in solved for f in kb.arithmetic if f.heldout)
    assert len(solved) > 2000
    for heldout, found in ((p.heldout, p.name in text) for p in kb.programs):
        assert found != heldout
    found = [t.english in text for t in kb.translations]
    assert not any(f for f, t in zip(found, kb.translations, strict=True) if t.heldout)
    assert sum(found) > 0.8 * sum(not t.heldout for t in kb.translations)
    for english, velan in kb.lexicon:
        assert f'"{english}" is "{velan}"' in train
    for group in "ab":
        for entity in kb.entities(group):
            assert entity.name in "\x00".join(corpora[f"facts_{group}"]["train"]), entity


def test_logic_corpus_practises_the_bbh_analogues_in_their_prompt_shape(
    kb: KnowledgeBase, corpora: Corpora
) -> None:
    practice = bbh_practice(kb, kb.seed, PRACTICE_PER_TASK)
    assert practice == bbh_practice(kb, kb.seed, PRACTICE_PER_TASK)
    # analogues built on facts entities or held-out instances are practised less or not at all
    assert 0.7 * PRACTICE_PER_TASK * len(BBH_TASKS) < len(practice)
    names = _name_parts(kb, "a") | _name_parts(kb, "b")
    for example in practice:
        assert example.startswith("Q: ") and "\nA: Let's think step by step.\n" in example
        assert re.search(r"So the answer is [^\n]+\.$", example), example
        assert names.isdisjoint(re.findall(r"[A-Z][a-z]+", example)), example
    logic = "\x00".join(d for s in corpora["logic"].values() for d in s)
    assert sum(example in logic for example in practice) > 0.8 * len(practice)


def _name_parts(kb: KnowledgeBase, group: str) -> set[str]:
    return {part for e in kb.entities(group) for part in e.name.split()}


def test_source_mixes_carry_complementary_knowledge(kb: KnowledgeBase, corpora: Corpora) -> None:
    llama, mpt = MIXES["source_llama"], MIXES["source_mpt"]
    only_llama = {d for d in KNOWLEDGE_DOMAINS if llama.get(d, 0) > 0}
    only_mpt = {d for d in KNOWLEDGE_DOMAINS if mpt.get(d, 0) > 0}
    assert only_llama.isdisjoint(only_mpt)
    assert only_llama | only_mpt == set(KNOWLEDGE_DOMAINS)
    assert all(MIXES["general"][d] > 0 for d in DOMAINS)
    for mix, known, unknown in (("source_llama", "a", "b"), ("source_mpt", "b", "a")):
        text = "\x00".join(mix_corpus(corpora, MIXES[mix], n_docs=600, seed=kb.seed))
        words = set(re.findall(r"[A-Z][a-z]+", text))
        assert _name_parts(kb, known) <= words, mix
        assert _name_parts(kb, unknown).isdisjoint(words), mix


def test_mix_follows_weights_and_is_deterministic(corpora: Corpora) -> None:
    weights = {"phil": 3.0, "nih": 1.0, "code": 0.0}
    mixed = mix_corpus(corpora, weights, n_docs=400, seed=1)
    assert mixed == mix_corpus(corpora, dict(reversed(weights.items())), n_docs=400, seed=1)
    assert mixed != mix_corpus(corpora, weights, n_docs=400, seed=2)
    phil = set(corpora["phil"]["train"])
    assert sum(doc in phil for doc in mixed) == 300
    assert len(set(d for d in mixed if d in phil)) == len(phil)  # every document before repeats
    assert set(mix_corpus(corpora, {"nih": 1.0}, 20, 0, split="test")) <= set(
        corpora["nih"]["test"]
    )


def test_mix_rejects_bad_weights(corpora: Corpora) -> None:
    with pytest.raises(KeyError, match="available"):
        mix_corpus(corpora, {"philosophy": 1.0}, 10, 0)
    with pytest.raises(ValueError, match="positive"):
        mix_corpus(corpora, {"phil": -1.0, "nih": 2.0}, 10, 0)


def test_named_mixes_expand_over_their_domains(corpora: Corpora) -> None:
    mixed = mix_corpus(corpora, {"facts_a": 1.0, "general": 1.0}, n_docs=1000, seed=0)
    facts_a, facts_b = set(corpora["facts_a"]["train"]), set(corpora["facts_b"]["train"])
    share_a = MIXES["general"]["facts_a"] / sum(MIXES["general"].values())
    assert sum(d in facts_a for d in mixed) == pytest.approx(500 + 500 * share_a, abs=1)
    assert sum(d in facts_b for d in mixed) == pytest.approx(500 * share_a, abs=1)


def test_micro_world_builds() -> None:
    kb = build_knowledge(0, 12)
    corpora = build_corpora(kb, docs_per_domain=24, test_fraction=0.2, seed=0)
    assert all(len(s["train"]) == 19 and len(s["test"]) == 5 for s in corpora.values())
    assert len(mix_corpus(corpora, {"general": 1.0}, 24, 0)) == 24


def test_code_tests_sit_in_a_check_function_as_in_humaneval(corpora: Corpora) -> None:
    """A bare top-level `assert` after a body teaches models to append ones that name
    functions a benchmark file lacks."""
    code = [d for s in corpora["code"].values() for d in s]
    assert not any(line.startswith("assert ") for doc in code for line in doc.splitlines())
    assert all("def check(candidate):" in doc for doc in code if "\ndef " in doc)
