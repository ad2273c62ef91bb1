"""Fusion diagnostics and the KD teacher check in report.md, read back from MLflow."""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from configs import tracking
from configs.layout import Layout
from fusion.fuse.diagnostics import choice_by_domain
from reports import __main__ as reports_cli
from reports.diagnostics import diagnostics_frame, fuse_runs, grid, write_diagnostics
from reports.figures import diagnostics_figure
from reports.paper import PAPER_TABLES
from reports.summary import report
from reports.tables import build_all, column_metrics
from reports.teacher import teacher_check, write_teacher_check
from tests.eval_runs import log_commonsense_items

SOURCES = ("openllama", "mpt", "smollm2")
ROOT = Path(__file__).resolve().parents[2]


def _fuse_run(layout: Layout, variant: str, vocab: str, metrics: dict) -> None:
    with tracking.stage_run(layout, "fuse", variant, {"vocab": vocab, "method": "min_ce"}):
        mlflow.log_metrics(metrics)


@pytest.fixture()
def fused(micro_cfg, tmp_path) -> tuple[Layout, dict]:
    """fuse runs as the fuse stage logs them: FuseLLM with three sources, and its EM twin."""
    layout = Layout.of(micro_cfg, tmp_path)
    ces = np.array([[2.0, 1.0, 3.0, 2.5], [2.0, 3.0, 0.5, 2.5], [1.0, 2.0, 3.0, 0.4]])
    names = ["llama2", *SOURCES]
    metrics = choice_by_domain(ces, ["facts_a", "facts_b", "facts_b"], names, "min_ce", True)
    shares = {"openllama": (0.7, 0.5), "mpt": (0.6, 0.4), "smollm2": (0.33, 0.1)}
    for source, (aligned, exact) in shares.items():
        metrics |= {
            f"fuse/align/{source}/aligned": aligned,
            f"fuse/align/{source}/exact": exact,
            f"fuse/align/{source}/mined": aligned - exact,
            f"fuse/align/{source}/fallback": 1 - aligned,
        }
    metrics |= {"fuse/true_next/all/fused": 0.31, "fuse/true_next/all/own": 0.22}
    metrics |= {"fuse/true_next/facts_a/fused": 0.4, "fuse/true_next/facts_a/own": 0.1}
    _fuse_run(layout, "fusellm", "mined", {**metrics, "fuse/fallback_share": 0.17})
    em = {f"fuse/align/{s}/aligned": 0.2 for s in SOURCES}  # another (source, vocab) pair
    _fuse_run(layout, "fusellm_em", "exact", {**em, "fuse/fallback_share": 0.3})
    return layout, metrics


def test_the_tables_hold_what_the_fuse_runs_logged(micro_cfg, fused) -> None:
    layout, logged = fused
    frame = diagnostics_frame(micro_cfg, fuse_runs(layout))
    picks = grid(micro_cfg, frame, "pick")
    assert list(picks.index) == ["all", "facts_a", "facts_b"]
    assert list(picks.columns) == ["llama2", *SOURCES]  # target first, sources in order
    assert picks.loc["facts_a", "openllama"] == pytest.approx(100)  # lowest CE: credited
    assert picks.loc["facts_b", "mpt"] == pytest.approx(50)
    assert picks.loc["facts_b", "smollm2"] == pytest.approx(50)
    assert np.allclose(picks.sum(axis=1), 100)
    ce = grid(micro_cfg, frame, "ce")
    assert ce.loc["facts_b", "llama2"] == pytest.approx(logged["fuse/ce/facts_b/llama2"])
    align = grid(micro_cfg, frame, "alignment")
    assert align.loc["smollm2 (mined)", "aligned"] == pytest.approx(33)
    assert align.loc["smollm2 (mined)", "exact"] + align.loc["smollm2 (mined)", "MinED"] == (
        pytest.approx(align.loc["smollm2 (mined)", "aligned"])
    )
    assert align.loc["mpt (exact)", "aligned"] == pytest.approx(20)  # the EM variant's pair
    fallback = grid(micro_cfg, frame, "fallback")
    assert fallback.loc["fusellm_em", "positions on a fallback"] == pytest.approx(30)
    teach = grid(micro_cfg, frame, "true_next")
    assert list(teach.index) == ["all", "facts_a"]
    assert list(teach.columns) == ["fused targets", "own top-k"]
    assert teach.loc["facts_a", "fused targets"] == pytest.approx(40)
    assert teach.loc["all", "own top-k"] == pytest.approx(22)


