"""pass@k: the stable product form equals the closed form, and the edge cases hold."""

from __future__ import annotations

from math import comb

import pytest

from evaluation.code.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 50, 200])
def test_matches_closed_form_on_a_grid(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            expected = 1 - comb(n - c, k) / comb(n, k)
            assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12), (n, c, k)


def test_edge_cases() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 8, 3) == 1.0  # n - c < k: every draw of 3 holds a correct one
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)  # pass@1 is the fraction correct


def test_large_n_stays_finite() -> None:
    assert 0.0 < pass_at_k(100_000, 5, 100) < 1.0


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)])
def test_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass@k needs"):
        pass_at_k(n, c, k)


def test_mean_over_problems() -> None:
    assert mean_pass_at_k([(10, 0), (10, 10), (10, 5)], 1) == pytest.approx(0.5)
    assert mean_pass_at_k([(1, 1)], 1) == 1.0
    with pytest.raises(ValueError, match="at least one problem"):
        mean_pass_at_k([], 1)
