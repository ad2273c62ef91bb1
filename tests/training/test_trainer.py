"""FusionTrainer's loss and the train stage on the micro world: variants, resume, MLflow, DDP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, DataCollatorForLanguageModeling, Trainer

from configs.layout import Layout
from configs.loader import load_config
from configs.variants import get_train_variant, train_runs, train_variants
from fusion.represent import load_model
from training import train
from training.collator import SparseTargetCollator
from training.losses import DISTILL_LOSSES, TAIL_LOSSES, clm_loss, sparse_distill_ce
from training.trainer import FusionTrainer

ROOT = Path(__file__).resolve().parents[2]
MICRO = ROOT / "configs/micro.yaml"


def _fresh_runs(fused_world: Layout, tmp_path: Path) -> Path:
    """A new RUNS dir sharing the built world and fused targets, with nothing trained (and,
    through the conftest fixture that blanks ``MLFLOW_TRACKING_URI``, a store of its own)."""
    root = tmp_path / fused_world.cfg.name
    root.mkdir(parents=True)
    for name in ("world", "fuse"):
        (root / name).symlink_to(fused_world.root / name)
    return tmp_path


@pytest.fixture(scope="module")
def target_and_batch(micro_cfg, fused_world):
    """The target model and a padded batch of a full and the shortest fused block."""
    tokenizer, model = load_model(micro_cfg.models.target, fused_world, torch.device("cpu"))
    data = train.training_data(
        fused_world, get_train_variant(micro_cfg, "fusellm"), model.config.vocab_size
    )
    lengths = [len(ids) for ids in data["input_ids"]]
    rows = [lengths.index(max(lengths)), lengths.index(min(lengths))]
    batch = SparseTargetCollator(pad_token_id=tokenizer.pad_token_id or 0)([data[i] for i in rows])
    assert not batch["attention_mask"].all()  # the batch exercises padding
    return model, batch


def _trainer(
    micro_cfg, model, tmp_path: Path, clm_weight: float, distill_loss: str = "ce"
) -> FusionTrainer:
    args = train.training_arguments(micro_cfg, tmp_path)
    return FusionTrainer(model=model, args=args, clm_weight=clm_weight, distill_loss=distill_loss)


@pytest.mark.parametrize(("distill_loss", "lam"), [("ce", 0.9), ("kl", 0.9), ("ce", 0.0)])
def test_compute_loss_is_lambda_clm_plus_distill(
    micro_cfg, target_and_batch, tmp_path, distill_loss, lam
) -> None:
    """Value and gradient of the joint-target loss are those of the two losses apart."""
    model, batch = target_and_batch
    next_labels = F.pad(batch["labels"][:, 1:], (0, 1), value=-100)
    assert (batch["target_ids"] == next_labels.unsqueeze(-1)).any()  # labels among the top-K
    trainer = _trainer(micro_cfg, model, tmp_path, lam, distill_loss)
    loss = trainer.compute_loss(model, dict(batch))
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    clm = clm_loss(logits, batch["labels"])
    distill = DISTILL_LOSSES[distill_loss](
        logits, batch["target_ids"], batch["target_probs"], batch["attention_mask"]
    )
    expected = lam * clm + (1 - lam) * distill
    torch.testing.assert_close(loss, expected)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params), torch.autograd.grad(expected, params)
    for ours, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(ours, theirs)
    assert distill.item() != pytest.approx(clm.item())  # both parts matter


@pytest.mark.parametrize(
    ("variant", "distill_loss"),
    [("fusellm", "ce"), ("fusellm_corrected", "ce"), ("fusellm_corrected", "kl")],
)
def test_tail_targets_and_distill_mask_enter_the_loss(
    micro_cfg, fused_world, target_and_batch, tmp_path, variant, distill_loss
) -> None:
    """A tail variant's batch trains on the tail-aware loss; ``distill_mask`` removes positions
    from distillation (with the joint target too)."""
    model, _ = target_and_batch
    spec = get_train_variant(micro_cfg, variant)
    data = train.training_data(fused_world, spec, model.config.vocab_size)
    batch = SparseTargetCollator(pad_token_id=0)([data[0], data[1]])
    assert ("target_tail" in batch) == (spec.target == "tail")
    gen = torch.Generator().manual_seed(0)
    batch["distill_mask"] = torch.rand(batch["attention_mask"].shape, generator=gen) > 0.3
    loss = _trainer(micro_cfg, model, tmp_path, 0.9, distill_loss).compute_loss(model, dict(batch))
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    mask = batch["attention_mask"].bool() & batch["distill_mask"]
    targets = (batch["target_ids"], batch["target_probs"])
    if spec.target == "tail":
        assert batch["target_tail"].max() > 0.1
        distill = TAIL_LOSSES[distill_loss](logits, *targets, batch["target_tail"], mask)
        unmasked = TAIL_LOSSES[distill_loss](logits, *targets, batch["target_tail"], ~mask)
    else:
        distill = DISTILL_LOSSES[distill_loss](logits, *targets, mask)
        unmasked = DISTILL_LOSSES[distill_loss](logits, *targets, ~mask)
    expected = 0.9 * clm_loss(logits, batch["labels"]) + 0.1 * distill
    torch.testing.assert_close(loss, expected)
    assert distill.item() != pytest.approx(unmasked.item())  # the mask matters
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params), torch.autograd.grad(expected, params)
    for ours, theirs in zip(*grads, strict=True):
        torch.testing.assert_close(ours, theirs)


def test_lambda_one_is_the_models_own_loss(micro_cfg, target_and_batch, tmp_path) -> None:
    model, batch = target_and_batch
    trainer = _trainer(micro_cfg, model, tmp_path, clm_weight=1.0)
    hf = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]
    ).loss
    no_targets = {k: v for k, v in batch.items() if not k.startswith("target_")}
    for inputs in (batch, no_targets):
        loss = trainer.compute_loss(model, dict(inputs))
        assert loss.item() == pytest.approx(hf.item(), abs=1e-5)


def _distill(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> float:
    """The distillation loss of ``model`` to the batch's fused targets."""
    mask = batch["attention_mask"]
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=mask).logits
    return sparse_distill_ce(logits, batch["target_ids"], batch["target_probs"], mask).item()


