"""The paper config's generation suite runs through OpenCompass, IWSLT2017 and SciBench
included, and each benchmark gives one Table 8 cell by the rule in `evaluation.suites`."""

from __future__ import annotations

from pathlib import Path

from opencompass.utils import dataset_abbr_from_cfg

from configs.loader import load_config
from evaluation.evaluate import paper_groups, plan_tasks, uses_opencompass
from evaluation.opencompass_datasets import config_datasets, summary_group
from evaluation.opencompass_runner import summary_rows
from evaluation.suites import SUITES

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "configs/paper/fusellm_7b.yaml"


def _benchmark(paper: str):
    return next(b for b in SUITES["generation"] if b.paper == paper)


def test_the_paper_config_runs_the_whole_generation_suite_through_opencompass() -> None:
    cfg = load_config(PAPER)
    assert uses_opencompass(cfg, "generation")
    configs = plan_tasks(cfg, ["generation"], None)["generation"]
    assert {"iwslt2017_gen", "scibench_gen"} <= set(configs) and len(configs) == 5
    assert paper_groups(cfg, "generation", configs) == {"scibench": summary_group("scibench")}
    assert all(b.oc_paper for b in SUITES["generation"])  # one cell per benchmark


def test_iwslt2017_cell_is_the_one_pair_opencompass_evaluates() -> None:
    (dataset,) = config_datasets("iwslt2017_gen")
    assert dataset["name"] == "iwslt2017-en-de"
    assert _benchmark("IWSLT2017").oc_paper == (dataset_abbr_from_cfg(dataset), "score")


def test_scibench_cell_is_opencompass_zero_shot_group_of_ten_subsets() -> None:
    subsets = summary_group("scibench")
    abbrs = [dataset_abbr_from_cfg(d) for d in config_datasets("scibench_gen")]
    assert len(subsets) == 10 and set(subsets) <= set(abbrs) and len(abbrs) == 40
    assert all("_" not in s for s in subsets)  # no _zs-cot / _fs / _fs-cot prompt suffix
    assert _benchmark("SciBench").oc_paper == ("scibench", "accuracy")


def test_summary_rows_average_the_subsets_and_skip_an_incomplete_group() -> None:
    results = {"a": {"accuracy": 10.0, "n": 1.0}, "b": {"accuracy": 30.0}, "c": {"accuracy": 5.0}}
    rows = summary_rows(results, {"ab": ["a", "b"], "ad": ["a", "d"]})
    assert rows == {"ab": {"accuracy": 20.0}}
