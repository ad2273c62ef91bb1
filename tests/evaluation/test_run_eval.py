"""The eval stage on the micro target: MLflow holds exactly the harness's numbers; bad input is
one line."""

from __future__ import annotations

import json
from pathlib import Path

import lm_eval
import pytest
from mlflow.tracking import MlflowClient

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.tracking import metric_key
from evaluation.evaluate import (
    check_suite_models,
    evaluate,
    evaluated,
    made_from,
    model_suites,
)
from evaluation.lm_eval_runner import run_lm_eval
from evaluation.tasks.tiny import TASKS_VERSION, tiny_tasks

# A few tasks per suite: every output type (MC, CoT generation, loglikelihood, hooks).
TASKS = ["tiny_bbh_navigate", "tiny_arc_easy", "tiny_boolq", "tiny_drop", "tiny_lambada"]
SUITES = ["bbh", "commonsense", "generation", "perplexity"]  # multiple: test_multiple.py
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def layout(micro_world) -> Layout:
    cfg = load_config(ROOT / "configs/micro.yaml", ["evaluation.limit=2"])
    return Layout.of(cfg, micro_world.runs)


def _expected(layout: Layout) -> dict[str, float]:
    """Every number of the written results.json and perplexity.json, keyed as MLflow's."""
    out = layout.evaluation("llama2")
    numbers = {}
    for suite in ("bbh", "commonsense", "generation"):
        written = json.loads((out / suite / "results.json").read_text())
        for task, values in written["results"].items():
            numbers |= {
                metric_key("eval", suite, task, metric): value
                for metric, value in values.items()
                if isinstance(value, int | float)
            }
    for domain, figures in json.loads((out / "perplexity/perplexity.json").read_text()).items():
        numbers |= {metric_key("eval", "perplexity", domain, k): v for k, v in figures.items()}
    return numbers


def test_run_eval_logs_exactly_the_written_numbers(layout: Layout) -> None:
    outcomes = evaluate(layout.cfg, layout, "llama2", SUITES, TASKS)
    assert set(outcomes) == {"bbh", "commonsense", "generation", "perplexity"}
    client = MlflowClient(layout.tracking_uri)
    experiment = client.get_experiment_by_name(layout.cfg.name)
    runs = client.search_runs(
        [experiment.experiment_id], "tags.stage = 'eval' and tags.model = 'llama2'"
    )
    (run,) = [r for r in runs if not r.data.tags.get("sub")]  # not a sub-experiment's run
    assert run.data.metrics == pytest.approx(_expected(layout), rel=0, abs=0, nan_ok=True)
    assert run.data.tags["harness.generation"] == "lm_eval"  # per suite: OpenCompass may run one
    assert run.data.tags["harness_version.bbh"] == lm_eval.__version__
    assert run.data.tags["task_version.tiny_arc_easy"] == str(TASKS_VERSION)
    # What the run used is recorded; tiny configs pin no paper settings.
    assert run.data.tags["parity"] == "unpinned"
    assert run.data.tags["settings.limit"] == "2"
    assert run.data.tags["settings.shots"] == str(
        {"bbh": [3], "commonsense": [0], "generation": [0]}
    )
    generation = layout.evaluation("llama2") / "generation"
    assert outcomes["generation"]["n-samples"]["tiny_drop"]["effective"] == 2
    assert len((generation / "samples_tiny_drop.jsonl").read_text().splitlines()) == 2
    assert {"em,none", "f1,none"} <= set(outcomes["generation"]["results"]["tiny_drop"])


def test_unknown_task_names_the_nearest(layout: Layout) -> None:
    with pytest.raises(SuiteError, match="did you mean 'tiny_arc_easy'") as err:
        evaluate(layout.cfg, layout, "llama2", ["commonsense"], ["tiny_arc_esy"])
    assert "\n" not in str(err.value)
    include = tiny_tasks(layout)
    target = layout.model(layout.cfg.models.target)
    with pytest.raises(
        SuiteError, match="unknown lm-eval task 'tiny_bolq': did you mean 'tiny_boolq'"
    ):
        run_lm_eval(target, ["tiny_bolq"], include, layout.root / "scratch", 1, 1)


def test_bad_models_and_backends_are_one_line(layout: Layout, tmp_path) -> None:
    with pytest.raises(SuiteError, match="no model checkpoint at"):
        run_lm_eval(str(tmp_path / "missing"), ["tiny_boolq"], None, tmp_path, 1, 1)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SuiteError, match="cannot load the tokenizer") as err:
        run_lm_eval(str(tmp_path), ["tiny_boolq"], None, tmp_path, 1, 1)
    assert "\n" not in str(err.value)
    with pytest.raises(SuiteError, match="unknown model 'nope'"):
        evaluate(layout.cfg, layout, "nope")


def test_done_marks_an_evaluation_only_for_its_slice(micro_cfg, tmp_path, capsys) -> None:
    """`make eval` skips a model only if done.json was written from the same evaluation
    settings and the same trained model; otherwise the stale outputs go and it is redone."""
    layout = Layout.of(micro_cfg, tmp_path)
    out = layout.evaluation("clm")
    (out / "bbh").mkdir(parents=True)
    layout.made_from("clm").parent.mkdir(parents=True)
    layout.made_from("clm").write_text(json.dumps({"train": {"training": {"epochs": 1}}}))
    body = {"suites": [], "made_from": made_from(micro_cfg, layout, "clm")}
    (out / "done.json").write_text(json.dumps(body))
    assert evaluated(micro_cfg, layout, "clm") and (out / "bbh").is_dir()
    layout.made_from("clm").write_text(json.dumps({"train": {"training": {"epochs": 3}}}))
    assert not evaluated(micro_cfg, layout, "clm")
    assert "eval: clm was evaluated from another config (model.train.training.epochs)" in (
        capsys.readouterr().out
    )
    assert not out.exists()
    limited = load_config(ROOT / "configs/micro.yaml", ["evaluation.limit=2"])
    (out / "bbh").mkdir(parents=True)
    (out / "done.json").write_text(
        json.dumps(body | {"made_from": made_from(limited, layout, "clm")})
    )
    assert not evaluated(micro_cfg, layout, "clm") and not out.exists()


def test_suite_models_keep_a_suite_to_the_rows_that_show_it(micro_cfg) -> None:
    """A suite named in ``evaluation.suite_models`` runs on the models listed there (a seed
    replica as its variant); the others run everywhere; an unknown name is one line."""
    cfg = load_config(
        ROOT / "configs/micro.yaml",
        ["evaluation.suite_models={generation: [llama2, fusellm]}", "reporting.seeds=[42,43]"],
    )
    every = list(cfg.evaluation.suites)
    without = [s for s in every if s != "generation"]
    assert model_suites(cfg, "llama2") == every
    assert model_suites(cfg, "fusellm-seed43") == every
    assert model_suites(cfg, "clm") == model_suites(cfg, "clm-seed43") == without
    assert model_suites(micro_cfg, "clm") == every
    typo = load_config(
        ROOT / "configs/micro.yaml", ["evaluation.suite_models={generation: [fusellmm]}"]
    )
    with pytest.raises(SuiteError, match="suite_models.generation names 'fusellmm'.*'fusellm'"):
        check_suite_models(typo)
    check_suite_models(cfg)  # every name known: no error
