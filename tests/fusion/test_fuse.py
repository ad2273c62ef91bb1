"""Fusion functions: golden MinCE/AvgCE vectors and the semantics they encode."""

from __future__ import annotations

import math

import pytest

from fusion.fuse.methods import FUSION_FUNCTIONS, fuse_topk


@pytest.mark.parametrize("method", ["min_ce", "avg_ce"])
def test_golden_fusion_cases(fusion_cases, method: str) -> None:
    for case in fusion_cases:
        ids, probs = fuse_topk(case["cand_ids"], case["cand_logits"], case["cand_ce"], method)
        expected_ids = case[f"expected_{method}_ids"]
        expected_probs = case[f"expected_{method}_probs"]
        assert len(ids) == len(expected_ids)
        for t, (got, want) in enumerate(zip(ids, expected_ids, strict=True)):
            assert got == sorted(got) and set(got) == set(want), (case["id"], t)
            want_p = dict(zip(want, expected_probs[t], strict=True))
            for token, p in zip(got, probs[t], strict=True):
                assert abs(p - want_p[token]) <= 1e-2, (case["id"], t, token)


def test_golden_min_ce_choice(fusion_cases) -> None:
    for case in fusion_cases:
        chosen = case["chosen_min_ce"]
        ids, _ = fuse_topk(case["cand_ids"], case["cand_logits"], case["cand_ce"], "min_ce")
        pairs = zip(case["cand_ids"][chosen], case["cand_ids"][0], strict=True)
        own = [row or target for row, target in pairs]
        assert ids == [sorted(row) for row in own], case["id"]


# Three candidates over two positions; candidate 1 is empty at position 1.
CAND_IDS = [[[1, 2], [3, 4]], [[2, 5], []], [[7], [8]]]
CAND_LOGITS = [[[2.0, 1.0], [0.5, 0.0]], [[3.0, 1.0], []], [[1.0], [1.0]]]


def test_min_ce_picks_lowest_ce() -> None:
    ids, probs = fuse_topk(CAND_IDS, CAND_LOGITS, [3.0, 2.0, 2.5], "min_ce")
    assert ids[0] == [2, 5]
    assert probs[0] == pytest.approx([1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2))], abs=1e-2)
    ids, _ = fuse_topk(CAND_IDS, CAND_LOGITS, [3.0, 2.6, 1.0], "min_ce")
    assert ids == [[7], [8]]


def test_min_ce_ties_after_bf16_go_to_earlier_candidate() -> None:
    ids, _ = fuse_topk(CAND_IDS, CAND_LOGITS, [3.0, 1.906, 1.903], "min_ce")  # equal in bf16
    assert ids[0] == [2, 5]
    ids, _ = fuse_topk(
        CAND_IDS, CAND_LOGITS, [3.0, 1.906, 1.903], "min_ce", reference_rounding=False
    )
    assert ids[0] == [7]


def test_empty_source_list_falls_back_to_target() -> None:
    ids, probs = fuse_topk(CAND_IDS, CAND_LOGITS, [3.0, 1.0, 2.5], "min_ce")
    target_ids, target_probs = fuse_topk(CAND_IDS, CAND_LOGITS, [1.0, 3.0, 2.5], "min_ce")
    assert ids[1] == target_ids[1] == [3, 4]
    assert probs[1] == target_probs[1]


@pytest.mark.parametrize("rounding", [True, False])
def test_avg_ce_is_a_distribution_over_the_union(rounding: bool) -> None:
    ids, probs = fuse_topk(
        CAND_IDS, CAND_LOGITS, [2.0, 2.1, 2.2], "avg_ce", reference_rounding=rounding
    )
    assert ids == [[1, 2, 5, 7], [3, 4, 8]]
    for row in probs:
        assert sum(row) == pytest.approx(1.0, abs=2e-2 if rounding else 1e-6)


def test_avg_ce_fp32_matches_exact_formula() -> None:
    ce = [2.0, 1.0, 3.0]
    ids, probs = fuse_topk(CAND_IDS, CAND_LOGITS, ce, "avg_ce", reference_rounding=False)
    rewards = [math.exp(-c) for c in ce]
    weights = [math.exp(r) / sum(math.exp(x) for x in rewards) for r in rewards]
    target_4 = 1 / (1 + math.exp(0.5))  # position 1, id 4: candidates 0 and 1 (fallback)
    assert dict(zip(ids[1], probs[1], strict=True))[4] == pytest.approx(
        (weights[0] + weights[1]) * target_4, rel=1e-6
    )


def test_temperature_flattens() -> None:
    _, sharp = fuse_topk(CAND_IDS, CAND_LOGITS, [1.0, 2.0, 3.0], "min_ce", reference_rounding=False)
    _, flat = fuse_topk(
        CAND_IDS, CAND_LOGITS, [1.0, 2.0, 3.0], "min_ce", temperature=4.0, reference_rounding=False
    )
    assert flat[0][0] < sharp[0][0]


def test_registry_and_errors() -> None:
    assert set(FUSION_FUNCTIONS) == {"min_ce", "avg_ce"}
    with pytest.raises(ValueError, match="method"):
        fuse_topk(CAND_IDS, CAND_LOGITS, [1.0, 2.0, 3.0], "max_ce")
    with pytest.raises(ValueError, match="one entry per candidate"):
        fuse_topk(CAND_IDS, CAND_LOGITS, [1.0, 2.0], "min_ce")
