"""The same recipes through mergekit 0.1.4 and through the suite: identical tensors.

Pico Llamas (tied embeddings) as a base plus seeded task vectors, in float32 and bfloat16;
mergekit runs in ``.venv-mergekit`` (``make mergekit-env``) as a subprocess, computing in
float32 (``dtype: float32``) and writing the models' dtype, as the suite does. DARE runs with
the same injected drop masks on both sides (:func:`mergekit_run.value_mask`).
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer, models
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from fusion.merge import sparsify
from fusion.merge.driver import merge_checkpoints
from tests.fusion.merge.mergekit_run import value_mask

ROOT = Path(__file__).resolve().parents[3]
MERGEKIT_PY = ROOT / ".venv-mergekit" / "bin" / "python"
pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv-mergekit" / ".installed").is_file(),
    reason="no mergekit environment: run `make mergekit-env` (builds .venv-mergekit)",
)

WEIGHTS = [0.3, 0.5, 0.7]
DENSITIES = [0.4, 0.6, 0.8]
# name: (mergekit method, global parameters, per-model keys, suite method, suite params)
RECIPES = {
    "linear": ("linear", {}, ["weight"], "linear", {}),
    "task_arithmetic": (
        "task_arithmetic",
        {"lambda": 0.7},
        ["weight"],
        "task_arithmetic",
        {"lambda": 0.7},
    ),
    "ties": ("ties", {}, ["weight", "density"], "ties", {"density": DENSITIES}),
    "dare_ties": (
        "dare_ties",
        {},
        ["weight", "density"],
        "dare_ties",
        {"density": DENSITIES, "rescale": "l1"},
    ),
    "dare_linear": (
        "dare_linear",
        {"normalize": True},
        ["weight", "density"],
        "dare_linear",
        {"density": DENSITIES, "rescale": "l1", "normalize": True},
    ),
    "sce": ("sce", {"select_topk": 0.5}, [], "sce", {"select_topk": 0.5}),
}


def _save(model: LlamaForCausalLM, path: Path, dtype: torch.dtype) -> Path:
    vocab = {f"t{i}": i for i in range(64)}
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, "t0")))
    model.to(dtype).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module", params=[torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def picos(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A base and three fine-tunes (base + 0.01-scale seeded deltas), saved in one dtype."""
    root = tmp_path_factory.mktemp(f"parity-{str(request.param)[6:]}")
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        max_position_embeddings=64,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    base = LlamaForCausalLM(config)
    paths = {"base": _save(base, root / "base", request.param)}
    for i in range(3):
        tuned = LlamaForCausalLM(config)
        generator = torch.Generator().manual_seed(i + 1)
        state = {
            k: v + 0.01 * torch.randn(v.shape, generator=generator)
            for k, v in base.state_dict().items()
        }
        tuned.load_state_dict(state)
        paths[f"m{i}"] = _save(tuned, root / f"m{i}", request.param)
    return {"paths": paths, "dtype": request.param, "root": root}


def _mergekit_config(recipe: str, picos: dict) -> dict:
    method, params, per_model, _, _ = RECIPES[recipe]
    values = {"weight": WEIGHTS, "density": DENSITIES}
    return {
        "merge_method": method,
        "base_model": None if method == "linear" else str(picos["paths"]["base"]),
        "models": [
            {
                "model": str(picos["paths"][f"m{i}"]),
                "parameters": {key: values[key][i] for key in per_model},
            }
            for i in range(3)
        ],
        "parameters": params,
        "dtype": "float32",
        "out_dtype": {torch.float32: "float32", torch.bfloat16: "bfloat16"}[picos["dtype"]],
    }


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    out = {}
    for file in sorted(path.glob("*.safetensors")):
        out.update(load_file(file))
    return out


@pytest.fixture(scope="module")
def mergekit_outputs(picos: dict) -> dict[str, dict[str, torch.Tensor]]:
    """Every recipe merged by mergekit, in one subprocess."""
    root = picos["root"] / "mergekit"
    jobs = [{"config": _mergekit_config(name, picos), "out": str(root / name)} for name in RECIPES]
    jobs_file = picos["root"] / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    run = subprocess.run(
        [str(MERGEKIT_PY), str(Path(__file__).with_name("mergekit_run.py")), str(jobs_file)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return {name: _tensors(root / name) for name in RECIPES}


def _suite_merge(recipe: str, picos: dict, order: tuple[int, ...], out: Path) -> dict:
    _, _, per_model, method, params = RECIPES[recipe]
    paths = picos["paths"]
    merge_checkpoints(
        [str(paths[f"m{i}"]) for i in order],
        str(out),
        method,
        params,
        base=None if method == "linear" else str(paths["base"]),
        weights=[WEIGHTS[i] for i in order] if "weight" in per_model else None,
    )
    return _tensors(out)


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_identical_to_mergekit(
    recipe: str,
    picos: dict,
    mergekit_outputs: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every tensor bit for bit. mergekit's ``sce`` (its easy_define wrapper) takes the models
    in the order of a ``set``, which depends on the string hash seed, so for SCE the suite is
    run in every model order and one must match on every tensor."""
    monkeypatch.setattr(sparsify, "drop_mask", lambda delta, keep, _: value_mask(delta, keep))
    theirs = mergekit_outputs[recipe]
    orders = list(itertools.permutations(range(3))) if recipe == "sce" else [(0, 1, 2)]
    mismatches = []
    for n, order in enumerate(orders):
        ours = _suite_merge(recipe, picos, order, tmp_path / f"suite{n}")
        assert ours.keys() <= theirs.keys()
        for key, tensor in ours.items():
            assert tensor.dtype == theirs[key].dtype == picos["dtype"], key
        differ = [k for k, tensor in ours.items() if not torch.equal(tensor, theirs[k])]
        if not differ:
            return
        mismatches.append(f"order {order}: {len(differ)} tensors differ, e.g. {differ[0]}")
    pytest.fail(f"{recipe}: " + "; ".join(mismatches))
