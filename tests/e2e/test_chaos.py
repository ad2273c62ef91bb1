"""kill -9 inside every stage of `make reproduce`, then a re-run: the same artifacts and MLflow
metrics as an uninterrupted run (`make chaos` runs every kill point; this test one per stage)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from configs.chaos import QUICK_POINTS, run_chaos
from configs.layout import Layout
from configs.loader import load_config
from configs.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_kill_9_in_every_stage_then_rerun_equals_an_uninterrupted_run(tmp_path) -> None:
    if not (ROOT / ".venv/.installed").exists():
        pytest.skip("needs make setup")
    raw = yaml.safe_load((ROOT / "configs/micro.yaml").read_text())
    raw["evaluation"]["suites"] = ["commonsense", "perplexity"]  # the eval stage, in less time
    config = tmp_path / "micro.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    layout = Layout.of(load_config(config), tmp_path / "runs")
    log = tmp_path / "chaos.log"
    survived, problems = run_chaos(config, layout, QUICK_POINTS, log)
    assert problems == [], f"{problems} (make output: {log})"
    assert len(survived) == len(QUICK_POINTS)
    assert {p.stage for p in QUICK_POINTS} == {*STAGES, "tables"}
