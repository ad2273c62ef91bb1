"""`make world` on the micro config: the artifacts exist, load, differ as designed, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import torch
from datasets import load_from_disk
from transformers import AutoModelForCausalLM, AutoTokenizer

from configs.layout import Layout
from fusion.corpus import load_corpora
from world.build import build_world_corpora, built_models

EXPECTED_CLASSES = {
    "llama": "LlamaForCausalLM",
    "mpt": "MptForCausalLM",
    "gpt_neox": "GPTNeoXForCausalLM",
}


def test_every_model_loads_with_auto_classes_and_generates(micro_cfg, micro_world) -> None:
    for spec in built_models(micro_cfg):
        path = micro_world.model(spec)
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
        assert type(model).__name__ == EXPECTED_CLASSES[spec.build.architecture]
        ids = tok("The city of", return_tensors="pt", add_special_tokens=False).input_ids
        out = model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=tok.eos_token_id)
        assert out.shape[1] == ids.shape[1] + 5


def test_tokenizers_and_architectures_differ(micro_cfg, micro_world) -> None:
    m = micro_cfg.models
    toks = {s.name: AutoTokenizer.from_pretrained(micro_world.model(s)) for s in m.all()}
    target, (src1, src2) = toks[m.target.name], (toks[s.name] for s in m.sources)
    assert target.get_vocab() != src1.get_vocab() != src2.get_vocab()
    assert any(t.startswith("▁") for t in src1.get_vocab())
    assert any(t.startswith("Ġ") for t in src2.get_vocab())
    assert toks[m.teacher.name].get_vocab() == target.get_vocab()
    archs = {s.build.architecture for s in [m.target, *m.sources]}
    assert archs == {"llama", "mpt"}


def test_heldout_items_absent_from_every_corpus(micro_world: Layout) -> None:
    items = [json.loads(line) for line in micro_world.heldout.read_text().splitlines()]
    assert items
    docs = [d for splits in load_corpora(micro_world).values() for s in splits.values() for d in s]
    text = "\n".join(docs)
    for item in items:
        assert item["prompt"] not in text


def test_world_is_deterministic_from_the_seed(micro_cfg, micro_world, tmp_path) -> None:
    again = Layout.of(micro_cfg, tmp_path)
    build_world_corpora(micro_cfg, again)
    assert load_corpora(again) == load_corpora(micro_world)
    assert again.heldout.read_text() == micro_world.heldout.read_text()
    other = Layout.of(
        micro_cfg.model_copy(update={"world": micro_cfg.world.model_copy(update={"seed": 1})}),
        tmp_path / "other",
    )
    build_world_corpora(other.cfg, other)
    assert load_corpora(other) != load_corpora(micro_world)


def test_world_cli_rebuild_is_identical(micro_cfg, micro_world, tmp_path) -> None:
    """A second build from scratch gives bit-identical model weights and benchmark files."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "world",
            "--config",
            "configs/micro.yaml",
            "--runs",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = Layout.of(micro_cfg, tmp_path)
    for spec in built_models(micro_cfg):
        a = AutoModelForCausalLM.from_pretrained(micro_world.model(spec)).state_dict()
        b = AutoModelForCausalLM.from_pretrained(again.model(spec)).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), spec.name
    assert again.code_problems.read_bytes() == micro_world.code_problems.read_bytes()
    assert again.world_manifest.read_bytes() == micro_world.world_manifest.read_bytes()
    for task in micro_world.tasks.glob("*.jsonl"):
        assert (again.tasks / task.name).read_bytes() == task.read_bytes(), task.name
    assert (
        load_from_disk(str(again.fusion_corpus))["text"]
        == load_from_disk(str(micro_world.fusion_corpus))["text"]
    )
