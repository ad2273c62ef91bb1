"""Tiny-world benchmarks: complete, loadable by lm-eval, deterministic, held out of every corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lm_eval.tasks import TaskManager

from configs.loader import load_config
from evaluation.suites import bbh_task
from evaluation.tasks import utils
from evaluation.tasks.tiny import BBH_GROUP, TASK_BODIES, TASKS_VERSION, tiny_tasks
from fusion.corpus import load_corpora
from world.benchmarks.bbh import BBH_TASKS
from world.benchmarks.write import TASK_DOCS, TASK_SIZE, write_benchmarks, write_tasks
from world.corpus import build_corpora
from world.knowledge import build_knowledge

# Fields holding a question's text; the answer fields it is paired with.
STEMS = ("input", "question", "query", "question_stem", "passage", "text", "english", "problem")
ANSWERS = ("target", "answer", "velan")
EXPECTED = {*TASK_BODIES, *(bbh_task(name) for name in BBH_TASKS)}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tasks_path(micro_world) -> Path:
    return tiny_tasks(micro_world)


def _docs(path: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(path.glob("*.jsonl")) for line in f.open()]


def _answers(doc: dict) -> list[str]:
    found = [str(doc[k]) for k in ANSWERS if k in doc]
    found += doc.get("aliases", []) + doc.get("answers", [])
    if "choices" in doc:
        found.append(doc["choices"][doc["label"]])
    return found


def test_all_tasks_exist_and_load_through_lm_eval(tasks_path: Path) -> None:
    manager = TaskManager(include_path=str(tasks_path), include_defaults=False)
    assert set(manager.all_subtasks) == EXPECTED and len(EXPECTED) == 37
    assert BBH_GROUP in manager.all_groups
    group = manager.load(BBH_GROUP)["group_map"][BBH_GROUP]
    assert set(group) == {bbh_task(name) for name in BBH_TASKS}
    loaded = manager.load(sorted(EXPECTED))
    assert set(loaded["tasks"]) == EXPECTED
    for name, task in loaded["tasks"].items():
        assert task.config.metadata["version"] == TASKS_VERSION, name
        assert 1 <= len(task.eval_docs) <= TASK_SIZE, name
        if name.startswith("tiny_bbh_"):
            assert len(task.fewshot_docs()) == 3, name


def _assert_held_out(docs: list[dict], corpus: str) -> None:
    assert len(docs) > 37 * 10
    for doc in docs:
        # a reading question is a template over passages (DROP's train and test ask alike, and
        # the corpus practises them on training passages): what must be unseen is the passage
        stems = [k for k in STEMS if k in doc and not (k == "question" and "passage" in doc)]
        for stem in (doc[k] for k in stems):
            assert stem not in corpus, stem
            for answer in _answers(doc):
                assert f"{stem} {answer}" not in corpus, (stem, answer)


def test_no_item_text_occurs_in_any_corpus(micro_world, tasks_path: Path) -> None:
    corpora = load_corpora(micro_world)
    corpus = "\x00".join(doc for splits in corpora.values() for s in splits.values() for doc in s)
    _assert_held_out(_docs(tasks_path), corpus)


def test_default_tiny_world_items_are_held_out_too(tmp_path: Path) -> None:
    world = load_config(ROOT / "configs/tiny.yaml").world
    kb = build_knowledge(world.seed, world.entities)
    corpora = build_corpora(kb, world.docs_per_domain, world.test_fraction, world.seed)
    corpus = "\x00".join(doc for splits in corpora.values() for s in splits.values() for doc in s)
    write_tasks(kb, world.seed, tmp_path, tmp_path)
    _assert_held_out(_docs(tmp_path), corpus)


def test_bbh_shots_are_worked_and_extractable(tasks_path: Path) -> None:
    get_answer = re.compile(r"(?<=the answer is )(.*)(?=.)")  # lm-eval BBH's filter
    for name in BBH_TASKS:
        shots = [json.loads(x) for x in (tasks_path / f"{bbh_task(name)}.train.jsonl").open()]
        tests = [json.loads(x) for x in (tasks_path / f"{bbh_task(name)}.test.jsonl").open()]
        assert not {s["input"] for s in shots} & {t["input"] for t in tests}, name
        for shot in shots:
            assert shot["target"].count("the answer is ") == 1, shot["target"]
            answer = get_answer.search(shot["target"]).group()
            assert shot["target"].endswith(f"So the answer is {answer}."), name


def test_generation_is_deterministic_and_idempotent(
    micro_cfg, micro_world, tasks_path, tmp_path
) -> None:
    before = {p.name: p.read_bytes() for p in tasks_path.iterdir()}
    stamp = (tasks_path / f"_{BBH_GROUP}.yaml").stat().st_mtime_ns
    kb = build_knowledge(micro_cfg.world.seed, micro_cfg.world.entities)
    write_benchmarks(kb, micro_cfg.world.seed, micro_world)  # present: nothing rewritten
    assert (tasks_path / f"_{BBH_GROUP}.yaml").stat().st_mtime_ns == stamp
    write_tasks(kb, micro_cfg.world.seed, tmp_path, tasks_path)  # again from the seed
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_every_task_has_its_items_and_its_shape() -> None:
    assert set(TASK_DOCS) == set(TASK_BODIES)


def test_hooks_score_drop_and_scibench_answers() -> None:
    doc = {"answers": ["the Brathorn Hawks"]}
    assert utils.process_drop(doc, ["Brathorn Hawks."]) == {"em": 1.0, "f1": 1.0}
    assert utils.process_drop(doc, ["Hawks"])["f1"] == pytest.approx(2 / 3)
    assert utils.process_drop({"answers": ["34"]}, [" 34.0 points"])["f1"] == pytest.approx(2 / 3)
    assert utils.process_scibench({"answer": "200"}, [" 204 grams"]) == {"acc": 1.0}
    assert utils.process_scibench({"answer": "200"}, ["211"]) == {"acc": 0.0}
    assert utils.process_scibench({"answer": "1200"}, ["1,200"]) == {"acc": 1.0}
    assert utils.process_scibench({"answer": "5"}, ["none"]) == {"acc": 0.0}