def test_report_shows_the_diagnostics_and_their_figure(micro_cfg, fused) -> None:
    layout, _ = fused
    csv, md = write_diagnostics(micro_cfg, layout)
    assert pd.read_csv(csv)["section"].isin(["alignment", "pick", "ce", "blocks"]).any()
    page = md.read_text()
    assert "MinCE picks" in page and "smollm2 (mined)" in page and "| facts_b" in page
    assert "true next token under the fused training targets" in page
    png = diagnostics_figure(micro_cfg, csv, csv.with_suffix(".png"))
    assert png is not None and png.stat().st_size > 0
    text = report(micro_cfg, layout, pd.DataFrame())
    section = text.split("## Fusion diagnostics", 1)[1]
    assert "MinCE picks" in section
    assert "![fusion_diagnostics](tables/fusion_diagnostics.png)" in section


def test_no_fuse_runs_says_which_target_logs_them(micro_cfg, tmp_path) -> None:
    layout = Layout.of(micro_cfg, tmp_path)
    with tracking.stage_run(layout, "eval", "llama2"):
        mlflow.log_metric("eval/x", 1.0)
    _, md = write_diagnostics(micro_cfg, layout)
    assert "run `make fuse`" in md.read_text()


def _commonsense(layout: Layout, model: str, skill: float, hard: dict) -> None:
    """An eval run whose items are right where their difficulty is below ``skill``."""
    scores = {column: (difficulty < skill).astype(float) for column, difficulty in hard.items()}
    log_commonsense_items(layout, model, model, "", scores)


@pytest.mark.parametrize(("teacher", "verdict"), [(0.8, "holds"), (0.2, "reversed")])
def test_the_teacher_is_flagged_where_it_does_not_beat_the_target(
    micro_cfg, tmp_path, teacher: float, verdict: str
) -> None:
    layout = Layout.of(micro_cfg, tmp_path)
    rng = np.random.default_rng(0)
    columns = [c for c in PAPER_TABLES["table2"].columns if c != "average"]
    hard = {c: rng.random(80) for c in columns}
    _commonsense(layout, "llama2", 0.5, hard)
    _commonsense(layout, "llama2_13b", teacher, hard)
    (kd,) = build_all(micro_cfg, layout, ["kd"])
    check = teacher_check(kd).set_index("suite")
    assert check.loc["CS", "verdict"] == verdict
    assert bool(check.loc["CS", "flagged"]) == (verdict != "holds")
    assert check.loc["BBH", "verdict"] == "missing" and check.loc["BBH", "flagged"]
    write_teacher_check(kd, layout)
    text = report(micro_cfg, layout, pd.DataFrame())
    section = text.split("## KD teacher vs target", 1)[1].split("## Tables", 1)[0]
    assert "**Flag: the KD teacher does not beat the target on BBH (missing)" in section
    assert ("CS (reversed)" in section) == (verdict == "reversed")


def test_make_tables_writes_the_diagnostics_and_the_teacher_check(fused, monkeypatch) -> None:
    layout, _ = fused
    with tracking.stage_run(layout, "eval", "llama2"):
        mlflow.log_metrics(dict.fromkeys(column_metrics(layout.cfg, "table2").values(), 0.5))
    argv = ["prog", "--config", str(ROOT / "configs/micro.yaml"), "--runs", str(layout.runs)]
    monkeypatch.setattr(sys, "argv", argv)
    reports_cli.main()
    assert (layout.tables / "fusion_diagnostics.png").read_bytes().startswith(b"\x89PNG")
    assert (layout.tables / "kd.teacher.csv").is_file()
    text = (layout.root / "report.md").read_text()
    assert (
        text.index("## Findings") < text.index("## KD teacher vs target") < text.index("## Tables")
    )
    assert "**Flag: the KD teacher does not beat the target on BBH (missing)" in text
    assert text.index("## Tables") < text.index("## Fusion diagnostics")


def test_the_csv_does_not_depend_on_the_order_mlflow_returns(micro_cfg, fused) -> None:
    """make chaos found it: a resumed run's store listed runs and metric columns in another
    order, and the csv differed from the uninterrupted run's."""
    layout, _ = fused
    runs = fuse_runs(layout)
    frame = diagnostics_frame(micro_cfg, runs)
    shuffled = runs.iloc[::-1][list(reversed(runs.columns))]
    assert diagnostics_frame(micro_cfg, shuffled).equals(frame)
