"""FuseChat's merged variants as data: which targets they merge, when they exist, their order."""

from __future__ import annotations

from configs.variants import fuse_variants, merge_variants, train_runs, train_variants


def test_fusechat_merges_every_pairwise_target_after_training_them(micro_cfg) -> None:
    merged = merge_variants(micro_cfg)
    assert list(merged) == ["fusechat_varm", "fusechat_sce"]
    pairwise = ("fusellm_openllama", "fusellm_mpt")
    assert {v.merge.method: v.merge.variants for v in merged.values()} == {
        "varm": pairwise,
        "sce": pairwise,
    }
    assert dict(merged["fusechat_sce"].merge.params) == {"select_topk": 0.1, "selection": "weights"}
    assert not set(merged) & set(fuse_variants(micro_cfg))  # nothing to fuse: they merge
    order = list(train_variants(micro_cfg))
    assert max(order.index(p) for p in pairwise) < order.index("fusechat_varm")
    assert ("fusechat_sce", micro_cfg.training.seed) in train_runs(micro_cfg)


def test_one_source_has_no_pairwise_targets_to_merge(micro_cfg) -> None:
    models = micro_cfg.models.model_copy(update={"sources": micro_cfg.models.sources[:1]})
    cfg = micro_cfg.model_copy(update={"models": models})
    assert merge_variants(cfg) == {}
    assert not any(v.startswith("fusechat") for v in train_variants(cfg))
