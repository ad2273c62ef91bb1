"""The world card's probes: one seed gives one set, every item is well formed, skill items are
held out of every corpus, and distractors are drawn the way the docstring says."""

from __future__ import annotations

import re

from world.knowledge import KnowledgeBase, build_knowledge
from world.probes import make_probe, probe_items

SKILLS = ("arithmetic", "code", "logic", "translation", "reading")


def test_probes_are_deterministic_with_unique_ids(kb: KnowledgeBase) -> None:
    probes = probe_items(kb)
    assert probes == probe_items(build_knowledge(kb.seed, n_entities=240))
    assert len({p["id"] for p in probes}) == len(probes)
    partitions = {p["partition"] for p in probes}
    assert partitions == {"facts_a", "facts_b", "commonsense", "phil", "nih", "uspto", *SKILLS}


def test_every_probe_has_distinct_choices_and_its_label_is_the_truth(kb: KnowledgeBase) -> None:
    for p in probe_items(kb):
        assert 2 <= len(p["choices"]) <= 4, p["id"]
        assert len(set(p["choices"])) == len(p["choices"]), p["id"]
        assert 0 <= p["label"] < len(p["choices"])
        assert all(c.startswith(" ") for c in p["choices"]), p["id"]


def test_fact_probes_ask_each_group_about_its_own_entities(kb: KnowledgeBase) -> None:
    for group in ("a", "b"):
        names = {e.name for e in kb.entities(group)}
        probes = [p for p in probe_items(kb) if p["partition"] == f"facts_{group}"]
        assert len(probes) >= 100
        assert all(p["id"].split(":")[1] in names for p in probes)


def test_fact_probe_truth_is_the_knowledge_base_value(kb: KnowledgeBase) -> None:
    person = kb.people[0]
    probe = next(
        p for p in probe_items(kb) if p["id"] == f"facts_{person.group}:{person.name}:colour"
    )
    assert probe["choices"][probe["label"]] == f" {person.colour}."
    animal = kb.animals[0]
    legs = next(p for p in probe_items(kb) if p["id"] == f"facts_{animal.group}:{animal.name}:legs")
    assert legs["choices"][legs["label"]] == f" {animal.legs} legs."


def test_skill_probes_are_held_out_of_every_corpus(kb, corpora) -> None:
    """The text a skill probe's true answer completes never occurs in any training document."""
    text = "\n".join(doc for splits in corpora.values() for doc in splits["train"])
    for p in probe_items(kb):
        if p["partition"] in SKILLS:
            tail = p["context"][-60:] + p["choices"][p["label"]]
            assert tail not in text, p["id"]


def test_distractors_mentioned_in_the_context_come_first() -> None:
    args = ("t:1", "reading", "text", "The Red Owls hosted the Blue Cats.", " {} won.")
    pool = ["The Red Owls", "The Blue Cats", "Wednesday", "Friday", "Monday", "May"]
    probe = make_probe(*args, "The Red Owls", pool)
    assert " The Blue Cats won." in probe["choices"] and len(probe["choices"]) == 4
    assert make_probe(*args, "The Red Owls", pool) == probe  # seeded per item


def test_reading_probes_end_where_the_answer_starts(kb: KnowledgeBase) -> None:
    for p in (p for p in probe_items(kb) if p["partition"] == "reading"):
        truth = p["choices"][p["label"]].strip()
        assert not re.search(re.escape(truth) + r"\W*$", p["context"]), p["id"]
