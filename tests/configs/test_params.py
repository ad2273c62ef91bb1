"""``make plan``'s parameter counts equal the real model's ``sum(p.numel())``, tied once."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, GPTNeoXConfig, LlamaConfig, MptConfig

from configs.layout import Layout
from configs.loader import load_config
from configs.params import count_parameters, model_params
from configs.plan import describe
from configs.schema import ModelSpec
from world.models import build_model
from world.tokenizers import train_tokenizer

ROOT = Path(__file__).resolve().parents[2]

SMALL = {"vocab_size": 301, "hidden_size": 32, "num_attention_heads": 4}
CONFIGS = {
    "llama untied": LlamaConfig(**SMALL, intermediate_size=88, num_hidden_layers=2),
    "llama tied": LlamaConfig(
        **SMALL, intermediate_size=88, num_hidden_layers=2, tie_word_embeddings=True
    ),
    "mpt (tied)": MptConfig(vocab_size=301, d_model=32, n_heads=4, n_layers=3),
    "gpt_neox untied": GPTNeoXConfig(**SMALL, intermediate_size=64, num_hidden_layers=2),
    "gpt_neox tied": GPTNeoXConfig(
        **SMALL, intermediate_size=64, num_hidden_layers=2, tie_word_embeddings=True
    ),
}


def _real(config) -> int:
    return sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())


@pytest.mark.parametrize("name", CONFIGS)
def test_meta_count_equals_the_instantiated_model(name: str) -> None:
    assert count_parameters(CONFIGS[name]) == _real(CONFIGS[name])


def test_tied_embedding_is_counted_once() -> None:
    untied = count_parameters(CONFIGS["llama untied"])
    assert untied - count_parameters(CONFIGS["llama tied"]) == 301 * 32


@pytest.mark.parametrize("name", ["llama tied", "mpt (tied)", "gpt_neox untied"])
def test_checkpoint_config_json_gives_the_exact_count(name: str, tmp_path: Path) -> None:
    CONFIGS[name].save_pretrained(tmp_path)  # a checkpoint dir without weights
    cfg = load_config(ROOT / "configs/micro.yaml")
    spec = ModelSpec(name="ckpt", hub_id=str(tmp_path))
    counted = model_params(cfg, Layout.of(cfg, tmp_path / "runs"), spec)
    assert counted.exact and counted.count == _real(CONFIGS[name])
    assert "config.json" in counted.source


class _Tokenizer:
    """What `build_model` reads of a tokenizer: its length and special ids."""

    bos_token_id, eos_token_id, pad_token_id = 1, 2, 0

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size


def test_tiny_world_models_are_counted_from_their_build_spec(tmp_path: Path) -> None:
    """Before the world is built, each model's count is the world-built model's (at the
    tokenizer's configured size), for every architecture of the micro config."""
    cfg = load_config(ROOT / "configs/micro.yaml")
    layout = Layout.of(cfg, tmp_path)
    specs = cfg.models.all() + [cfg.pythia.base]
    assert {s.build.architecture for s in specs} == {"llama", "mpt", "gpt_neox"}
    for spec in specs:
        size = cfg.world.tokenizers[spec.build.tokenizer].vocab_size
        built = build_model(spec.build, _Tokenizer(size), seed=0)
        counted = model_params(cfg, layout, spec)
        assert counted.count == sum(p.numel() for p in built.parameters()), spec.name
        assert "as configured" in counted.source


def test_plan_prints_the_exact_count(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "configs/micro.yaml")
    layout = Layout.of(cfg, tmp_path)
    text = describe(cfg, layout, "configs/micro.yaml")
    exact = model_params(cfg, layout, cfg.models.target).count
    assert f"{int(exact):,} params (build spec" in text


def test_built_tokenizer_then_built_model_give_the_world_models_count(tmp_path: Path) -> None:
    """With the tokenizer built, its real size counts (a small corpus stops BPE short of the
    configured size); with the model built, its config.json."""
    cfg = load_config(ROOT / "configs/micro.yaml")
    layout, spec = Layout.of(cfg, tmp_path), cfg.models.sources[1]  # the MPT source
    texts = [f"document {i} about the river {i % 7} and its {i * 3} boats." for i in range(50)]
    tokenizer = train_tokenizer("byte_bpe", texts, 550)
    tokenizer.save_pretrained(layout.tokenizer(spec.build.tokenizer))
    model = build_model(spec.build, tokenizer, seed=0)
    real = sum(p.numel() for p in model.parameters())
    assert len(tokenizer) != 550  # the configured size would give another count
    counted = model_params(cfg, layout, spec)
    assert counted.count == real and "the built tokenizer" in counted.source
    model.config.save_pretrained(layout.model(spec))
    counted = model_params(cfg, layout, spec)
    assert counted.count == real and counted.source.endswith("config.json")
