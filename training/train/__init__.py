"""``make train``: continue training the target on ``λ·CLM + (1−λ)·distill``, per variant.

Variants: every fused-target variant of :mod:`configs.variants` (``fusellm``, one per source,
the EM and AvgCE ablations, ``kd`` with the teacher's top-k), trained with λ =
``training.clm_weight``, and ``clm``: the baseline on the same blocks and steps with λ = 1.
FuseChat's merged variants are not trained: their seed's pairwise targets are merged
(:mod:`training.train.merge`), on rank 0 only (merging is one CPU process's work).
All settings come from ``cfg.training`` (accelerate and DeepSpeed through the Trainer's own
arguments). Checkpoints go to ``<out>/checkpoints``; a re-run resumes from the newest
complete one. The final model is saved atomically to ``<out>/model``, then ``meta.json``
marks the variant done and the MLflow run ``train:<variant>`` is logged from rank 0. Fused
data that does not fit the target (another tokenizer's ids, targets for other positions) and
a checkpoint of another model are refused before any step, with one line naming the fix.
A variant is done only for the config slice it was made from (``made_from.json``, written
before the first step): after a change (``make train VARIANT=x SET=...``) its outputs are
removed, checkpoints included, and it is retrained, as a changed stage is.
Usage: ``python -m training.train --config configs/tiny.yaml [--variant NAME]``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import mlflow
import pyarrow.compute as pc
import torch
from datasets import Dataset
from safetensors import safe_open
from transformers import PreTrainedModel, TrainerState, TrainingArguments
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from configs.stages import changed_keys, fingerprint
from configs.variants import Variant, get_train_variant, lineage, replica
from fusion.fuse.stage import load_fused
from fusion.models import load_model
from training.causal_lm import clm_arguments
from training.collator import SparseTargetCollator
from training.train.merge import merge_variant
from training.trainer import FusionTrainer

TARGET_COLUMNS = ["input_ids", "target_ids", "target_probs", "target_len"]
# Per-position columns a variant's choices add (fusion.target: tail; fusion.fallback: none).
POSITION_COLUMNS = ["target_tail", "distill_mask"]
# A checkpoint is complete only with its state, weights and optimizer; DeepSpeed writes
# its ``latest`` tag after the model and optimizer states of ``global_step*/``.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "latest")
OPTIMIZER_FILES = ("optimizer.pt", "latest")
# A checkpoint is resumable into the target only if these entries of its config.json agree.
MODEL_IDENTITY = ("model_type", "vocab_size", "hidden_size", "num_hidden_layers")


def rank_zero() -> bool:
    """True in the job's first process: launchers (torchrun, accelerate, deepspeed) set RANK."""
    return int(os.environ.get("RANK", "0")) == 0


def say(message: str) -> None:
    """Print once per job."""
    if rank_zero():
        print(message, flush=True)


def training_data(layout: Layout, variant: Variant, vocab_size: int) -> Dataset:
    """The variant's fused blocks, checked against the target's vocabulary.

    A variant without targets (``clm``) gets the same blocks' tokens, without targets.
    """
    data = load_fused(layout, variant.data)
    check_fused(data, vocab_size, layout.fused(variant.data))
    extra = [c for c in POSITION_COLUMNS if c in data.column_names]
    columns = TARGET_COLUMNS + extra if variant.fused else ["input_ids"]
    return data.select_columns(columns).with_format("numpy")


def check_fused(data: Dataset, vocab_size: int, path: Path) -> None:
    """Refuse fused blocks that do not fit the target before a step is spent on them.

    Targets fused for another tokenizer hold ids beyond the target's logits, or target lists
    for other positions than the tokens; either would crash mid-run or train on garbage. The
    checks run on the flat Arrow columns (no Python loop over rows), so they stay cheap.
    """
    table, fix = data.data.table, f"delete {path} and re-run `make fuse`"
    for column in ("input_ids", "target_ids"):
        bounds = pc.min_max(pc.list_flatten(table[column]))
        low, high = bounds["min"].as_py() or 0, bounds["max"].as_py() or 0
        if low < 0 or high >= vocab_size:
            raise SuiteError(
                f"{path} has {column} in [{low}, {high}] but the target has {vocab_size} "
                f"tokens (fused for another tokenizer?): {fix}"
            )
    tokens = pc.list_value_length(table["input_ids"])
    per_position = ["target_len", *(c for c in POSITION_COLUMNS if c in table.column_names)]
    rows = max(
        pc.sum(pc.not_equal(pc.list_value_length(table[c]), tokens)).as_py() for c in per_position
    )
    entries = pc.sum(pc.list_flatten(table["target_len"])).as_py() or 0
    stored = {len(pc.list_flatten(table[c])) for c in ("target_ids", "target_probs")}
    if rows or stored != {entries}:
        raise SuiteError(
            f"{path} has targets for other positions than its input_ids ({rows} of "
            f"{len(table)} blocks differ in length; {entries} target entries listed, "
            f"{sorted(stored)} stored): {fix}"
        )


