"""represent -> align -> fuse on the micro world: contents, determinism, resume, bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
from datasets import Dataset, load_from_disk
from transformers import AutoModelForCausalLM, AutoTokenizer

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.variants import Variant, fuse_variants, get_variant
from fusion.blocks import split_document
from fusion.fuse.stage import fuse_variant, load_fused
from fusion.models import load_causal_lm
from fusion.ragged import rows_of, unflatten
from fusion.represent import load_representation, represent_shard

ROOT = Path(__file__).resolve().parents[2]


def test_blocks_fit_the_target_block_size(micro_cfg, fused_world) -> None:
    tok = AutoTokenizer.from_pretrained(fused_world.model(micro_cfg.models.target))
    rep = load_representation(fused_world.representation(micro_cfg.models.target.name))
    assert max(len(ids) for ids in rep["input_ids"]) <= micro_cfg.fusion.block_size
    text = "alpha beta gamma " * 200
    chunks = split_document(text, tok, 16)
    # every character but edge whitespace is kept, in order (a whitespace-only chunk is dropped)
    assert "".join(chunks).rstrip() == text.strip()
    assert all(len(tok(c, add_special_tokens=False).input_ids) <= 16 for c in chunks)


def test_topk_at_t_predicts_token_t_plus_1(micro_cfg, fused_world) -> None:
    spec = micro_cfg.models.sources[1]
    rep = load_representation(fused_world.representation(spec.name))
    model = AutoModelForCausalLM.from_pretrained(fused_world.model(spec)).eval()
    row, k = rep[3], micro_cfg.fusion.topk
    ids = torch.tensor([row["input_ids"]], dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=ids, labels=ids)
    top = rows_of(row["topk_ids"], k)
    assert (top[:, 0] == out.logits[0].argmax(-1).numpy()).all()
    # The stored CE is the model's own next-token loss: logits at t scored against t+1.
    assert row["ce"] == pytest.approx(out.loss.item(), rel=1e-4)
    assert len(row["topk_logits"]) == len(row["input_ids"]) * k


def test_storage_is_within_6k_plus_12_bytes_per_token(micro_cfg, fused_world) -> None:
    out = fused_world.representation(micro_cfg.models.target.name)
    rep = load_representation(out)
    tokens = sum(len(x) for x in rep["input_ids"])
    arrow_bytes = sum(p.stat().st_size for p in out.rglob("*.arrow"))
    assert arrow_bytes <= (6 * micro_cfg.fusion.topk + 12) * tokens + 4096 * len(
        list(out.glob("shard-*"))
    )


def test_fused_targets_are_distributions_over_target_positions(micro_cfg, fused_world) -> None:
    """Renormalized top-k sum to 1; tail targets' top-k sum to 1 with their tail bucket."""
    for name, variant in fuse_variants(micro_cfg).items():
        fused = load_fused(fused_world, name)
        for row in fused.select(range(5)):
            assert len(row["target_len"]) == len(row["input_ids"])
            probs = unflatten(row["target_probs"], row["target_len"])
            sums = np.array([sum(p) for p in probs])
            if variant.target == "tail":
                assert sums.min() < 0.99, name  # a micro model's top-5 hold part of its mass
                sums = sums + np.asarray(row["target_tail"])
            assert np.allclose(sums, 1.0, atol=2e-2), name


def test_topk_probabilities_come_from_the_stored_log_normalizer(micro_cfg, fused_world) -> None:
    """``exp(logit - lse)`` of the top-1 is the model's own probability of its argmax."""
    spec = micro_cfg.models.target
    row = load_representation(fused_world.representation(spec.name))[0]
    model = AutoModelForCausalLM.from_pretrained(fused_world.model(spec)).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([row["input_ids"]])).logits[0]
    top = rows_of(row["topk_logits"], micro_cfg.fusion.topk)[:, 0].astype(np.float64)
    expected = torch.softmax(logits, -1).max(-1).values.numpy()
    assert np.allclose(np.exp(top - np.asarray(row["lse"])), expected, rtol=2e-3)


def test_kd_variant_is_the_teacher_distribution(micro_cfg, fused_world) -> None:
    teacher = load_representation(fused_world.representation(micro_cfg.models.teacher.name))
    kd = load_fused(fused_world, "kd")
    k = micro_cfg.fusion.topk
    row, fused = teacher[0], kd[0]
    ids = unflatten(fused["target_ids"], fused["target_len"])
    assert [sorted(x) for x in ids] == [sorted(x) for x in rows_of(row["topk_ids"], k).tolist()]


