"""The approximation choices on hand-built blocks: fallback rows, tail log-probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusion.fuse.candidates import own_candidate, source_candidate, undistilled
from fusion.fuse.methods import contributors, fuse_topk
from fusion.ragged import unflatten

# A block of 4 target tokens; the source matched positions 0 and 2 (with their top-2 mapped
# into target ids), positions 1 and 3 carry the reference's one-hot on the current token.
BASE_IDS = [10, 11, 12, 13]
ALIGNED = {
    "aligned_ids": [5, 6, 11, 7, 8, 13],
    "aligned_logits": [2.0, 1.0, 1.0, 3.0, 0.5, 1.0],
    "aligned_len": [2, 1, 2, 1],
    "aligned_matched": [True, False, True, False],
    "aligned_lse": [4.0, 0.0, 5.0, 0.0],
}


def test_reference_keeps_the_stored_rows_bit_for_bit() -> None:
    ids, values = source_candidate(ALIGNED, BASE_IDS, "reference", "reference")
    assert ids == unflatten(ALIGNED["aligned_ids"], ALIGNED["aligned_len"])
    assert values == unflatten(ALIGNED["aligned_logits"], ALIGNED["aligned_len"])
    assert ids == [[5, 6], [11], [7, 8], [13]]  # the one-hot is on the *current* token


def test_none_keeps_the_rows_too() -> None:
    assert source_candidate(ALIGNED, BASE_IDS, "reference", "none") == source_candidate(
        ALIGNED, BASE_IDS, "reference", "reference"
    )


def test_next_token_moves_the_one_hot_and_drops_it_after_the_last_token() -> None:
    ids, values = source_candidate(ALIGNED, BASE_IDS, "reference", "next_token")
    assert ids == [[5, 6], [12], [7, 8], []]
    assert values == [[2.0, 1.0], [1.0], [3.0, 0.5], []]


def test_target_drops_the_candidate_at_unmatched_positions() -> None:
    ids, values = source_candidate(ALIGNED, BASE_IDS, "reference", "target")
    assert ids == [[5, 6], [], [7, 8], []]
    assert values == [[2.0, 1.0], [], [3.0, 0.5], []]


def test_tail_values_are_log_probabilities_and_a_one_hot_is_log_1() -> None:
    ids, values = source_candidate(ALIGNED, BASE_IDS, "tail", "next_token")
    assert ids == [[5, 6], [12], [7, 8], []]
    assert values == [[-2.0, -3.0], [0.0], [-2.0, -4.5], []]


def test_own_candidate_subtracts_each_positions_lse() -> None:
    topk_ids, topk_logits = [1, 2, 3, 4], np.array([2.0, 1.0, 0.5, 0.25], dtype=np.float16)
    ids, values = own_candidate(topk_ids, topk_logits, [3.0, 1.0], 2, "tail")
    assert ids == [[1, 2], [3, 4]]
    assert values == [[-1.0, -2.0], [-0.5, -0.75]]
    assert own_candidate(topk_ids, topk_logits, [3.0, 1.0], 2, "reference")[1] == [
        [2.0, 1.0],
        [0.5, 0.25],
    ]


def test_target_fallback_fuses_to_the_targets_distribution_there() -> None:
    own_ids, own_logits = [[1, 2], [3, 4], [1, 3], [2, 4]], [[0.0, 0.0]] * 4
    source = source_candidate(ALIGNED, BASE_IDS, "reference", "target")
    ids, probs = fuse_topk([own_ids, source[0]], [own_logits, source[1]], [3.0, 1.0], "min_ce")
    assert ids == [[5, 6], [3, 4], [7, 8], [2, 4]]  # source chosen; own rows at 1 and 3
    assert probs[1] == pytest.approx([0.5, 0.5], abs=1e-2)


@pytest.mark.parametrize(
    ("method", "skipped"),
    [("min_ce", [False, True, False, True]), ("avg_ce", [True, True, False, True])],
)
def test_none_leaves_out_positions_that_draw_on_a_fallback(method: str, skipped) -> None:
    ce = [3.0, 1.0, 2.0]  # MinCE keeps candidate 1; AvgCE mixes all three
    matched = [[True] * 4, ALIGNED["aligned_matched"], [False, True, True, True]]
    assert undistilled(matched, contributors(ce, method)).tolist() == skipped
    assert not undistilled(matched, [0]).any()  # the target's own top-k: always distilled


def test_tail_fusion_keeps_true_probabilities() -> None:
    cand_ids = [[[1, 2]], [[3]]]  # two candidates, one position
    logp = [[[math.log(0.3), math.log(0.1)]], [[math.log(0.5)]]]
    ids, probs = fuse_topk(cand_ids, logp, [1.0, 2.0], "min_ce", target="tail")
    assert ids == [[1, 2]] and probs[0] == pytest.approx([0.3, 0.1], rel=1e-2)
    _, renormalized = fuse_topk(cand_ids, logp, [1.0, 2.0], "min_ce")
    assert renormalized[0] == pytest.approx([0.75, 0.25], rel=1e-2)  # the reference's
    ids, probs = fuse_topk(
        cand_ids, logp, [1.0, 2.0], "avg_ce", target="tail", reference_rounding=False
    )
    w = np.exp(np.exp([-1.0, -2.0])) / np.exp(np.exp([-1.0, -2.0])).sum()
    assert ids == [[1, 2, 3]]
    assert probs[0] == pytest.approx([0.3 * w[0], 0.1 * w[0], 0.5 * w[1]], rel=1e-6)


def test_tail_needs_unit_temperature() -> None:
    with pytest.raises(ValueError, match="temperature"):
        fuse_topk([[[1]]], [[[0.0]]], [1.0], target="tail", temperature=2.0)
    with pytest.raises(ValueError, match="target must be one of"):
        fuse_topk([[[1]]], [[[0.0]]], [1.0], target="bucket")
