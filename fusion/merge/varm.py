"""VaRM (variation ratio merge): FuseChat's merge of target LLMs, weighted per matrix by
how much each target moved away from the pivot.

Paper: Wan et al. 2024, "Knowledge Fusion of Chat LLMs: A Preliminary Technical Report"
(FuseChat v1), https://arxiv.org/abs/2402.16107 (the VaRM merging weights). With
``delta_{j,m} = theta_{j,m} - theta_{pivot,m}`` for parameter matrix ``m`` of target ``j``:
``W_{j,m} = E_m[delta_{j,m}^2] / sum_k E_m[delta_{k,m}^2]`` and
``theta_m = sum_j W_{j,m} theta_{j,m}``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def varm(tensors: list[Tensor], base: Tensor) -> Tensor:
    """VaRM merge of the targets ``tensors``, weights from their change against ``base``.

    Args:
        tensors: one tensor per target model, shaped like ``base``.
        base: the pivot's tensor the targets were fine-tuned from.

    Returns:
        The merged tensor in the dtype of ``tensors[0]`` (float32 arithmetic). If no target
        changed the matrix, every weight is ``1/K`` (the targets equal the pivot anyway).
        FuseAI's released script instead falls back to equal weights as soon as one target
        left the matrix unchanged, and averages in bfloat16.
    """
    stacked = torch.stack([t.float() for t in tensors])
    change = ((stacked - base.float()) ** 2).mean(dim=list(range(1, stacked.dim())))
    total = change.sum()
    weights = torch.full_like(change, 1 / len(tensors)) if total == 0 else change / total
    merged = (stacked * weights.view(-1, *[1] * base.dim())).sum(dim=0)
    return merged.to(tensors[0].dtype)
