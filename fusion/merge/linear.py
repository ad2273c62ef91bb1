"""Linear merge: a weighted average of the models' parameters ("model soup").

Paper: Wortsman et al. 2022, "Model soups", https://arxiv.org/abs/2203.05482 (uniform soup,
Sec. 2): ``theta = sum_i w_i * theta_i / sum_i w_i``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from configs.errors import SuiteError


def linear(
    tensors: list[Tensor], *, weights: list[float] | None = None, normalize: bool = True
) -> Tensor:
    """Weighted sum of same-shaped tensors, divided by the weight total when ``normalize``.

    Args:
        tensors: one tensor per model, all the same shape; any float dtype.
        weights: one weight per model; ``None`` weighs every model equally.
        normalize: divide by ``sum(weights)`` so the weights need not sum to 1.

    Returns:
        The merged tensor in the dtype of ``tensors[0]`` (accumulated in float32, so
        weights ``(1, 0)`` give the first tensor back bit for bit).
    """
    weights = [1.0] * len(tensors) if weights is None else list(weights)
    total = sum(weights)
    if normalize and total == 0:
        raise SuiteError("linear merge: the weights sum to 0; give at least one nonzero weight")
    scale = 1.0 / total if normalize else 1.0
    merged = torch.zeros(tensors[0].shape, dtype=torch.float32, device=tensors[0].device)
    for weight, tensor in zip(weights, tensors, strict=True):
        merged += (weight * scale) * tensor.float()
    return merged.to(tensors[0].dtype)