def test_fuse_training_lowers_the_distill_loss(target_and_batch, fused_world, tmp_path) -> None:
    model, batch = target_and_batch
    sets = ["training.max_steps=12", "training.lr=1e-2", "training.save_steps=100"]
    cfg = load_config(MICRO, sets)
    runs = _fresh_runs(fused_world, tmp_path)
    out = train.train_variant(cfg, Layout.of(cfg, runs), "fusellm")
    before = _distill(model, batch)
    after = _distill(AutoModelForCausalLM.from_pretrained(out / "model"), batch)
    assert after < 0.9 * before


def test_each_seed_trains_its_own_replica(micro_cfg, fused_world, tmp_path) -> None:
    """``reporting.seeds`` repeats every variant; a seed other than ``training.seed`` gets its
    own dir and MLflow run, tagged with the variant it replicates, and sees another data order."""
    cfg = load_config(MICRO, ["reporting.seeds=[42,7]"])
    layout = Layout.of(cfg, _fresh_runs(fused_world, tmp_path))
    runs = train_runs(cfg)
    assert len(runs) == 2 * len(train_variants(cfg)) and ("clm", 7) in runs
    first, second = (train.train_variant(cfg, layout, "clm", seed) for seed in (42, 7))
    assert (first.name, second.name) == ("clm", "clm-seed7")
    assert json.loads((second / "meta.json").read_text())["seed"] == 7
    a, b = _state_dict(str(first / "model")), _state_dict(str(second / "model"))
    assert any(not torch.equal(a[k], b[k]) for k in a)
    tracking_runs = mlflow.search_runs(experiment_names=[cfg.name])
    tags = tracking_runs.set_index("tags.model")[["tags.variant", "tags.seed"]]
    assert tags.loc["clm-seed7"].tolist() == ["clm", "7"]
    assert tags.loc["clm"].tolist() == ["clm", "42"]


