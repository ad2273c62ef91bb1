"""The knowledge base is a pure function of its seed, and its facts are self-consistent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from world.knowledge import KnowledgeBase, build_knowledge

ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_same_world_and_different_seed_different_world(kb: KnowledgeBase) -> None:
    assert build_knowledge(kb.seed, 240) == kb
    other = build_knowledge(kb.seed + 1, 240)
    assert other.people != kb.people
    assert other.lexicon != kb.lexicon
    assert other.programs != kb.programs


def test_world_does_not_depend_on_the_process_hash_seed() -> None:
    code = "from world.knowledge import build_knowledge; print(build_knowledge(3, 60))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1


def test_names_are_unique_and_invented(kb: KnowledgeBase) -> None:
    names = [e.name for g in "ab" for e in kb.entities(g)]
    assert len(names) == len(set(names))
    parts = [p for n in names for p in n.split()]
    assert len(parts) == len(set(parts))
    assert all(re.fullmatch(r"[A-Z][a-z]+", p) for p in parts)


def test_relations_stay_inside_their_group(kb: KnowledgeBase) -> None:
    for person in kb.people:
        assert kb.city(person.birthplace).group == person.group
    symbols = {e.symbol: e for e in kb.elements}
    for compound in kb.compounds:
        parts = re.findall(r"([A-Z][a-z])(\d*)", compound.formula)
        assert {symbols[s].group for s, _ in parts} == {compound.group}
        assert compound.mass == sum(symbols[s].mass * int(k or 1) for s, k in parts)


def test_both_groups_hold_every_kind(kb: KnowledgeBase) -> None:
    for group in "ab":
        kinds = {type(e).__name__ for e in kb.entities(group)}
        assert kinds == {"Person", "City", "Animal", "Element", "Compound"}


def test_reference_programs_pass_their_tests(kb: KnowledgeBase) -> None:
    for program in kb.programs:
        namespace: dict = {}
        exec(program.source + "\n" + "\n".join(program.tests), namespace)
    families = {p.family for p in kb.programs}
    for family in families:
        members = [p for p in kb.programs if p.family == family]
        assert any(p.heldout for p in members) and not all(p.heldout for p in members)


def test_heldout_arithmetic_covers_each_operation(kb: KnowledgeBase) -> None:
    for op in "+-*":
        facts = [f for f in kb.arithmetic if f.op == op]
        assert 0 < sum(f.heldout for f in facts) < len(facts)
        assert all(eval(f"{f.a} {op} {f.b}") == f.result for f in facts)


def test_velan_is_subject_object_verb(kb: KnowledgeBase) -> None:
    lexicon = dict(kb.lexicon)
    pair = next(t for t in kb.translations if t.english.count(" ") == 4)  # "The x v the y."
    _, subject, verb, _, obj = pair.english.rstrip(".").lower().split()
    assert pair.velan.rstrip(".").lower().split() == [lexicon[subject], lexicon[obj], lexicon[verb]]


def test_too_few_entities_is_refused() -> None:
    with pytest.raises(ValueError, match="n_entities"):
        build_knowledge(0, 5)
