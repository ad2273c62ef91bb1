"""Random-init ``transformers`` models for the tiny world.

The paper fuses models of different architectures (Llama-2, OpenLLaMA, MPT) and compares
with GPT-NeoX experts (Pythia); the tiny world builds the same classes at a small size so
every downstream stage runs the code it would run on the 7B checkpoints. The config of each
architecture is `configs.architectures` (``make plan`` counts parameters from it too).
"""

from __future__ import annotations

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, PreTrainedTokenizerBase

from configs.architectures import build_config
from configs.schema import BuildSpec


def _special_ids(tok: PreTrainedTokenizerBase) -> dict[str, int | None]:
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": pad}


def build_model(spec: BuildSpec, tokenizer: PreTrainedTokenizerBase, seed: int) -> PreTrainedModel:
    """A freshly initialised causal LM of ``spec.architecture`` sized for ``tokenizer``."""
    config = build_config(spec, len(tokenizer), _special_ids(tokenizer))
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)