def test_clm_run_equals_a_plain_trainer(micro_cfg, fused_world, tmp_path) -> None:
    """λ = 1 is plain CLM: same weights as ``transformers.Trainer`` with labels = input_ids."""
    out = train.train_variant(micro_cfg, fused_world, "clm")
    tokenizer, model = load_model(micro_cfg.models.target, fused_world, torch.device("cpu"))
    plain = Trainer(
        model=model,
        args=train.training_arguments(micro_cfg, tmp_path),
        train_dataset=train.training_data(
            fused_world, get_train_variant(micro_cfg, "clm"), model.config.vocab_size
        ),
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
    )
    # Both average each micro-batch over its own tokens, as the reference trainer does (the
    # default divides by the batch's unshifted label count, one more per sequence).
    plain.model_accepts_loss_kwargs = False
    plain.train()
    ours = _state_dict(str(out / "model"))
    assert ours.keys() == model.state_dict().keys()
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(ours[name], weight, rtol=0, atol=1e-5)


def _state_dict(path: str) -> dict[str, torch.Tensor]:
    return AutoModelForCausalLM.from_pretrained(path).state_dict()


def _train_runs(layout: Layout, variant: str) -> list[str]:
    """Run ids of MLflow runs ``train:<variant>`` of the main experiment (not a sub's)."""
    mlflow.set_tracking_uri(layout.tracking_uri)
    runs = mlflow.search_runs(
        experiment_names=[layout.cfg.name],
        filter_string=f"tags.stage = 'train' and tags.model = '{variant}'",
    )
    return list(runs[runs["tags.sub"].fillna("") == ""]["run_id"])


@pytest.mark.parametrize("variant", ["fusellm", "clm"])
def test_train_variant_saves_logs_and_is_idempotent(
    micro_cfg, fused_world, variant, monkeypatch
) -> None:
    out = train.train_variant(micro_cfg, fused_world, variant)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["steps"] == micro_cfg.training.max_steps
    assert meta["clm_weight"] == (1.0 if variant == "clm" else micro_cfg.training.clm_weight)
    before = _state_dict(fused_world.model(micro_cfg.models.target))
    after = _state_dict(str(out / "model"))
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert (out / "model" / "tokenizer.json").exists()
    [run_id] = _train_runs(fused_world, variant)
    client = mlflow.MlflowClient(fused_world.tracking_uri)
    run = client.get_run(run_id)
    assert run.data.tags["model_path"] == str((out / "model").resolve())
    assert run.data.params["clm_weight_used"] == str(meta["clm_weight"])
    steps = [m.step for m in client.get_metric_history(run_id, "train/clm_loss")]
    assert steps == list(range(1, micro_cfg.training.max_steps + 1))
    assert {"train/loss", "train/learning_rate", "train/tokens_per_s"} <= run.data.metrics.keys()
    assert ("train/distill_loss" in run.data.metrics) == (variant != "clm")

    def must_not_train(*args, **kwargs):
        raise AssertionError("a finished variant was trained again")

    monkeypatch.setattr(train, "load_model", must_not_train)
    assert train.train_variant(micro_cfg, fused_world, variant) == out
    assert len(_train_runs(fused_world, variant)) == 1


def test_kill_9_resumes_from_the_last_complete_checkpoint(fused_world, tmp_path, capsys) -> None:
    runs = _fresh_runs(fused_world, tmp_path)
    overrides = ["training.save_steps=1", "training.max_steps=4"]
    cfg = load_config(MICRO, overrides)
    layout = Layout.of(cfg, runs)
    checkpoints = layout.trained("fusellm") / "checkpoints"
    cmd = [sys.executable, "-m", "training.train", "--config", str(MICRO), "--runs", str(runs)]
    cmd += ["--variant", "fusellm", *(f"--set={o}" for o in overrides)]
    log = tmp_path / "first_run.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while not train.is_complete(checkpoints / "checkpoint-2") and time.time() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (layout.trained("fusellm") / "meta.json").exists()
    # Whatever the kill left after step 2 goes; a half-written checkpoint-3 takes its place.
    for later in checkpoints.glob("checkpoint-*"):
        if int(later.name.split("-")[1]) > 2:
            shutil.rmtree(later)
    shutil.copytree(checkpoints / "checkpoint-2", checkpoints / "checkpoint-3")
    (checkpoints / "checkpoint-3" / "trainer_state.json").unlink()
    at_kill = json.loads((checkpoints / "checkpoint-2" / "trainer_state.json").read_text())

    out = train.train_variant(cfg, layout, "fusellm")
    printed = capsys.readouterr().out
    assert "removing incomplete checkpoint-3" in printed and "resuming from checkpoint-2" in printed
    assert json.loads((out / "meta.json").read_text())["steps"] == 4
    final = json.loads((checkpoints / "checkpoint-4" / "trainer_state.json").read_text())
    assert final["global_step"] == 4
    # Steps 1-2 come from the checkpoint (timings and all), not from a second run.
    assert final["log_history"][:2] == at_kill["log_history"][:2]
    assert [r["step"] for r in final["log_history"] if "loss" in r] == [1, 2, 3, 4]