def training_arguments(cfg: SuiteConfig, out: Path) -> TrainingArguments:
    """Trainer arguments, entirely from ``cfg.training`` (shared defaults: training.causal_lm)."""
    t, cuda = cfg.training, torch.cuda.is_available()
    args = clm_arguments(
        out / "checkpoints",
        steps=t.max_steps,
        batch_size=t.per_device_batch_size,
        lr=t.lr,
        seed=t.seed,
        num_train_epochs=t.epochs,
        gradient_accumulation_steps=t.grad_accum,
        adam_beta1=t.adam_beta1,
        adam_beta2=t.adam_beta2,
        weight_decay=t.weight_decay,
        warmup_ratio=t.warmup_ratio,
        lr_scheduler_type=t.scheduler,
        max_grad_norm=t.max_grad_norm,
        bf16=t.bf16 and cuda,
        use_cpu=not cuda,  # else CPU ranks of a launcher never join one gloo process group
        ddp_find_unused_parameters=False,  # every parameter takes part in every forward
        gradient_checkpointing=t.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},
        deepspeed=t.deepspeed,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=2,
        logging_steps=t.logging_steps,
        remove_unused_columns=False,
    )
    if t.bf16 and not cuda:
        say("training.bf16 is set but CUDA is not available: training in the model's dtype")
    if args.world_size != t.num_devices:
        actual = t.per_device_batch_size * t.grad_accum * args.world_size
        say(
            f"warning: training.num_devices={t.num_devices} but {args.world_size} process(es) "
            f"run: the global batch is {actual} sequences, not {t.global_batch_size}"
        )
    return args


def is_complete(checkpoint: Path) -> bool:
    """True when the Trainer finished writing ``checkpoint`` (its state is written last)."""
    try:
        json.loads((checkpoint / "trainer_state.json").read_text())
    except (OSError, ValueError):
        return False
    files = (WEIGHT_FILES, OPTIMIZER_FILES)
    return all(any((checkpoint / name).exists() for name in names) for names in files)


def last_complete_checkpoint(checkpoints: Path) -> Path | None:
    """The newest checkpoint to resume from, after deleting any half-written one."""
    if not checkpoints.is_dir():
        return None
    for checkpoint in sorted(checkpoints.glob(f"{PREFIX_CHECKPOINT_DIR}-*")):
        if checkpoint.is_dir() and not is_complete(checkpoint):
            say(f"removing incomplete {checkpoint.name}")
            shutil.rmtree(checkpoint, ignore_errors=True)
    last = get_last_checkpoint(str(checkpoints))
    return Path(last) if last else None


def final_state(checkpoint: Path) -> TrainerState | None:
    """The checkpoint's Trainer state when it holds the run's last step (a run killed after
    it, before its model was saved), else None."""
    state = TrainerState.load_from_json(str(checkpoint / "trainer_state.json"))
    return state if state.max_steps and state.global_step >= state.max_steps else None


def check_checkpoint(checkpoint: Path, model: PreTrainedModel) -> None:
    """Refuse to resume an unreadable checkpoint, or one of another model (its weights and
    optimizer would not fit).

    Such a directory is left by an earlier run with another target under the same RUNS;
    it may hold hours of that run's progress, so deleting it is left to the user.
    """
    weights = checkpoint / "model.safetensors"
    try:
        if weights.is_file():
            safe_open(str(weights), "pt").keys()  # the header: a torn or foreign file fails here
    except Exception as err:  # safetensors raises its own error type; one line either way
        reason = (str(err) or type(err).__name__).splitlines()[0][:120]
        raise SuiteError(
            f"checkpoint {checkpoint} is unreadable ({reason}): delete it to resume from an "
            "earlier one (or from the start)"
        ) from None
    try:
        saved = json.loads((checkpoint / "config.json").read_text())
    except (OSError, ValueError):
        saved = {}
    ours = model.config.to_dict()
    diff = [
        f"{k} {saved.get(k)} vs {ours.get(k)}"
        for k in MODEL_IDENTITY
        if saved.get(k) != ours.get(k)
    ]
    if diff:
        raise SuiteError(
            f"checkpoint {checkpoint} is of another model than the target ({', '.join(diff)}): "
            f"delete {checkpoint.parent} to train from the start"
        )


def save_final(trainer: FusionTrainer, final: Path) -> None:
    """Save model and tokenizer to ``final`` atomically; rank 0 writes, every rank joins.

    ``save_model`` is a collective under ZeRO-3 (weights are gathered), so the other ranks
    call it too; they write nothing (``should_save`` is false off rank 0).
    """
    if not trainer.is_world_process_zero():
        trainer.save_model(str(final))
        return
    with atomic_dir(final) as tmp:
        trainer.save_model(str(tmp))  # the tokenizer too: it is the processing class


