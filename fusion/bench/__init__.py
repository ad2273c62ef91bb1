"""Speed benchmarks of the fusion stages (`make bench`): ratios measured side by side."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel

from configs.architectures import build_config
from configs.loader import load_config

TINY = Path(__file__).parents[2] / "configs" / "tiny.yaml"


def tiny_target(vocab: int) -> PreTrainedModel:
    """A random-init (seed 0), eval-mode model of the tiny target's build (configs/tiny.yaml)
    with ``vocab`` tokens: what the benches time, with no world to build."""
    config = build_config(load_config(TINY).models.target.build, vocab, {})
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config).eval()