def test_two_processes_train_the_fuse_run(micro_cfg, fused_world, tmp_path) -> None:
    runs = _fresh_runs(fused_world, tmp_path)
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
    cmd += ["--num_processes", "2", "-m", "training.train", "--config", str(MICRO)]
    cmd += ["--runs", str(runs), "--variant", "fusellm", "--set", "training.num_devices=2"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained model ready") == 1  # printed by rank 0 only
    layout = Layout.of(micro_cfg, runs)
    out = layout.trained("fusellm")
    assert json.loads((out / "meta.json").read_text())["steps"] == micro_cfg.training.max_steps
    assert [p.name for p in out.iterdir() if "model" in p.name] == ["model"]
    AutoModelForCausalLM.from_pretrained(out / "model")
    assert len(_train_runs(layout, "fusellm")) == 1


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bf16_deepspeed_zero2_trains(fused_world, tmp_path) -> None:
    runs = _fresh_runs(fused_world, tmp_path)
    sets = ["training.bf16=true", "training.deepspeed=configs/deepspeed/zero2.json"]
    sets += ["training.max_steps=2"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1"]
    cmd += ["-m", "training.train", "--config", str(MICRO), "--runs", str(runs)]
    cmd += ["--variant", "fusellm", *(f"--set={s}" for s in sets)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = Layout.of(load_config(MICRO, sets), runs).trained("fusellm")
    assert json.loads((out / "meta.json").read_text())["steps"] == 2
    AutoModelForCausalLM.from_pretrained(out / "model")


def test_a_variant_is_done_only_for_the_slice_it_was_made_from(
    micro_cfg, fused_world, tmp_path, capsys
) -> None:
    """`make train VARIANT=clm SET="--set training.max_steps=2"` after a 4-step run retrains
    (it used to return the old model); the same settings again keep it."""
    layout = Layout.of(micro_cfg, _fresh_runs(fused_world, tmp_path))
    out = train.train_variant(micro_cfg, layout, "clm")
    assert json.loads((out / "meta.json").read_text())["steps"] == 4
    shorter = load_config(MICRO, ["training.max_steps=2"])
    train.train_variant(shorter, Layout.of(shorter, layout.runs), "clm")
    printed = capsys.readouterr().out
    assert "train: clm was made from another config (train.training.max_steps): retraining" in (
        printed
    )
    assert json.loads((out / "meta.json").read_text())["steps"] == 2
    assert not (out / "checkpoints" / "checkpoint-4").exists()  # the old run's are gone
    recorded = json.loads(layout.made_from("clm").read_text())
    assert recorded["train"]["training"]["max_steps"] == 2 and recorded["variant"]["name"] == "clm"
    train.train_variant(shorter, Layout.of(shorter, layout.runs), "clm")
    assert "retraining" not in capsys.readouterr().out


def test_a_kill_after_the_last_checkpoint_saves_it_without_another_step(
    micro_cfg, fused_world, tmp_path, capsys
) -> None:
    """Killed once the last checkpoint is written but before the model is saved: the re-run
    saves that checkpoint as the model (the Trainer, resumed there, would take a 5th step)."""
    layout = Layout.of(micro_cfg, _fresh_runs(fused_world, tmp_path))
    out = train.train_variant(micro_cfg, layout, "clm")
    first = (out / "model" / "model.safetensors").read_bytes()
    shutil.rmtree(out / "model")
    (out / "meta.json").unlink()
    train.train_variant(micro_cfg, layout, "clm")
    assert "checkpoint-4 holds the last step: saving it as the model" in capsys.readouterr().out
    assert json.loads((out / "meta.json").read_text())["steps"] == 4
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "checkpoint-2",
        "checkpoint-4",
    ]
    assert (out / "model" / "model.safetensors").read_bytes() == first
