"""The compiled DTW against the reference-style Python DTW (path, tie-breaking included)."""

from __future__ import annotations

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from fusion.align.topk import Aligner
from fusion.dtw import dtw_path, dtw_reference, single_partners, unique_pair_costs


def _fast_path(rows: list[str], cols: list[str]) -> list[tuple[int, int]]:
    """Our DP on string sequences, through the same unique-id cost route the aligner uses."""
    strings = sorted(set(rows) | set(cols))
    index = {s: k for k, s in enumerate(strings)}
    row_ids = np.array([index[s] for s in rows])
    col_ids = np.array([index[s] for s in cols])
    costs, row_inv, col_inv = unique_pair_costs(row_ids, col_ids, strings, strings)
    return [tuple(pair) for pair in dtw_path(costs, row_inv, col_inv).tolist()]


def _random_tokens(rng: np.random.Generator, n: int, alphabet: str) -> list[str]:
    return ["".join(rng.choice(list(alphabet), rng.integers(1, 4))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(40))
def test_fast_dtw_equals_reference_on_random_sequences(seed: int) -> None:
    rng = np.random.default_rng(seed)
    alphabet = "ab" if seed % 2 else "abcde"  # a tiny alphabet forces many cost ties
    rows = _random_tokens(rng, int(rng.integers(1, 30)), alphabet)
    cols = _random_tokens(rng, int(rng.integers(1, 30)), alphabet)
    assert _fast_path(rows, cols) == dtw_reference(rows, cols, Levenshtein.distance)


@pytest.mark.parametrize(
    ("rows", "cols"), [(["a"], ["b"]), (["a"], ["a", "b", "c"]), (["x", "y"], ["z"])]
)
def test_fast_dtw_degenerate_shapes(rows: list[str], cols: list[str]) -> None:
    assert _fast_path(rows, cols) == dtw_reference(rows, cols, Levenshtein.distance)


def _stripped_dist(blend_marker: str, base_marker: str):
    def dist(a: str, b: str) -> int:
        return Levenshtein.distance(a.replace(blend_marker, ""), b.replace(base_marker, ""))

    return dist


def _partners_oracle(path: list[tuple[int, int]], n_cols: int) -> list[int]:
    seen: list[list[int]] = [[] for _ in range(n_cols)]
    for row, col in path:
        seen[col].append(row)
    return [rows[0] if len(rows) == 1 else -1 for rows in seen]


@pytest.mark.parametrize("swapped", [False, True], ids=["metaspace-base", "byte-level-base"])
def test_aligner_partners_equal_reference_dtw_on_golden_texts(
    base_tokenizer, blend_tokenizer, golden_texts, swapped: bool
) -> None:
    base, blend = (
        (blend_tokenizer, base_tokenizer) if swapped else (base_tokenizer, blend_tokenizer)
    )
    aligner = Aligner(base, blend)
    dist = _stripped_dist(aligner.blend.marker, aligner.base.marker)
    for text in golden_texts:
        base_ids = base(text, add_special_tokens=False)["input_ids"]
        blend_ids = blend(text, add_special_tokens=False)["input_ids"]
        path = dtw_reference(
            blend.convert_ids_to_tokens(blend_ids), base.convert_ids_to_tokens(base_ids), dist
        )
        got = aligner.partners(np.array(base_ids), np.array(blend_ids)).tolist()
        assert got == _partners_oracle(path, len(base_ids))


def test_identical_sequences_take_the_diagonal_without_dp(base_tokenizer, golden_texts) -> None:
    """The fast path (no DP) equals both the compiled DP and the reference on equal inputs."""
    aligner = Aligner(base_tokenizer, base_tokenizer)
    for text in golden_texts[:10]:
        ids = np.array(base_tokenizer(text, add_special_tokens=False)["input_ids"])
        tokens = [aligner.base.stripped[i] for i in ids.tolist()]
        diagonal = [(k, k) for k in range(len(ids))]
        assert _fast_path(tokens, tokens) == diagonal
        assert dtw_reference(tokens, tokens, Levenshtein.distance) == diagonal
        assert aligner.partners(ids, ids).tolist() == list(range(len(ids)))


def test_single_partners_marks_many_to_one() -> None:
    path = np.array([[0, 0], [1, 0], [2, 1], [2, 2], [3, 3]])
    assert single_partners(path, 4).tolist() == [-1, 2, 2, 3]
