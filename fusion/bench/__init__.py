"""Speed benchmarks of the fusion stages (`make bench`): ratios measured side by side."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel

from configs.architectures import build_config
from configs.loader import load_config

TINY = Path(__file__).parents[2] / "configs" / "tiny.yaml"


def tiny_target(vocab: int, ids: dict[str, int] | None = None, seed: int = 0) -> PreTrainedModel:
    """A random-init (``seed``), eval-mode model of the tiny target's build (configs/tiny.yaml)
    with ``vocab`` tokens and the special-token ``ids`` (``bos_token_id``, ...) of its
    tokenizer: what the benches time, with no world to build."""
    config = build_config(load_config(TINY).models.target.build, vocab, ids or {})
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config).eval()
