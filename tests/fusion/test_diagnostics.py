"""Fusion diagnostics: alignment shares per source, MinCE's picks and CE per domain."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from datasets import Dataset

from configs import tracking
from configs.domains import DOMAINS
from configs.errors import SuiteError
from configs.variants import get_variant
from fusion.align.stage import load_alignment
from fusion.blocks import block_documents, block_domains, make_blocks
from fusion.corpus import corpus_texts
from fusion.fuse.diagnostics import (
    ALL,
    alignment_shares,
    block_weights,
    choice_by_domain,
    true_next_probability,
)
from fusion.represent import load_representation


def test_alignment_shares_split_the_aligned_positions() -> None:
    matched = np.array([1, 1, 1, 0, 1, 0, 0, 1], dtype=bool)
    exact = np.array([1, 0, 1, 0, 0, 0, 0, 1], dtype=bool)
    shares = alignment_shares(matched, exact)
    assert shares == pytest.approx(
        {"aligned": 5 / 8, "exact": 3 / 8, "mined": 2 / 8, "fallback": 3 / 8}
    )
    assert alignment_shares(matched, None) == pytest.approx({"aligned": 5 / 8, "fallback": 3 / 8})
    with pytest.raises(ValueError, match="not matched"):
        alignment_shares(matched, ~matched)


def test_a_block_is_credited_to_the_candidate_with_the_lowest_ce() -> None:
    ces = np.array(
        [
            [2.0, 1.0, 3.0],  # source 1 lowest
            [2.0, 3.0, 0.5],  # source 2 lowest
            [1.0, 2.0, 3.0],  # the target itself
            [2.0, 2.0, 2.0],  # a tie: the earlier candidate (the target)
            [3.0, 0.2, 2.5],  # source 1
        ]
    )
    picks = block_weights(ces, "min_ce", True)
    assert picks.argmax(axis=1).tolist() == [1, 2, 0, 0, 1]
    assert (picks.sum(axis=1) == 1).all()
    domains = ["facts_a", "facts_b", "facts_b", "facts_a", "facts_a"]
    out = choice_by_domain(ces, domains, ["t", "a", "b"], "min_ce", True)
    assert out["fuse/pick/facts_a/a"] == pytest.approx(2 / 3)
    assert out["fuse/pick/facts_a/t"] == pytest.approx(1 / 3)
    assert out["fuse/pick/facts_b/b"] == pytest.approx(1 / 2)
    assert out["fuse/pick/all/a"] == pytest.approx(2 / 5)
    assert out["fuse/ce/facts_b/b"] == pytest.approx((0.5 + 3.0) / 2)
    assert out["fuse/domain_blocks/facts_a"] == 3 and out[f"fuse/domain_blocks/{ALL}"] == 5
    for domain in (ALL, "facts_a", "facts_b"):
        assert sum(out[f"fuse/pick/{domain}/{m}"] for m in "tab") == pytest.approx(1)


def test_avg_ce_weighs_every_candidate_lower_ce_more() -> None:
    ces = np.array([[2.0, 1.0, 3.0]])
    weights = block_weights(ces, "avg_ce", False)
    assert weights.sum() == pytest.approx(1)
    assert weights[0, 1] > weights[0, 0] > weights[0, 2] > 0
    out = choice_by_domain(ces, ["docs"], ["t", "a", "b"], "avg_ce", False)
    assert "fuse/weight/docs/a" in out and not any(k.startswith("fuse/pick") for k in out)


def test_blocks_trace_back_to_their_documents() -> None:
    documents = ["alpha beta  gamma", "  delta", "beta gamma"]
    blocks = ["alpha", "beta  ", "gamma", "delta", "beta gamma"]
    assert block_documents(blocks, documents) == [0, 0, 0, 1, 2]
    # "beta" also occurs in document 0, but after a non-whitespace gap: a later document's
    assert block_documents(["alpha", "beta"], ["alpha gamma beta", "beta"]) == [0, 1]
    with pytest.raises(SuiteError, match="in no document"):
        block_documents(["alpha", "zeta"], documents)


def test_micro_blocks_carry_the_domain_of_their_document(micro_cfg, fused_world) -> None:
    blocks = make_blocks(micro_cfg, fused_world)["text"]
    documents = corpus_texts(micro_cfg, fused_world)
    owner = block_documents(blocks, documents)
    assert all(block in documents[d] for block, d in zip(blocks, owner, strict=True))
    assert owner == sorted(owner)
    domains = block_domains(micro_cfg, fused_world)
    assert len(domains) == len(blocks) and set(domains) <= set(DOMAINS)
    assert len(set(domains)) > 3  # the general mix draws on many domains


def _fuse_run(layout, variant: str):
    tracking.use_store(layout)
    runs = mlflow.search_runs(
        experiment_names=[layout.cfg.name],
        filter_string=f"tags.stage = 'fuse' and tags.model = '{variant}'",
    )
    main = runs[runs["tags.sub"].fillna("") == ""]  # not the Pythia experiment's own fuse runs
    return main.iloc[0]


@pytest.mark.parametrize("variant", ["fusellm", "fusellm_em", "fusellm_avgce"])
def test_the_fuse_run_logs_the_diagnostics(micro_cfg, fused_world, variant: str) -> None:
    v = get_variant(micro_cfg, variant)
    run = _fuse_run(fused_world, variant)
    names = [micro_cfg.models.target.name, *v.sources]
    for source in v.sources:
        share = {s: run[f"metrics.fuse/align/{source}/{s}"] for s in ("aligned", "exact", "mined")}
        assert share["exact"] + share["mined"] == pytest.approx(share["aligned"])
        assert 0 < share["aligned"] < 1
        if v.vocab == "exact":
            assert share["mined"] == pytest.approx(0)
        aligned = load_alignment(fused_world, source, v.vocab)
        matched = np.concatenate([np.asarray(m, bool) for m in aligned["aligned_matched"]])
        assert share["aligned"] == pytest.approx(matched.mean())  # the alignment's own flags
        assert run[f"metrics.fuse/align/{source}/fallback"] == pytest.approx(1 - matched.mean())
    kind = "pick" if v.method == "min_ce" else "weight"
    domains = sorted(set(block_domains(micro_cfg, fused_world)))
    blocks = sum(run[f"metrics.fuse/domain_blocks/{d}"] for d in domains)
    assert blocks == run["metrics.fuse/blocks"]
    for domain in [ALL, *domains]:
        picks = [run[f"metrics.fuse/{kind}/{domain}/{m}"] for m in names]
        assert sum(picks) == pytest.approx(1)
    # the target's mean CE per domain is its representation's block CE, averaged there
    rep = load_representation(fused_world.representation(micro_cfg.models.target.name))
    by_block = dict(zip(rep["block_id"], rep["ce"], strict=True))
    block_domain = block_domains(micro_cfg, fused_world)
    for domain in domains:
        ces = [ce for b, ce in by_block.items() if block_domain[b] == domain]
        assert run[f"metrics.fuse/ce/{domain}/llama2"] == pytest.approx(np.mean(ces), rel=1e-6)


def test_true_next_probability_reads_each_row_at_the_following_token() -> None:
    """Two blocks; the fused rows and the own top-k give known probabilities to the token
    that follows each position (the last position of a block has none)."""
    fused = Dataset.from_dict(
        {
            "block_id": [0, 1],
            "input_ids": [[5, 6, 7], [8, 9]],
            # block 0: row 0 gives token 6 prob 0.7, row 1 gives 7 nothing, row 2 ignored
            "target_ids": [[6, 1, 2, 3, 7], [9]],
            "target_probs": [[0.7, 0.3, 1.0, 1.0, 1.0], [1.0]],
            "target_len": [[2, 2, 1], [1, 0]],
        }
    )
    k = 2
    candidates = Dataset.from_dict(
        {
            "block_id": [0, 1],
            # own top-2 per position; logits 0 and 0: each 0.5 after renormalizing
            "topk_ids": [[6, 1, 7, 2, 0, 0], [9, 3, 0, 0]],
            "topk_logits": [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [np.log(3.0), 0.0, 0.0, 0.0]],
        }
    )
    got = true_next_probability(fused, candidates, k, ["facts_a", "facts_b"])
    assert got["fuse/true_next/all/fused"] == pytest.approx((0.7 + 0.0 + 1.0) / 3)
    assert got["fuse/true_next/all/own"] == pytest.approx((0.5 + 0.5 + 0.75) / 3)
    assert got["fuse/true_next/facts_a/fused"] == pytest.approx(0.35)
    assert got["fuse/true_next/facts_b/own"] == pytest.approx(0.75)


def test_the_fuse_run_logs_how_well_the_fused_targets_teach(micro_cfg, fused_world) -> None:
    run = _fuse_run(fused_world, "fusellm")
    fused, own = run["metrics.fuse/true_next/all/fused"], run["metrics.fuse/true_next/all/own"]
    assert 0 < fused < 1 and 0 < own < 1
    domains = sorted(set(block_domains(micro_cfg, fused_world)))
    assert any(f"metrics.fuse/true_next/{d}/fused" in run for d in domains)
