"""Linear merge: a weighted average of the models' parameters ("model soup").

Paper: Wortsman et al. 2022, "Model soups", https://arxiv.org/abs/2203.05482 (uniform soup,
Sec. 2): ``theta = sum_i w_i * theta_i / sum_i w_i``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from configs.errors import SuiteError
from fusion.merge.task_arithmetic import per_model


def linear(
    tensors: list[Tensor], *, weights: list[float] | None = None, normalize: bool = True
) -> Tensor:
    """Weighted sum of same-shaped tensors, divided by the weight total when ``normalize``.

    Args:
        tensors: one tensor per model, all the same shape; any float dtype.
        weights: one weight per model; ``None`` weighs every model equally.
        normalize: divide by ``sum(weights)`` so the weights need not sum to 1.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``. Computed as mergekit does (float32
        stack, weighted sum over the model axis, then one division), so the bits match it;
        weights ``(1, 0)`` give the first tensor back exactly.
    """
    w = torch.tensor(per_model(weights, len(tensors), "weights", 1.0), dtype=torch.float32)
    if normalize and w.sum() == 0:
        raise SuiteError("linear merge: the weights sum to 0; give at least one nonzero weight")
    stacked = torch.stack([t.float() for t in tensors])
    w = w.view(-1, *[1] * tensors[0].dim())
    merged = (stacked * w).sum(dim=0)
    if normalize:
        merged = merged / w.sum(dim=0)
    return merged.to(tensors[0].dtype)
