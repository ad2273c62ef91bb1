"""The ``transformers`` config of a tiny-world model, from its build spec: one function per
architecture.

The paper fuses models of different architectures (Llama-2, OpenLLaMA, MPT) and compares with
GPT-NeoX experts (Pythia); the tiny world builds the same classes at a small size. The config
lives here, below every stage, so the world builds from it and ``make plan`` counts the exact
parameters of a model that is not built yet from the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import GPTNeoXConfig, LlamaConfig, MptConfig, PretrainedConfig

from configs.schema import BuildSpec


def _decoder(spec: BuildSpec, vocab: int) -> dict[str, Any]:
    """The fields Llama and GPT-NeoX configs name alike (MPT names its own)."""
    return {
        "vocab_size": vocab,
        "hidden_size": spec.hidden_size,
        "intermediate_size": spec.intermediate_size or 4 * spec.hidden_size,
        "num_hidden_layers": spec.num_layers,
        "num_attention_heads": spec.num_heads,
        "max_position_embeddings": spec.max_positions,
        "tie_word_embeddings": False,
    }


def _llama(spec: BuildSpec, vocab: int, ids: dict[str, Any]) -> PretrainedConfig:
    return LlamaConfig(**_decoder(spec, vocab), **ids)


def _mpt(spec: BuildSpec, vocab: int, ids: dict[str, Any]) -> PretrainedConfig:
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


def _gpt_neox(spec: BuildSpec, vocab: int, ids: dict[str, Any]) -> PretrainedConfig:
    return GPTNeoXConfig(
        **_decoder(spec, vocab), rotary_pct=0.25, use_parallel_residual=True, **ids
    )


ARCHITECTURES: dict[str, Callable[[BuildSpec, int, dict[str, Any]], PretrainedConfig]] = {
    "llama": _llama,
    "mpt": _mpt,
    "gpt_neox": _gpt_neox,
}


def build_config(
    spec: BuildSpec, vocab: int, special_ids: dict[str, Any] | None = None
) -> PretrainedConfig:
    """The config of ``spec.architecture`` for a tokenizer of ``vocab`` tokens (``len``)."""
    return ARCHITECTURES[spec.architecture](spec, vocab, special_ids or {})
