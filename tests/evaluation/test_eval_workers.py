"""`make eval` with several worker processes: the same runs and files as one process, each
worker started once and handed model after model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.workers import run_stage_in_workers
from evaluation.evaluate import evaluate_all

ROOT = Path(__file__).resolve().parents[2]
MODULE = "evaluation.run_eval"
SETS = ["evaluation.suites=[commonsense,perplexity]", "evaluation.limit=2"]


def _layout(micro_world: Layout, tmp_path: Path, workers: int) -> Layout:
    cfg = load_config(ROOT / "configs/micro.yaml", [*SETS, f"workers={workers}"])
    root = tmp_path / str(workers) / cfg.name
    root.mkdir(parents=True)
    (root / "world").symlink_to(micro_world.root / "world")
    return Layout.of(cfg, tmp_path / str(workers))


def test_two_workers_evaluate_every_model_like_one_process(
    micro_world, tmp_path, worker_starts: list[list[str]]
) -> None:
    parallel, serial = (_layout(micro_world, tmp_path, w) for w in (2, 1))
    names = evaluate_all(parallel.cfg, parallel, "cpu")
    assert len(names) == 4 and len(worker_starts) == 2  # two processes, not one per model
    assert names == evaluate_all(serial.cfg, serial, "cpu")
    for name in names:
        assert (parallel.evaluation(name) / "done.json").is_file()
        ours, theirs = (
            json.loads((lay.evaluation(name) / "perplexity/perplexity.json").read_text())
            for lay in (parallel, serial)
        )
        assert ours.keys() == theirs.keys()
        for domain, figures in ours.items():
            assert figures == pytest.approx(theirs[domain], rel=1e-4)
    client = MlflowClient(parallel.tracking_uri)
    experiment = client.get_experiment_by_name(parallel.cfg.name)
    runs = client.search_runs([experiment.experiment_id], "tags.stage = 'eval'")
    assert sorted(r.data.tags["model"] for r in runs) == sorted(names)
    assert all("eval/commonsense/tiny_boolq/acc_none" in r.data.metrics for r in runs)


def test_a_failing_worker_is_one_line_naming_its_model(micro_world, tmp_path) -> None:
    layout = _layout(micro_world, tmp_path, 2)
    finished: list[str] = []

    def evaluate(models: list[str], workers: int) -> None:
        cfg = layout.cfg.model_copy(update={"workers": workers})
        extra = ("--device", "cpu")
        run_stage_in_workers(cfg, layout, MODULE, models, finished.append, extra, "evaluating")

    with pytest.raises(SuiteError, match="evaluating 'nosuchmodel' failed .*unknown model"):
        evaluate(["nosuchmodel"], 2)
    assert finished == []
    # after a failure no further model is started
    models = ["nosuchmodel", layout.cfg.models.target.name]
    with pytest.raises(SuiteError, match="evaluating 'nosuchmodel' failed"):
        evaluate(models, 1)
    assert finished == []
    assert not layout.evaluation(models[1]).exists()
