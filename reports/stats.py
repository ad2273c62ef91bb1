"""Intervals and verdicts: a reported score is a statement with its uncertainty.

A cell of a paper table is a macro average: the mean over tasks (strata) of each task's mean
over its items (for a pooled rate such as bits per byte, the ratio of its items' sums),
averaged over a model's training seeds. Two things make it uncertain: which items were drawn
(the benchmark is a sample of what it measures) and which seed trained the model. The bootstrap
here resamples both at once, hierarchically: items with replacement within each task, and seeds
with replacement, per draw; the 2.5th and 97.5th percentiles of the draws are the 95% interval.
Comparing two models, the *same* item indices are drawn for both (they answered the same items,
so the item noise they share cancels: a paired bootstrap) while each model's seeds are drawn
independently. A model with one checkpoint (a source model, or any untrained model) has one
"seed": nothing of its training to resample.

A claim of the paper ("A > B") is judged from the interval of the difference: *holds* when it
excludes 0 in the paper's direction, *reversed* when it excludes 0 the other way, else
*unresolved*. A trained model seen with one seed leaves the seed noise unmeasured, so a claim
about it is *unresolved* whatever its interval (never a verdict from one seed and a raw gap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DRAWS = 2000
LEVEL = 0.95

# One seed's per-item scores, by task: task -> scores of its items in a fixed item order.
# A task's scores are either (n,) — its value is their mean (accuracy, pass@1) — or (n, 2)
# numerator/denominator pairs — its value is the ratio of their sums, a pooled rate such as
# bits per byte (summed NLL over summed bytes), which no mean of per-item rates equals.
Items = Mapping[str, np.ndarray]


def task_value(scores: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """A task's value on the items ``picks`` selects (last axis: the items of one draw)."""
    chosen = scores[picks]
    if scores.ndim == 1:
        return chosen.mean(axis=-1)
    sums = chosen.sum(axis=-2)
    return sums[..., 0] / sums[..., 1]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval, the items it rests on and the seeds seen."""

    value: float
    low: float
    high: float
    items: int
    seeds: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def text(self, digits: int, signed: bool = False) -> str:
        """``value [low, high]`` with ``digits`` decimals (``+`` signs for a difference)."""
        f = f"{'+' if signed else ''}.{digits}f"
        return f"{self.value:{f}} [{self.low:{f}}, {self.high:{f}}]"


def _check(seeds: Sequence[Items]) -> list[str]:
    if not seeds:
        raise ValueError("no seeds: a cell needs at least one run")
    tasks = sorted(seeds[0])
    for s in seeds:
        if sorted(s) != tasks or any(len(s[t]) != len(seeds[0][t]) for t in tasks):
            raise ValueError("every seed must score the same items of the same tasks")
    if not tasks or any(len(seeds[0][t]) == 0 for t in tasks):
        raise ValueError("every task needs at least one item")
    return tasks


def point(seeds: Sequence[Items]) -> float:
    """The cell's value: mean over seeds of the mean over tasks of each task's value."""
    tasks = _check(seeds)
    return float(
        np.mean([np.mean([task_value(s[t], np.arange(len(s[t]))) for t in tasks]) for s in seeds])
    )


def _draws(seeds: Sequence[Items], picks: Mapping[str, np.ndarray], rng: np.random.Generator):
    """Bootstrap draws of the cell for given item picks (task -> (draws, n) indices)."""
    tasks = sorted(picks)
    # (seeds, draws): each seed's macro mean over tasks on the resampled items
    per_seed = np.stack(
        [np.mean([task_value(s[t], picks[t]) for t in tasks], axis=0) for s in seeds]
    )
    chosen = rng.integers(0, len(seeds), size=(per_seed.shape[1], len(seeds)))
    return per_seed[chosen, np.arange(per_seed.shape[1])[:, None]].mean(axis=1)


def _picks(seeds: Sequence[Items], rng: np.random.Generator, draws: int) -> dict[str, np.ndarray]:
    first = seeds[0]
    return {t: rng.integers(0, len(first[t]), size=(draws, len(first[t]))) for t in sorted(first)}


def _interval(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def estimate(seeds: Sequence[Items], draws: int = DRAWS, seed: int = 0) -> Estimate:
    """A cell's value and 95% interval over items and seeds."""
    tasks = _check(seeds)
    rng = np.random.default_rng(seed)
    values = _draws(seeds, _picks(seeds, rng, draws), rng)
    low, high = _interval(values)
    n = sum(len(seeds[0][t]) for t in tasks)
    return Estimate(point(seeds), low, high, n, len(seeds))


def difference(
    a: Sequence[Items], b: Sequence[Items], draws: int = DRAWS, seed: int = 0
) -> Estimate:
    """``a − b`` with a paired 95% interval: both models are scored on the same resampled
    items per draw; their seeds are resampled independently."""
    tasks = _check(a)
    if _check(b) != tasks or any(len(a[0][t]) != len(b[0][t]) for t in tasks):
        raise ValueError("a paired difference needs both models scored on the same items")
    rng = np.random.default_rng(seed)
    picks = _picks(a, rng, draws)
    values = _draws(a, picks, rng) - _draws(b, picks, rng)
    low, high = _interval(values)
    n = sum(len(a[0][t]) for t in tasks)
    return Estimate(point(a) - point(b), low, high, n, min(len(a), len(b)))


def verdict(diff: Estimate, higher_is_better: bool, seeds_known: bool = True) -> str:
    """The paper's claim "first better than second", judged from their difference.

    ``seeds_known`` is False when a trained model of the pair was seen with one seed only:
    its training noise is unmeasured, so no verdict is drawn.
    """
    if not seeds_known:
        return "unresolved"
    low, high = (diff.low, diff.high) if higher_is_better else (-diff.high, -diff.low)
    if low > 0:
        return "holds"
    if high < 0:
        return "reversed"
    return "unresolved"
