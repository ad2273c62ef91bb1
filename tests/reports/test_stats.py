"""The bootstrap and the verdict rule, on distributions whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from reports.stats import Estimate, difference, estimate, point, verdict


def _bernoulli(p: float, n: int, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(n) < p).astype(float)


def test_item_interval_covers_the_truth_at_its_level_and_has_the_normal_width() -> None:
    rng = np.random.default_rng(1)
    p, n, hits, widths = 0.7, 400, 0, []
    for rep in range(120):
        est = estimate([{"task": _bernoulli(p, n, rng)}], draws=800, seed=rep)
        hits += est.low <= p <= est.high
        widths.append(est.half_width)
    assert 0.88 <= hits / 120 <= 0.99  # a 95% interval, up to the replication noise
    normal = 1.96 * np.sqrt(p * (1 - p) / n)
    assert np.mean(widths) == pytest.approx(normal, rel=0.1)


def test_the_value_is_a_macro_average_over_tasks_and_a_mean_over_seeds() -> None:
    seeds = [
        {"big": np.ones(90), "small": np.zeros(10)},
        {"big": np.zeros(90), "small": np.zeros(10)},
    ]
    assert point(seeds) == pytest.approx((0.5 + 0.0) / 2)
    est = estimate(seeds, draws=200)
    assert (est.items, est.seeds) == (100, 2)


def test_identical_models_differ_by_exactly_zero_and_a_shift_is_resolved() -> None:
    rng = np.random.default_rng(2)
    a = [{"t": rng.random(300)}]
    same = difference(a, a, draws=500)
    assert same.value == same.low == same.high == 0.0
    assert verdict(same, higher_is_better=True) == "unresolved"
    shifted = [{"t": a[0]["t"] + 0.1}]
    diff = difference(shifted, a, draws=500)
    assert diff.low == pytest.approx(0.1) and diff.high == pytest.approx(0.1)
    assert verdict(diff, higher_is_better=True) == "holds"
    assert verdict(difference(a, shifted, draws=500), higher_is_better=True) == "reversed"
    assert verdict(diff, higher_is_better=False) == "reversed"


def test_pairing_cancels_the_item_noise_both_models_share() -> None:
    """Items differ in difficulty; B is A plus a small gain on every item. Unpaired intervals
    overlap, the paired difference resolves the gain."""
    rng = np.random.default_rng(3)
    difficulty = rng.random(200)
    a = [{"t": difficulty}]
    b = [{"t": difficulty + 0.02}]
    ea, eb = estimate(a, draws=500), estimate(b, draws=500)
    assert eb.low < ea.high  # the separate intervals cannot tell them apart
    assert verdict(difference(b, a, draws=500), higher_is_better=True) == "holds"


def test_seed_noise_widens_the_interval() -> None:
    rng = np.random.default_rng(4)
    items = rng.random(500)
    one = estimate([{"t": items}], draws=500)
    offsets = [-0.1, 0.0, 0.1, 0.05, -0.05]
    many = estimate([{"t": items + o} for o in offsets], draws=500)
    assert many.half_width > 2 * one.half_width
    assert many.value == pytest.approx(items.mean())


def test_one_seed_of_a_trained_model_is_never_a_verdict() -> None:
    resolved = Estimate(0.2, 0.1, 0.3, items=100, seeds=1)
    assert verdict(resolved, higher_is_better=True) == "holds"
    assert verdict(resolved, higher_is_better=True, seeds_known=False) == "unresolved"


def test_mismatched_items_are_refused() -> None:
    with pytest.raises(ValueError, match="same items"):
        point([{"t": np.ones(3)}, {"t": np.ones(4)}])
    with pytest.raises(ValueError, match="same items"):
        difference([{"t": np.ones(3)}], [{"t": np.ones(4)}])
    with pytest.raises(ValueError, match="no seeds"):
        estimate([])


def test_a_pooled_rate_is_a_ratio_of_sums_resampled_by_document() -> None:
    """(n, 2) items are (numerator, denominator) pairs: the value is sum/sum, not the mean of
    per-document rates, and the interval covers the population rate."""
    rng = np.random.default_rng(5)
    truth, hits = 1.5, 0
    for rep in range(60):
        length = rng.integers(50, 5000, size=200).astype(float)  # bytes per document
        bits = length * truth * rng.lognormal(0, 0.2, size=200) / np.exp(0.02)  # E = truth
        docs = np.stack([bits, length], axis=1)
        est = estimate([{"domain": docs}], draws=600, seed=rep)
        assert est.value == pytest.approx(bits.sum() / length.sum())
        hits += est.low <= truth <= est.high
    assert 0.85 <= hits / 60 <= 1.0
    short = np.array([[10.0, 1.0], [100.0, 100.0]])  # rates 10 and 1
    assert point([{"d": short}]) == pytest.approx(110 / 101)
    assert difference([{"d": short}], [{"d": short}], draws=100).high == 0.0
