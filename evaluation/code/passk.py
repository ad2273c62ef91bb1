"""Unbiased pass@k (Chen et al., 2021), the metric MultiPL-E and the paper report."""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn from n (c of them correct) passes.

    Equals ``1 - C(n-c, k) / C(n, k)``, computed as ``1 - prod(1 - k/i, i = n-c+1..n)`` so
    large n never overflows or loses precision in the binomials.
    """
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def mean_pass_at_k(results: Iterable[tuple[int, int]], k: int) -> float:
    """Mean pass@k over problems, each given as (samples n, correct c)."""
    scores = [pass_at_k(n, c, k) for n, c in results]
    if not scores:
        raise ValueError("mean_pass_at_k needs at least one problem")
    return sum(scores) / len(scores)
