"""The OpenCompass backend on the micro target: tiny_triviaqa scores the same through lm-eval
and OpenCompass; the paper's own configs run unchanged on local data; the eval stage records
each suite's harness; bad names and missing data are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.tracking import metric_key
from evaluation.evaluate import evaluate
from evaluation.lm_eval_runner import run_lm_eval
from evaluation.opencompass_datasets import paper_datasets, tiny_datasets
from evaluation.opencompass_runner import harness_version, run_opencompass
from evaluation.tasks.tiny import tiny_tasks

ROOT = Path(__file__).resolve().parents[2]
TASK = "tiny_triviaqa"  # same prompt, greedy continuation, stops ("\n", ".") and EM in both
LIMIT = 4


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _known_answers(include: Path, predictions: list[str], out: Path) -> tuple[Path, list[int]]:
    """A copy of the task where some items' answer is the model's own greedy answer.

    The micro source answers nothing right, so EM would be 0 through any harness; on these items
    both harnesses must count a match, on the others a miss.
    """
    answered = [i for i, p in enumerate(predictions) if p.strip()][::2]
    docs = _rows(include / f"{TASK}.test.jsonl")
    for i in answered:
        docs[i] = docs[i] | {"aliases": [predictions[i]]}
    out.mkdir()
    data = out / f"{TASK}.test.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs))
    task = yaml.safe_load((include / f"{TASK}.yaml").read_text())
    task["dataset_kwargs"]["data_files"] = {"test": str(data)}
    (out / f"{TASK}.yaml").write_text(yaml.safe_dump(task))
    return out, answered


def test_one_task_scores_the_same_through_lm_eval_and_opencompass(
    micro_cfg, micro_world: Layout, tmp_path: Path, monkeypatch
) -> None:
    include = tiny_tasks(micro_world)
    # the OpenLLaMA analogue: the micro target's greedy answer is an empty line on every item
    target = micro_world.model(micro_cfg.models.sources[0])
    # batch size 1: lm-eval batches by length, OpenCompass in order; padding must not differ
    run_lm_eval(target, [TASK], include, tmp_path / "first", 1, LIMIT)
    first = [s["filtered_resps"][0] for s in _rows(tmp_path / "first" / f"samples_{TASK}.jsonl")]
    known, answered = _known_answers(include, first, tmp_path / "known")
    assert answered, f"the micro source answered nothing on the first {LIMIT} items"

    lm = run_lm_eval(target, [TASK], known, tmp_path / "lm", 1, LIMIT)
    monkeypatch.chdir(tmp_path / "known")  # OpenCompass must write nowhere but its out dir
    datasets = tiny_datasets(known, [TASK], tmp_path / "oc_data")
    oc = run_opencompass(target, datasets, tmp_path / "oc", batch_size=1, limit=LIMIT)
    assert sorted(p.name for p in Path.cwd().iterdir()) == [f"{TASK}.test.jsonl", f"{TASK}.yaml"]

    lm_items = _rows(tmp_path / "lm" / f"samples_{TASK}.jsonl")
    oc_items = _rows(tmp_path / "oc" / f"samples_{TASK}.jsonl")
    assert len(lm_items) == len(oc_items) == LIMIT
    for a, b in zip(lm_items, oc_items, strict=True):
        assert a["arguments"][0][0] == b["origin_prompt"]  # the identical prompt
        assert a["resps"][0][0] == b["prediction"]  # the identical greedy text, cut alike
        assert a["exact_match"] == float(b["details"]["correct"][0])
    hits = [float(b["details"]["correct"][0]) for b in oc_items]
    assert hits == [float(i in answered) for i in range(LIMIT)]
    em = lm["results"][TASK]["exact_match,remove_whitespace"]
    assert em > 0 and oc["results"][TASK]["score"] == pytest.approx(100 * em)
    assert oc["config"]["harness_version"] == harness_version()
    assert oc["n-samples"][TASK]["effective"] == LIMIT
    assert (tmp_path / "oc" / "opencompass" / "predictions").is_dir()
    assert "| tiny_triviaqa |" in (tmp_path / "oc" / "results.md").read_text()


def test_a_paper_config_runs_unchanged_on_local_data(
    micro_cfg, micro_world: Layout, tmp_path: Path, monkeypatch
) -> None:
    rows = [{"prompt": "The fishermen of the city mend their", "label": "nets"}] * 3
    (tmp_path / "data" / "lambada").mkdir(parents=True)
    (tmp_path / "data/lambada/test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("COMPASS_DATA_CACHE", str(tmp_path))
    target = micro_world.model(micro_cfg.models.target)
    results = run_opencompass(
        target, paper_datasets(["lambada_gen"]), tmp_path / "out", batch_size=2, limit=2
    )
    assert set(results["results"]["lambada"]) == {"accuracy"}
    assert results["versions"] == {"lambada": "217e11"}  # OpenCompass's hash of lambada_gen_217e11
    prompts = [r["origin_prompt"] for r in _rows(tmp_path / "out" / "samples_lambada.jsonl")]
    assert prompts == ["Please complete the following sentence:\n" + rows[0]["prompt"]] * 2


def test_the_eval_stage_runs_generation_through_opencompass(micro_cfg, micro_world) -> None:
    # its own experiment and eval dir: the lm-eval stage test counts the micro runs
    sets = ["name=micro_opencompass", "evaluation.backend=opencompass", "evaluation.limit=2"]
    cfg = load_config(ROOT / "configs/micro.yaml", sets)
    layout = Layout.of(cfg, micro_world.runs)
    layout.world.parent.mkdir(parents=True, exist_ok=True)
    if not layout.world.exists():
        layout.world.symlink_to(micro_world.world)  # the same world under another name
    target = micro_world.model(micro_cfg.models.target)  # a checkpoint dir: named llama2
    outcomes = evaluate(cfg, layout, target, ["generation"], ["tiny_drop", "tiny_scibench"])
    written = json.loads((layout.evaluation("llama2") / "generation/results.json").read_text())
    assert outcomes["generation"] == written
    assert set(written["results"]) == {"tiny_drop", "tiny_scibench"}
    assert {"exact_match", "f1"} <= set(written["results"]["tiny_drop"])
    client = MlflowClient(layout.tracking_uri)
    experiment = client.get_experiment_by_name(cfg.name)
    runs = client.search_runs(
        [experiment.experiment_id], "tags.stage = 'eval'", order_by=["attributes.start_time DESC"]
    )
    run = runs[0]
    assert run.data.tags["harness.generation"] == "opencompass"
    assert run.data.tags["harness_version.generation"] == harness_version()
    key = metric_key("eval", "generation", "tiny_drop", "f1")
    assert run.data.metrics[key] == written["results"]["tiny_drop"]["f1"]
    assert run.data.tags["task_version.tiny_drop"] == written["versions"]["tiny_drop"]


def test_bad_names_and_missing_data_are_one_line(
    micro_cfg, micro_world: Layout, tmp_path: Path, monkeypatch
) -> None:
    include = tiny_tasks(micro_world)
    bad_task = "unknown OpenCompass tiny task 'tiny_trivia': did you mean 'tiny_triviaqa'"
    with pytest.raises(SuiteError, match=bad_task):
        tiny_datasets(include, ["tiny_trivia"], tmp_path)
    with pytest.raises(SuiteError, match="did you mean 'triviaqa_gen'"):
        paper_datasets(["trivia_gen"])
    monkeypatch.setenv("COMPASS_DATA_CACHE", str(tmp_path))
    monkeypatch.setattr("opencompass.utils.datasets.DEFAULT_DATA_FOLDER", str(tmp_path / "none"))
    with pytest.raises(SuiteError, match="lambada_gen: no OpenCompass data at .*lambada") as err:
        paper_datasets(["lambada_gen"])
    assert "\n" not in str(err.value) and "lambada.zip" in str(err.value)
    with pytest.raises(SuiteError, match="no model checkpoint at"):
        run_opencompass(str(tmp_path / "missing"), [], tmp_path, batch_size=1, limit=1)
