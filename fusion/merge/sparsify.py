"""Sparsifiers for task vectors and the rules that rescale the survivors.

Each sparsifier maps one float32 task vector to a mask (1 keeps an entry) and the keep
probability the ``"density"`` rescale divides by. The rules: ``"density"`` divides each kept
entry by its keep probability, so the task vector keeps its expectation (the DARE and DELLA
papers); ``"l1"`` scales the masked vector back to the original's L1 norm (mergekit's
``rescale: true``); ``"none"`` keeps the survivors as they are.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from configs.errors import SuiteError

Rescale = Literal["density", "l1", "none"]
# mergekit's rescaled_masked_tensor: below this L1 norm the masked vector is left unscaled.
_L1_EPS = 1e-7


def check_density(density: float, name: str = "density") -> None:
    """Refuse a keep share outside (0, 1] in one line."""
    if not 0 < density <= 1:
        raise SuiteError(f"{name} must be in (0, 1], got {density}")


def rescaled(delta: Tensor, mask: Tensor, rule: Rescale, keep: float | Tensor) -> Tensor:
    """``delta * mask`` rescaled by ``rule``; ``keep``: keep probability, scalar or per entry."""
    masked = delta * mask
    if rule == "none":
        return masked
    if rule == "density":
        return masked / keep
    if rule == "l1":
        before, after = delta.abs().sum(), masked.abs().sum()
        if before < _L1_EPS or after < _L1_EPS:
            return masked
        return masked * (before / after)
    raise SuiteError(f"rescale must be 'density', 'l1' or 'none', got {rule!r}")


def magnitude(delta: Tensor, density: float, rule: Rescale) -> Tensor:
    """Keep the ``density`` share of largest magnitudes (at least one entry).

    Ranks with a full descending ``argsort`` of the float32 magnitudes, as mergekit does, so
    equal magnitudes at the cut are broken the same way and TIES stays bit-identical.
    """
    check_density(density)
    if density == 1:
        return delta
    keep = max(1, int(density * delta.numel()))
    mask = torch.zeros_like(delta)
    mask.view(-1)[torch.argsort(delta.abs().reshape(-1), descending=True)[:keep]] = 1
    return rescaled(delta, mask, rule, density)


def drop_mask(delta: Tensor, keep: float | Tensor, generator: torch.Generator) -> Tensor:
    """Bernoulli keep-mask (1 with probability ``keep``) drawn from ``generator`` on the CPU."""
    return (torch.rand(delta.shape, generator=generator) < keep).to(delta)


def random(delta: Tensor, density: float, rule: Rescale, generator: torch.Generator) -> Tensor:
    """DARE: keep each entry with probability ``density``."""
    check_density(density)
    if density == 1:
        return delta
    return rescaled(delta, drop_mask(delta, density, generator), rule, density)


def outliers(delta: Tensor, density: float, gamma: float, rule: Rescale) -> Tensor:
    """Model Breadcrumbs: drop the ``gamma`` share of largest magnitudes, then the smallest
    ones, so that ``density`` of the entries survive (the top cut shrinks if it must)."""
    check_density(density)
    if not 0 <= gamma < 1:
        raise SuiteError(f"gamma must be in [0, 1), got {gamma}")
    if density == 1:
        return delta
    n = delta.numel()
    target, top = int(density * n), int(gamma * n)
    bottom = max(0, n - target - top)
    top = n - target - bottom
    order = torch.argsort(delta.abs().reshape(-1))
    mask = torch.zeros_like(delta)
    mask.view(-1)[order[bottom : n - top]] = 1
    return rescaled(delta, mask, rule, density)


def magprune(
    delta: Tensor, density: float, epsilon: float, rule: Rescale, generator: torch.Generator
) -> Tensor:
    """DELLA's MagPrune: within each row, keep probabilities rise linearly with magnitude
    rank from ``density - epsilon`` (smallest) to ``density + epsilon`` (largest)."""
    check_density(density)
    if density == 1:
        return delta
    if not (density - epsilon > 0 and density + epsilon < 1):
        raise SuiteError(f"della: density ± epsilon must lie in (0, 1), got {density} ± {epsilon}")
    rows = delta.reshape(1, -1) if delta.dim() < 2 else delta.reshape(delta.shape[0], -1)
    ranks = rows.abs().argsort(dim=1).argsort(dim=1).to(rows.dtype)
    keep = (density - epsilon) + ranks / max(rows.shape[1] - 1, 1) * (2 * epsilon)
    keep = keep.view_as(delta)
    return rescaled(delta, drop_mask(delta, keep, generator), rule, keep)
