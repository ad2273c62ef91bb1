"""TIES-Merging: trim each task vector, elect a sign per parameter, average those that agree.

Paper: Yadav et al. 2023, "TIES-Merging: Resolving Interference When Merging Models",
https://arxiv.org/abs/2306.01708 (Sec. 3, Algorithm 1). With task vectors
``tau_i = theta_i - theta_base``:
trim ``tau_i`` to its top-``density`` magnitudes, elect ``gamma = sgn(sum_i w_i tau_i)``
(``majority="sum"``; ``"count"`` votes by sign), keep ``A = {i : sgn(tau_i) = gamma}``, and
``theta = theta_base + sum_{i in A} w_i tau_i / sum_{i in A} w_i`` (the disjoint mean).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from configs.errors import SuiteError


def ties(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float,
    weights: list[float] | None = None,
    majority: Literal["sum", "count"] = "sum",
) -> Tensor:
    """TIES merge of ``tensors`` around ``base``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor the task vectors are taken from.
        density: share of each task vector's entries kept (largest magnitudes), in (0, 1].
        weights: one weight per model (default 1 each); only ratios matter.
        majority: elect the sign by summed mass (paper) or by a vote count.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    deltas = torch.stack([trim(t.float() - base.float(), density) for t in tensors])
    return (base.float() + disjoint_mean(deltas, weights, majority)).to(tensors[0].dtype)


def trim(delta: Tensor, density: float) -> Tensor:
    """Zero all but the ``density`` share of largest-magnitude entries (at least one kept)."""
    if not 0 < density <= 1:
        raise SuiteError(f"density must be in (0, 1], got {density}")
    if density == 1:
        return delta
    keep = max(1, int(density * delta.numel()))
    flat = delta.flatten()
    mask = torch.zeros_like(flat, dtype=torch.bool)
    mask[flat.abs().topk(keep).indices] = True
    return (flat * mask).view_as(delta)


def disjoint_mean(
    deltas: Tensor, weights: list[float] | None, majority: Literal["sum", "count"]
) -> Tensor:
    """Elect a sign per entry and take the weighted mean of the deltas that carry it.

    Args:
        deltas: (M, ...) float32 task vectors, already sparsified.
        weights: M weights, or ``None`` for 1 each.
        majority: ``"sum"`` elects ``sgn(sum w_i delta_i)``, ``"count"`` ``sgn(sum sgn)``;
            a tie elects +.

    Returns:
        (...) float32 merged delta; entries no model agrees on stay 0.
    """
    if majority not in ("sum", "count"):
        raise SuiteError(f"majority must be 'sum' or 'count', got {majority!r}")
    w = torch.ones(len(deltas)) if weights is None else torch.tensor(weights, dtype=torch.float32)
    w = w.to(deltas.device).view(-1, *[1] * (deltas.dim() - 1))
    weighted = deltas * w
    signs = deltas.sign()
    votes = weighted.sum(0) if majority == "sum" else signs.sum(0)
    elected = torch.where(votes >= 0, 1.0, -1.0)
    agree = signs == elected  # a zero (trimmed) entry never agrees
    divisor = (w * agree).sum(0)
    return (weighted * agree).sum(0) / torch.where(divisor == 0, 1.0, divisor)
