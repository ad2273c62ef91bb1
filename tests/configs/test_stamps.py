"""Stage stamps: make's file targets are up to date after a run, a changed config slice
rebuilds exactly the stages that depend on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from configs import stamps
from configs.layout import Layout
from configs.loader import load_config
from configs.stages import STAGES
from configs.variants import is_trained

ROOT = Path(__file__).resolve().parents[2]
MICRO = ROOT / "configs/micro.yaml"
PIPELINE = ["world", "represent", "align", "fuse", "train", "eval"]


def _changed_stages(*overrides: str) -> set[str]:
    base, other = load_config(MICRO), load_config(MICRO, list(overrides))
    return {s for s in stamps.STAGES if stamps.fingerprint(base, s) != stamps.fingerprint(other, s)}


def test_a_setting_invalidates_its_stage_and_everything_downstream() -> None:
    assert _changed_stages("training.lr=0.5") == {"train", "eval", "pythia", "card"}
    assert _changed_stages("evaluation.limit=3") == {"eval"}
    assert _changed_stages("fusion.vocab=exact") == {
        "align",
        "fuse",
        "train",
        "eval",
        "pythia",
        "card",
    }
    assert _changed_stages("world.seed=9") == set(stamps.STAGES)
    assert _changed_stages("reporting.seeds=[42,7]") == set()  # new seeds only add runs
    # The approximation choices shape the fused targets, not the alignments.
    for choice in ("fusion.target=tail", "fusion.fallback=none", "fusion.reference_rounding=false"):
        assert _changed_stages(choice) == {"fuse", "train", "eval", "pythia", "card"}


def test_prepare_removes_only_outputs_of_a_changed_slice(tmp_path) -> None:
    cfg = load_config(MICRO)
    layout = Layout.of(cfg, tmp_path)
    for out in ("fuse", "train", "eval"):
        (layout.root / out / "x").mkdir(parents=True)
    for stage in ("fuse", "train", "eval"):
        stamps.record(layout, stage, 0.0, 1.0)
    assert stamps.prepare(layout, "train") == []
    assert (layout.root / "train" / "x").is_dir()
    changed = Layout.of(load_config(MICRO, ["training.lr=0.5"]), tmp_path)
    assert stamps.prepare(changed, "fuse") == []
    assert stamps.prepare(changed, "train") == ["train.training.lr"]
    assert not (layout.root / "train").exists()
    assert (layout.root / "fuse" / "x").is_dir() and (layout.root / "eval" / "x").is_dir()


def _stamp_cli(runs: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "configs.stamps", "--config", str(MICRO), "--runs", str(runs)]
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_stamps_only_a_stage_that_succeeded(tmp_path) -> None:
    layout = Layout.of(load_config(MICRO), tmp_path)
    failed = _stamp_cli(tmp_path, "--stage", "fuse", "--", sys.executable, "-c", "exit(3)")
    assert failed.returncode == 3 and not stamps.stamp_path(layout, "fuse").exists()
    ok = _stamp_cli(tmp_path, "--stage", "fuse", "--", sys.executable, "-c", "pass")
    assert ok.returncode == 0 and stamps.stamp_path(layout, "fuse").is_file()
    assert [s for s, _ in stamps.times(layout)] == ["fuse"]
    assert "total" in _stamp_cli(tmp_path, "--times").stdout
    stamps.stamp_path(layout, "fuse").write_text("{")
    corrupt = _stamp_cli(tmp_path, "--stage", "fuse", "--", "true")
    assert corrupt.returncode == 2 and "corrupt stage stamp" in corrupt.stderr


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_reproduce_is_up_to_date_after_a_run_and_redoes_all_after_a_config_edit(
    tmp_path,
) -> None:
    """With every stamp written in pipeline order, `make reproduce` has nothing to do; touching
    the config file makes the whole chain (through the stamp wrapper) due again."""
    if not (ROOT / ".venv/.installed").exists():
        pytest.skip("needs make setup")
    config = tmp_path / "micro.yaml"
    shutil.copy(MICRO, config)
    layout = Layout.of(load_config(config), tmp_path / "runs")
    past = time.time() - 100
    os.utime(config, (past, past))
    for i, stage in enumerate([*PIPELINE, "pythia", "card"]):
        stamps.record(layout, stage, 0.0, 1.0)
        os.utime(stamps.stamp_path(layout, stage), (past + i + 1, past + i + 1))
    (layout.root / "report.md").write_text("report")
    variables = [f"CONFIG={config}", f"RUNS={tmp_path / 'runs'}"]
    report = str(layout.root / "report.md")
    assert _make("-q", report, *variables).returncode == 0
    again = _make("reproduce", *variables)  # for real: nothing may run
    assert again.returncode == 0 and "Nothing to be done" in again.stdout, again.stdout
    assert "python" not in again.stdout
    os.utime(config)  # edited now
    assert _make("-q", report, *variables).returncode == 1
    plan = _make("-n", "reproduce", *variables).stdout
    order = [plan.index(f"--stage {stage}") for stage in PIPELINE]
    assert order == sorted(order) and "-m reports " in plan


def test_the_makefile_runs_every_stage_through_its_cli() -> None:
    """The Makefile's stamped rules are the stage list: one per stage, running its module."""
    makefile = (ROOT / "Makefile").read_text()
    for name, stage in STAGES.items():
        rule = f"$(STAMPS)/{name}.json:"
        assert rule in makefile, name
        recipe = makefile.split(rule, 1)[1].split("\n\n", 1)[0]
        assert f"--stage {name}" in recipe or f"$(STAGE) {name} --" in recipe, name
        assert f"-m {stage.module} $(ARGS)" in recipe, (name, recipe)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
@pytest.mark.parametrize(
    ("model", "trains"),
    [("llama2", False), ("mpt", False), ("llama2_13b", False), ("clm", True), ("fusellm", True)],
)
def test_make_eval_of_a_model_trains_only_a_trained_variant(
    model: str, trains: bool, tmp_path
) -> None:
    """`make eval MODEL=` of the target, a source or the teacher builds the world and evaluates;
    only a trained variant waits for (and so runs) the train stage."""
    if not (ROOT / ".venv/.installed").exists():
        pytest.skip("needs make setup")
    dry = _make("-n", "eval", f"CONFIG={MICRO}", f"RUNS={tmp_path}", f"MODEL={model}")
    assert dry.returncode == 0, dry.stderr
    assert "-m world " in dry.stdout and f"--model {model}" in dry.stdout
    assert ("-m training.train " in dry.stdout) is trains
    assert ("-m fusion.represent " in dry.stdout) is trains


def test_only_train_variants_and_their_seed_replicas_are_trained() -> None:
    cfg = load_config(MICRO, ["reporting.seeds=[0,1]", "training.seed=0"])
    assert is_trained(cfg, "clm") and is_trained(cfg, "fusellm-seed1")
    assert not any(is_trained(cfg, s.name) for s in cfg.models.all())
    assert not is_trained(cfg, "/some/checkpoint")