def _represent_cli(runs: Path, *extra: str, launcher: list[str] | None = None):
    cmd = [
        *(launcher or [sys.executable]),
        "-m",
        "fusion.represent",
        "--config",
        "configs/micro.yaml",
        "--runs",
        str(runs),
        "--model",
        "llama2",
        *extra,
    ]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _fresh_runs(micro_world: Layout, tmp_path: Path) -> Path:
    """A new RUNS dir sharing the built world (and blocks) but no representations."""
    root = tmp_path / micro_world.cfg.name
    root.mkdir(parents=True)
    (root / "world").symlink_to(micro_world.world)
    shutil.copytree(micro_world.blocks, root / "blocks")
    return tmp_path


def _same_representation(a: Path, b: Path) -> None:
    x, y = load_representation(a), load_representation(b)
    for col in ("block_id", "input_ids", "topk_ids", "topk_logits", "lse", "ce"):
        assert x[col] == y[col], col


def test_two_processes_equal_one(micro_cfg, fused_world, tmp_path) -> None:
    runs = _fresh_runs(fused_world, tmp_path)
    launcher = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
    ]
    proc = _represent_cli(runs, launcher=launcher)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    _same_representation(
        fused_world.representation("llama2"), Layout.of(micro_cfg, runs).representation("llama2")
    )


def test_kill_9_then_rerun_resumes_to_the_same_result(micro_cfg, fused_world, tmp_path) -> None:
    runs = _fresh_runs(fused_world, tmp_path)
    out = Layout.of(micro_cfg, runs).representation("llama2")
    proc = _represent_cli(runs, "--set", "fusion.shard_blocks=4")
    deadline = time.time() + 300
    while not list(out.glob("shard-*")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in out.glob("shard-*"))
    assert done and not (out / "meta.json").exists()
    again = _represent_cli(runs, "--set", "fusion.shard_blocks=4")
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    x, y = load_representation(out), load_representation(fused_world.representation("llama2"))
    for col in ("block_id", "input_ids", "topk_ids", "topk_logits", "lse", "ce"):
        assert x[col] == y[col], col


def test_corrupt_shard_is_one_clean_line(micro_cfg, fused_world, tmp_path) -> None:
    copy = tmp_path / "rep"
    shutil.copytree(fused_world.representation("llama2"), copy)
    arrow = next((copy / "shard-00000").glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:100])
    with pytest.raises(SuiteError, match="shard-00000 is missing or corrupt"):
        load_representation(copy)


def test_block_longer_than_context_is_refused(micro_cfg, fused_world) -> None:
    spec = micro_cfg.models.target
    tok = AutoTokenizer.from_pretrained(fused_world.model(spec))
    model = AutoModelForCausalLM.from_pretrained(fused_world.model(spec))
    model.config.max_position_embeddings = 4
    blocks = Dataset.from_dict({"block_id": [0], "text": ["one two three four five six"]})
    with pytest.raises(SuiteError, match="over its context"):
        represent_shard(model, tok, blocks, micro_cfg, spec.name)


def test_nan_logits_are_refused(micro_cfg, fused_world) -> None:
    spec = micro_cfg.models.target
    tok = AutoTokenizer.from_pretrained(fused_world.model(spec))
    model = AutoModelForCausalLM.from_pretrained(fused_world.model(spec))
    with torch.no_grad():
        model.lm_head.weight.fill_(float("nan"))
    blocks = Dataset.from_dict({"block_id": [0], "text": ["one two three"]})
    with pytest.raises(SuiteError, match="NaN/inf"):
        represent_shard(model, tok, blocks, micro_cfg, spec.name)


def test_tokenizer_that_does_not_match_its_model_is_refused(micro_cfg, fused_world, tmp_path):
    from configs.schema import ModelSpec
    from fusion.represent import load_model

    target, other = micro_cfg.models.target, micro_cfg.models.sources[0]
    bad = tmp_path / "mismatched"
    shutil.copytree(fused_world.model(target), bad)
    AutoTokenizer.from_pretrained(fused_world.model(other)).save_pretrained(str(bad))
    spec = ModelSpec(name="mismatched", hub_id=str(bad))
    with pytest.raises(SuiteError, match="pair the model with its own tokenizer"):
        load_model(spec, fused_world, torch.device("cpu"))


