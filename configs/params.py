"""Exact parameter counts for ``make plan``, without loading (or downloading) any weights.

A model's ``transformers`` config is built on the meta device (shapes only, no memory) and its
parameters summed; ``parameters()`` yields a tied embedding once, as it is stored once. (Under
`accelerate.init_empty_weights` transformers 4.57 leaves embeddings untied until
``tie_weights()``: the plain ``torch.device("meta")`` context ties them as a real load does.)
The config comes from the checkpoint's ``config.json`` (a local directory or the Hugging Face
cache, never the network), or, for a tiny-world model not built yet, from its build spec
through the same `configs.architectures` function the world uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PretrainedConfig

from configs.architectures import build_config
from configs.layout import Layout
from configs.schema import ModelSpec, SuiteConfig

# The paper's checkpoints per their model cards: shown only while their config.json is not in
# the local cache yet (`make prefetch` puts it there; the count is then exact).
MODEL_CARD_PARAMS = {
    "meta-llama/Llama-2-7b-hf": 6.74e9,
    "meta-llama/Llama-2-13b-hf": 13.0e9,
    "openlm-research/open_llama_7b_v2": 6.74e9,
    "mosaicml/mpt-7b": 6.65e9,
    "EleutherAI/pythia-1b": 1.01e9,
}


@dataclass(frozen=True)
class ParamCount:
    """A parameter count and where it comes from (``exact`` unless it is a model card's)."""

    count: float | None
    source: str
    exact: bool = True


def count_parameters(config: PretrainedConfig) -> int:
    """Parameters of the causal LM ``config`` describes (tied weights once); no memory used."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=False)
    return sum(p.numel() for p in model.parameters())


def _hub_config(spec: ModelSpec, layout: Layout) -> PretrainedConfig | None:
    """The checkpoint's config from a local directory (a real model's or a GGUF file's
    conversion included) or the HF cache; None when absent."""
    try:
        return AutoConfig.from_pretrained(
            layout.model(spec),
            revision=spec.revision,
            local_files_only=True,
            trust_remote_code=False,
        )
    except (OSError, ValueError):  # not cached / not a checkpoint / needs remote code
        return None


def _tokenizer_size(path: Path) -> int | None:
    """``len(tokenizer)`` of a built tokenizer, the vocab size the world builds a model for."""
    if not (path / "tokenizer.json").is_file():
        return None
    return len(AutoTokenizer.from_pretrained(path))


def model_params(cfg: SuiteConfig, layout: Layout, spec: ModelSpec) -> ParamCount:
    """The exact parameter count of ``spec`` and its source, or the model card's figure."""
    if spec.build:
        built = Path(layout.model(spec)) / "config.json"
        if built.is_file():
            config = AutoConfig.from_pretrained(built.parent)
            return ParamCount(count_parameters(config), f"{built}")
        size = _tokenizer_size(layout.tokenizer(spec.build.tokenizer))
        source = f"build spec; vocab {size}, the built tokenizer's"
        if size is None:
            size = cfg.world.tokenizers[spec.build.tokenizer].vocab_size
            source = f"build spec; vocab {size} as configured, tokenizer not built yet"
        return ParamCount(count_parameters(build_config(spec.build, size)), source)
    config = _hub_config(spec, layout)
    if config is not None:
        return ParamCount(count_parameters(config), "config.json")
    if spec.hub_id in MODEL_CARD_PARAMS:
        card = MODEL_CARD_PARAMS[spec.hub_id]
        return ParamCount(card, "model card; config.json not cached: make prefetch", False)
    fix = "make prefetch"
    if spec.real_model or spec.is_gguf:  # converted by make real-models / on first load
        fix = "make real-models" if spec.real_model else "converted on first load (make represent)"
    return ParamCount(None, f"config.json not cached: {fix}", False)
