"""Random-init ``transformers`` models for the tiny world, one function per architecture.

The paper fuses models of different architectures (Llama-2, OpenLLaMA, MPT) and compares
with GPT-NeoX experts (Pythia); the tiny world builds the same classes at a small size so
every downstream stage runs the code it would run on the 7B checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import (
    AutoModelForCausalLM,
    GPTNeoXConfig,
    LlamaConfig,
    MptConfig,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from configs.schema import BuildSpec


def _special_ids(tok: PreTrainedTokenizerBase) -> dict[str, int | None]:
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": pad}


def _llama(spec: BuildSpec, vocab: int, ids: dict) -> PretrainedConfig:
    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size or 4 * spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        max_position_embeddings=spec.max_positions,
        tie_word_embeddings=False,
        **ids,
    )


def _mpt(spec: BuildSpec, vocab: int, ids: dict) -> PretrainedConfig:
    ratio = (spec.intermediate_size or 4 * spec.hidden_size) // spec.hidden_size
    return MptConfig(
        vocab_size=vocab,
        d_model=spec.hidden_size,
        n_heads=spec.num_heads,
        n_layers=spec.num_layers,
        expansion_ratio=ratio,
        max_seq_len=spec.max_positions,
        **ids,
    )


def _gpt_neox(spec: BuildSpec, vocab: int, ids: dict) -> PretrainedConfig:
    return GPTNeoXConfig(
        vocab_size=vocab,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size or 4 * spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        max_position_embeddings=spec.max_positions,
        rotary_pct=0.25,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        **ids,
    )


ARCHITECTURES: dict[str, Callable[[BuildSpec, int, dict], PretrainedConfig]] = {
    "llama": _llama,
    "mpt": _mpt,
    "gpt_neox": _gpt_neox,
}


def build_model(spec: BuildSpec, tokenizer: PreTrainedTokenizerBase, seed: int) -> PreTrainedModel:
    """A freshly initialised causal LM of ``spec.architecture`` sized for ``tokenizer``."""
    config = ARCHITECTURES[spec.architecture](spec, len(tokenizer), _special_ids(tokenizer))
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)