def test_source_without_vocabulary_overlap_is_refused(micro_cfg, fused_world) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from fusion.align.stage import vocab_mapping

    raw = Tokenizer(models.WordLevel({"ж": 0, "щ": 1, "[?]": 2}, unk_token="[?]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    alien = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[?]")
    target = AutoTokenizer.from_pretrained(fused_world.model(micro_cfg.models.target))
    with pytest.raises(SuiteError, match="shares no token"):
        vocab_mapping(alien, target, "mined", "alien")


def _fuse_elsewhere(fused_world: Layout, tmp_path: Path, variant: Variant) -> Dataset:
    """``variant`` fused in a new RUNS dir that shares the world, representations and
    alignments (the session's fuse dir stays as it is)."""
    root = tmp_path / fused_world.cfg.name
    root.mkdir(parents=True)
    for name in ("world", "represent", "align"):
        (root / name).symlink_to(fused_world.root / name)
    layout = Layout.of(fused_world.cfg, tmp_path)
    fuse_variant(fused_world.cfg, layout, variant)
    return load_fused(layout, variant.name)


@pytest.mark.parametrize("fallback", ["next_token", "target", "none"])
def test_fallback_choices_change_only_the_fallback_positions(
    micro_cfg, fused_world, tmp_path, fallback: str
) -> None:
    main = get_variant(micro_cfg, "fusellm")  # MinCE: one candidate per block
    reference = load_fused(fused_world, main.name)
    other = _fuse_elsewhere(fused_world, tmp_path, replace(main, fallback=fallback))
    assert other["fallbacks"] == reference["fallbacks"]
    assert sum(reference["fallbacks"]) > 0
    for ref, row in zip(reference, other, strict=True):
        ref_ids = unflatten(ref["target_ids"], ref["target_len"])
        ids = unflatten(row["target_ids"], row["target_len"])
        changed = [t for t, (a, b) in enumerate(zip(ref_ids, ids, strict=True)) if a != b]
        tokens = ref["input_ids"]
        if fallback == "none":
            assert ids == ref_ids and sum(not m for m in row["distill_mask"]) == row["fallbacks"]
            continue
        assert len(changed) <= row["fallbacks"]
        for t in changed:
            assert ref_ids[t] == [tokens[t]]  # the reference's one-hot on the current token
            if fallback == "next_token" and t + 1 < len(tokens):
                assert ids[t] == [tokens[t + 1]]
            else:  # the target's own distribution there
                assert len(ids[t]) == micro_cfg.fusion.topk


def test_represent_logs_one_run_per_model(micro_cfg, fused_world) -> None:
    """MLflow run ``represent:<model>``: the settings, and tokens and bytes per token as
    ``meta.json`` and the stored shards give them."""
    tracking.use_store(fused_world)
    runs = mlflow.search_runs(
        experiment_names=[micro_cfg.name], filter_string="tags.stage = 'represent'"
    )
    runs = runs[runs["tags.sub"].fillna("") == ""]  # not the Pythia experiment's (same store)
    assert sorted(runs["tags.model"]) == sorted(s.name for s in micro_cfg.models.all())
    out = fused_world.representation("llama2")
    row = runs[runs["tags.model"] == "llama2"].iloc[0]
    meta = json.loads((out / "meta.json").read_text())
    stored = sum(p.stat().st_size for p in out.rglob("*.arrow"))
    assert row["metrics.represent/tokens"] == meta["tokens"]
    assert row["metrics.represent/bytes_per_token"] == pytest.approx(stored / meta["tokens"])
    assert row["params.topk"] == str(micro_cfg.fusion.topk)
    assert row["params.block_size"] == str(micro_cfg.fusion.block_size)


def test_topk_regime_is_the_models_own_mass_and_coverage(micro_cfg, fused_world) -> None:
    """Top-k mass and coverage of the true next token, recomputed from the model's full
    softmax on the stored blocks, equal what represent logged."""
    spec = micro_cfg.models.target
    tok, model = load_causal_lm(fused_world.model(spec))
    k, mass, positions, covered, predicted = micro_cfg.fusion.topk, 0.0, 0, 0, 0
    for text in load_from_disk(str(fused_world.blocks))["text"]:
        ids = torch.tensor([tok(text, add_special_tokens=False).input_ids])
        with torch.no_grad():
            probs = model(ids).logits[0].float().softmax(-1)
        top = probs.topk(k, dim=-1)
        mass += top.values.sum().item()
        positions += ids.shape[1]
        covered += (top.indices[:-1] == ids[0, 1:, None]).any(-1).sum().item()
        predicted += ids.shape[1] - 1
    meta = json.loads((fused_world.representation(spec.name) / "meta.json").read_text())
    assert meta["topk_mass"] == pytest.approx(mass / positions, abs=2e-3)  # fp16 logits
    assert meta["topk_coverage"] == pytest.approx(covered / predicted, abs=2e-3)
    tracking.use_store(fused_world)
    runs = mlflow.search_runs(
        experiment_names=[micro_cfg.name], filter_string="tags.stage = 'represent'"
    )
    row = runs[runs["tags.model"] == spec.name].iloc[0]
    assert row["metrics.represent/topk_coverage"] == meta["topk_coverage"]