def summary(
    variant: str, seed: int, clm_weight: float, trainer: FusionTrainer, model_dir: Path
) -> dict:
    """``meta.json``: what was trained, how far, the last logged losses and throughput."""
    steps = [r for r in trainer.state.log_history if "loss" in r]
    last = steps[-1] if steps else {}
    speeds = [r["tokens_per_s"] for r in steps if "tokens_per_s" in r]
    return {
        "variant": variant,
        "seed": seed,
        "clm_weight": clm_weight,
        "steps": trainer.state.global_step,
        **{key: last.get(key) for key in ("loss", "clm_loss", "distill_loss")},
        "tokens_per_s": round(sum(speeds) / len(speeds), 1) if speeds else None,
        "model": str(model_dir),
    }


def record(layout: Layout, cfg: SuiteConfig, name: str, meta: dict, history: list[dict]) -> None:
    """MLflow run ``train:<name>``: config, per-step metrics, the model path as a tag."""
    params = cfg.training.model_dump() | {
        "variant": meta["variant"],
        "clm_weight_used": meta["clm_weight"],
    }
    with tracking.stage_run(layout, "train", name, params=params):
        tracking.log_history("train", [r for r in history if "loss" in r])
        mlflow.set_tags({"model_path": str(Path(meta["model"]).resolve()), **lineage(meta)})


def train_variant(cfg: SuiteConfig, layout: Layout, variant: str, seed: int | None = None) -> Path:
    """Train the target on ``variant``'s data with ``seed`` (default ``training.seed``) and
    save it under ``layout.trained(replica(...))``.

    Idempotent (``meta.json`` marks a finished run of the same slice) and resumable (newest
    complete checkpoint). Returns the run's output directory.
    """
    seed = cfg.training.seed if seed is None else seed
    spec = get_train_variant(cfg, variant)
    name = replica(cfg, spec.name, seed)
    out = layout.trained(name)
    seeded = cfg.model_copy(update={"training": cfg.training.model_copy(update={"seed": seed})})
    made_from = slice_of(seeded, spec)
    if current(layout, name, made_from) and (out / "meta.json").exists():
        return out
    if rank_zero():
        write_json(layout.made_from(name), made_from)
    if spec.merge:  # FuseChat: train this seed's pairwise targets (if not yet), then merge
        # replica names come from the config's own training.seed, so ``cfg`` here, not ``seeded``
        targets = [train_variant(cfg, layout, v, seed) / "model" for v in spec.merge.variants]
        return merge_variant(cfg, layout, spec, seed, targets) if rank_zero() else out
    cfg = seeded
    clm_weight = spec.clm_weight(cfg)
    tokenizer, model = load_model(cfg.models.target, layout, torch.device("cpu"))
    data = training_data(layout, spec, model.config.vocab_size)
    args = training_arguments(cfg, out)
    with args.main_process_first(local=False, desc="checkpoint check"):
        resume = last_complete_checkpoint(Path(args.output_dir))
    if resume:
        check_checkpoint(resume, model)
        say(f"resuming from {resume.name}")
    finished = final_state(resume) if resume else None
    if finished:  # the Trainer would take one more step from it: save it as it is instead
        say(f"{resume.name} holds the last step: saving it as the model")
        model = type(model).from_pretrained(str(resume), dtype=model.dtype)
    pad = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
    trainer = FusionTrainer(
        model=model,
        args=args,
        train_dataset=data,
        data_collator=SparseTargetCollator(pad_token_id=pad),
        processing_class=tokenizer,
        clm_weight=clm_weight,
        distill_loss=cfg.training.distill_loss,
    )
    if finished:
        trainer.state = finished
    else:
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    save_final(trainer, out / "model")
    if trainer.is_world_process_zero():
        meta = summary(variant, seed, clm_weight, trainer, out / "model")
        record(layout, cfg, name, meta, trainer.state.log_history)
        write_json(out / "meta.json", meta)
    return out


def slice_of(cfg: SuiteConfig, spec: Variant) -> dict:
    """What a trained variant is made from: its definition and the config slice of the train
    stage (training, with this seed, and every upstream stage's), as JSON values."""
    return {"variant": json.loads(json.dumps(asdict(spec))), **fingerprint(cfg, "train")}


def current(layout: Layout, name: str, made_from: dict) -> bool:
    """Whether the variant's outputs (finished or not) were made from ``made_from``. Outputs
    recorded from another slice, or finished without a record, are removed, checkpoints
    included, so nothing of other settings is kept or resumed."""
    out = layout.trained(name)
    if not out.exists():
        return False
    try:
        recorded = json.loads(layout.made_from(name).read_text())
    except (OSError, ValueError):
        recorded = None
    if recorded == made_from:
        return True
    if recorded is None and not (out / "meta.json").exists():
        return False  # unfinished and unrecorded: kept, check_checkpoint guards a resume
    changed = changed_keys(recorded, made_from) if recorded else ["no record of it"]
    if rank_zero():
        say(f"train: {name} was made from another config ({', '.join(changed[:5])}): retraining")
        shutil.rmtree(out)
    return False


def write_json(path: Path, body: dict) -> None:
    """``path`` written beside and renamed: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(body, indent=2))
    tmp.rename(path)
