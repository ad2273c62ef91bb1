"""Figures and report.md come from MLflow: bars per table, loss curves per train run."""

from __future__ import annotations

import math
import re
import sys
from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from configs import stamps, tracking
from configs.layout import Layout
from reports import __main__ as reports_cli
from reports import figures, summary
from reports.paper import GEN_TASKS, as_frame
from reports.render import write_table
from reports.tables import Built, column_metrics, row_models

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
STEPS = (1, 2, 3)


@pytest.fixture(scope="module")
def store(micro_cfg, tmp_path_factory) -> Layout:
    """Eval runs (target, CLM, FuseLLM; a pythia one) and train runs with loss histories."""
    layout = Layout.of(micro_cfg, tmp_path_factory.mktemp("runs"))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_URI", "")
        fill(layout)
    return layout


def fill(layout: Layout) -> None:
    cfg = layout.cfg
    rows = row_models(cfg)
    keys = {**column_metrics(cfg, "table1"), **column_metrics(cfg, "table2")}
    for i, paper_row in enumerate(["llama2", "llama2_clm", "fusellm"]):
        with tracking.stage_run(layout, "eval", rows[paper_row]):
            mlflow.log_metrics({k: 0.1 * (i + 1) for k in keys.values()})
    with tracking.stage_run(layout.child("pythia", cfg), "eval", "fusellm"):
        mlflow.log_metric(tracking.metric_key("eval", "perplexity", "phil", "bits_per_byte"), 0.8)
    for variant, distill in (("clm", False), ("fusellm", True)):
        history = [
            {"step": s, "loss": 5.0 / s, "clm_loss": 4.0 / s}
            | ({"distill_loss": 3.0 / s} if distill else {})
            for s in STEPS
        ]
        with tracking.stage_run(layout, "train", variant):
            tracking.log_history("train", history)


def test_figure_compares_averages_else_every_column() -> None:
    assert figures.figure_columns("table1") == ["average"]
    assert figures.figure_columns("table8") == list(GEN_TASKS)
    assert figures.figure_columns("kd") == ["bbh", "cs", "me"]
    assert figures.figure_columns("ensemble_merging") == ["phil", "nih", "uspto"]


def test_missing_values_are_absent_bars_never_zero() -> None:
    ax = Figure().subplots()
    series = [(np.array([1.0, math.nan]), "C0"), (np.array([2.0, 3.0]), "C1")]
    assert figures.draw_bars(ax, ["a", "b"], series) == [1, 0]
    assert sorted(bar.get_height() for bar in ax.patches) == [1.0, 2.0, 3.0]
    assert sorted(text.get_text() for text in ax.texts) == ["1.0", "2.0", "3.0", "n/a"]


@pytest.mark.parametrize("name", ["table1", "ensemble_merging", "sources"])
def test_figure_shows_the_table_as_written(micro_cfg, tmp_path, name) -> None:
    values = as_frame(name) * 0.9  # sources: the paper's numbers are all missing
    values.iloc[0, -1] = math.nan
    values.loc["fusechat_sce"] = 0.5  # a row beyond the paper (FuseChat) comes back too
    built = Built(name, values, {(values.index[0], values.columns[-1]): "no eval run"})
    csv = write_table(built, Layout.of(micro_cfg, tmp_path))[0]
    again = figures.read_built(csv)
    pd.testing.assert_frame_equal(again.values, built.values, check_names=False)
    assert again.reasons == built.reasons
    png = figures.table_figure(again, tmp_path / f"{name}.png")
    assert png.read_bytes().startswith(PNG)


def test_training_curves_come_from_metric_histories(store, tmp_path) -> None:
    curves = figures.train_histories(store)
    assert set(curves) == {"train:clm", "train:fusellm"}
    assert curves["train:fusellm"]["train/distill_loss"] == [(s, 3.0 / s) for s in STEPS]
    assert curves["train:fusellm"]["train/clm_loss"] == [(s, 4.0 / s) for s in STEPS]
    assert curves["train:clm"]["train/distill_loss"] == []
    path = figures.training_curves(store, tmp_path / "curves.png")
    assert path is not None and path.read_bytes().startswith(PNG)
    empty = Layout.of(store.cfg.model_copy(update={"name": "untrained"}), store.runs)
    assert figures.training_curves(empty, tmp_path / "none.png") is None


def test_stage_runs_times_and_package_versions(store, tmp_path) -> None:
    runs = summary.stage_runs(store)
    assert list(runs["stage"]) == ["eval", "pythia/eval", "train"]
    assert list(runs["runs"]) == [3, 1, 2] and not runs["unfinished"].any()
    # wall times are make's (the stamps), in pipeline order whatever order they were written
    elsewhere = Layout.of(store.cfg, tmp_path / "runs")
    assert summary.stage_times(elsewhere).empty
    for stage, start, end in [("train", 4000.0, 4090.0), ("world", 0.0, 3725.0)]:
        stamps.record(elsewhere, stage, start, end)
    times = summary.stage_times(elsewhere)
    assert times.values.tolist() == [["world", "1h 02m 05s"], ["train", "1m 30s"],
                                     ["total", "1h 03m 35s"]]  # fmt: skip
    # the total is the time some stage ran: the Pythia experiment beside train counts once
    stamps.record(elsewhere, "pythia", 3800.0, 4060.0)
    assert summary.stage_times(elsewhere).values.tolist()[-1] == ["total", "1h 06m 55s"]
    lock = tmp_path / "requirements.lock"
    lock.write_text("# pinned\nmlflow==0.0.1\nno-such-package-here==1.0 ; python_version>'3'\n")
    versions = summary.package_versions(lock).set_index("package")
    assert versions.loc["mlflow", "installed"] == metadata.version("mlflow")
    assert versions.loc["no-such-package-here", "installed"] == "not installed"


def test_cli_writes_tables_figures_and_report(store, monkeypatch, capsys) -> None:
    argv = ["prog", "--config", str(ROOT / "configs/micro.yaml"), "--runs", str(store.runs)]
    monkeypatch.setattr(sys, "argv", [*argv, "--table", "table2"])
    reports_cli.main()
    reports_cli.draw_figures(store)
    reports_cli.write_report(store.cfg, store)
    for name in ["table2", "training_curves"]:
        assert (store.tables / f"{name}.png").read_bytes().startswith(PNG), name
    assert not (store.tables / "table1.png").exists()  # table1 was not rendered
    report = (store.root / "report.md").read_text()
    assert "### table2: " in report and "![table2](tables/table2.png)" in report
    findings = report.split("## Findings", 1)[1].split("## Tables", 1)[0]
    assert report.index("## Findings") < report.index("## Tables")
    assert re.search(r"\| table2 +\| FuseLLM > Llama-2 CLM +\| average +\|", findings)
    assert "table1" not in findings  # only table2 was rendered
    assert "### table1\n\n_not rendered yet: run `make tables`_" in report
    assert "![training curves](tables/training_curves.png)" in report
    assert "name: micro" in report  # the validated config
    assert re.search(rf"\| mlflow +\| {re.escape(metadata.version('mlflow'))} ", report)
    out = capsys.readouterr().out
    assert "table1.png: table1.csv not rendered yet (run `make tables`)" in out
    assert "time per stage (micro):\nno stage stamped yet" in out  # the store has no stamps
    assert re.search(r"\| pythia/eval +\| +1 \| +0 \|", report)  # its MLflow runs
