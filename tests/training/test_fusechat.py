"""`make train` makes FuseChat's merged variants: each seed's pairwise targets, merged around the
target, saved and logged like a trained variant, and evaluated by `make eval` like one."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from configs.layout import Layout
from configs.loader import load_config
from evaluation import evaluate as evaluation
from fusion.merge.driver import merge_checkpoints
from training import train
from training.train import merge as merging

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def merged(fused_world, tmp_path_factory) -> Layout:
    """Two seeds; VaRM made with the first, SCE with the second (each trains its own targets)."""
    cfg = load_config(ROOT / "configs/micro.yaml", ["reporting.seeds=[42,7]"])
    runs = tmp_path_factory.mktemp("fusechat")
    (runs / cfg.name).mkdir()
    for name in ("world", "fuse"):
        (runs / cfg.name / name).symlink_to(fused_world.root / name)
    layout = Layout.of(cfg, runs)
    train.train_variant(cfg, layout, "fusechat_varm", 42)
    train.train_variant(cfg, layout, "fusechat_sce", 7)
    return layout


@pytest.mark.parametrize(
    ("name", "method", "params", "targets"),
    [
        ("fusechat_varm", "varm", {}, ["fusellm_openllama", "fusellm_mpt"]),
        (
            "fusechat_sce-seed7",
            "sce",
            {"select_topk": 0.1, "selection": "weights"},
            ["fusellm_openllama-seed7", "fusellm_mpt-seed7"],
        ),
    ],
)
def test_merge_equals_a_direct_merge_of_its_seeds_targets(
    merged, tmp_path, name, method, params, targets
) -> None:
    out = merged.trained(name)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["merged"] == targets and meta["pivot"] == merged.cfg.models.target.name
    paths = [str(merged.trained(t) / "model") for t in targets]
    assert all((merged.trained(t) / "meta.json").is_file() for t in targets)
    pivot = merged.model(merged.cfg.models.target)
    merge_checkpoints(paths, str(tmp_path / "direct"), method, params, base=pivot)
    ours, direct = (
        load_file(str(p / "model.safetensors")) for p in (out / "model", tmp_path / "direct")
    )
    assert ours.keys() == direct.keys()
    assert all(torch.equal(ours[k], direct[k]) for k in ours)
    first = load_file(f"{paths[0]}/model.safetensors")
    assert any(not torch.equal(ours[k], first[k]) for k in ours)  # a merge, not a copy
    AutoModelForCausalLM.from_pretrained(out / "model")


def test_merge_is_logged_with_its_lineage_and_done_once(merged, monkeypatch) -> None:
    meta = json.loads((merged.trained("fusechat_sce-seed7") / "meta.json").read_text())
    assert (meta["variant"], meta["seed"]) == ("fusechat_sce", 7)
    mlflow.set_tracking_uri(merged.tracking_uri)
    runs = mlflow.search_runs(
        experiment_names=[merged.cfg.name], filter_string="tags.stage = 'merge'"
    )
    tags = runs.set_index("tags.mlflow.runName")
    assert sorted(tags.index) == ["merge:fusechat_sce-seed7", "merge:fusechat_varm"]
    assert tags.loc["merge:fusechat_sce-seed7", ["tags.variant", "tags.seed"]].tolist() == [
        "fusechat_sce",
        "7",
    ]
    path = tags.loc["merge:fusechat_varm", "tags.model_path"]
    assert path == str((merged.trained("fusechat_varm") / "model").resolve())

    def must_not_merge(*args, **kwargs):
        raise AssertionError("a finished merge was made again")

    monkeypatch.setattr(merging, "merge_checkpoints", must_not_merge)
    assert train.train_variant(merged.cfg, merged, "fusechat_varm", 42).name == "fusechat_varm"


def test_make_eval_evaluates_the_merged_variants(merged, monkeypatch) -> None:
    seen: list[str] = []

    def fake_evaluate(cfg, layout, name, **kwargs):
        seen.append(name)
        layout.evaluation(name).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(evaluation, "evaluate", fake_evaluate)
    cfg = merged.cfg.model_copy(
        update={"evaluation": merged.cfg.evaluation.model_copy(update={"workers": 1})}
    )
    names = evaluation.evaluate_all(cfg, Layout.of(cfg, merged.runs), "cpu")
    assert {"fusechat_varm", "fusechat_sce-seed7"} <= set(seen) == set(names)
    assert "fusechat_sce" not in names  # never made with seed 42 here: not evaluated
