"""Bad inputs to ``make train`` stop before any step with one line that names the fix."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from configs import cli
from configs.layout import Layout
from fusion.fuse.stage import load_fused
from training.train import __main__ as train_cli

ROOT = Path(__file__).resolve().parents[2]
MICRO = ROOT / "configs/micro.yaml"


def _train_error(args: list[str], monkeypatch, capsys) -> str:
    """``python -m training.train --config micro <args>`` in-process: exit 2, one error line."""
    monkeypatch.setattr(sys, "argv", ["train", "--config", str(MICRO), *args])
    capsys.readouterr()  # drop what setting up the runs printed
    with pytest.raises(SystemExit) as exit_info:
        cli.run(train_cli.main)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def _runs_with_fused(fused_world: Layout, tmp_path: Path, edit: Callable[[dict], dict]) -> Path:
    """A RUNS dir sharing the built world whose ``fusellm`` targets are a few edited blocks."""
    (tmp_path / fused_world.cfg.name).mkdir()
    (tmp_path / fused_world.cfg.name / "world").symlink_to(fused_world.world)
    out = Layout.of(fused_world.cfg, tmp_path).fused("fusellm")
    load_fused(fused_world, "fusellm").select(range(4)).map(edit, keep_in_memory=True).save_to_disk(
        str(out)
    )
    (out / "meta.json").write_text("{}")
    return tmp_path


def _ids_beyond_the_vocab(row: dict) -> dict:
    """Targets as fused for a larger tokenizer: every id shifted past the target's 500."""
    return {"target_ids": [i + 500 for i in row["target_ids"]]}


def _one_token_less(row: dict) -> dict:
    return {"input_ids": row["input_ids"][:-1]}


def _one_entry_more(row: dict) -> dict:
    return {"target_len": [*row["target_len"][:-1], row["target_len"][-1] + 1]}


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_ids_beyond_the_vocab, "has target_ids in ["),
        (_one_token_less, "has targets for other positions than its input_ids (4 of 4"),
        (_one_entry_more, "has targets for other positions than its input_ids (0 of 4"),
    ],
    ids=["vocab", "positions", "entries"],
)
@pytest.mark.parametrize("variant", ["fusellm", "clm"])
def test_targets_that_do_not_fit_the_target_are_refused(
    fused_world, tmp_path, monkeypatch, capsys, edit, problem, variant
) -> None:
    runs = _runs_with_fused(fused_world, tmp_path, edit)
    err = _train_error(["--runs", str(runs), "--variant", variant], monkeypatch, capsys)
    fused = Layout.of(fused_world.cfg, runs).fused("fusellm")
    assert f"{fused} {problem}" in err and f"delete {fused} and re-run `make fuse`" in err
    assert not (Layout.of(fused_world.cfg, runs).trained(variant) / "checkpoints").exists()


def test_a_checkpoint_of_another_model_is_refused(
    micro_cfg, fused_world, tmp_path, monkeypatch, capsys
) -> None:
    runs = _runs_with_fused(fused_world, tmp_path, lambda row: row)
    checkpoints = Layout.of(micro_cfg, runs).trained("fusellm") / "checkpoints"
    other = checkpoints / "checkpoint-2"  # complete, but the teacher's weights (hidden 48)
    shutil.copytree(fused_world.model(micro_cfg.models.teacher), other)
    (other / "trainer_state.json").write_text("{}")
    (other / "optimizer.pt").touch()
    err = _train_error(["--runs", str(runs), "--variant", "fusellm"], monkeypatch, capsys)
    assert f"checkpoint {other} is of another model than the target (hidden_size 48 vs 32" in err
    assert err.rstrip().endswith(f"delete {checkpoints} to train from the start")
    assert other.is_dir()  # left for the user to delete


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ("training.clm_weight=1.5", "training.clm_weight"),
        ("training.deepspeed=configs/deepspeed/missing.json", "missing.json does not exist"),
    ],
    ids=["lambda", "deepspeed"],
)
def test_bad_training_settings_are_refused_at_load(
    fused_world, monkeypatch, capsys, override, problem
) -> None:
    args = ["--runs", str(fused_world.runs), "--set", override]
    assert problem in _train_error(args, monkeypatch, capsys)


def test_unknown_variant_is_one_line(fused_world, monkeypatch, capsys) -> None:
    args = ["--runs", str(fused_world.runs), "--variant", "nope"]
    err = _train_error(args, monkeypatch, capsys)
    assert err.startswith("error: unknown training variant 'nope': choose from clm, fusellm")
    assert ", kd, " in err and err.rstrip().endswith(", fusechat_sce")
    near = ["--runs", str(fused_world.runs), "--variant", "fusellm_mtp"]
    assert "did you mean 'fusellm_mpt'" in _train_error(near, monkeypatch, capsys)
