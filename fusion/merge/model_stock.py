"""Model Stock: move the average of the fine-tuned models toward the base by their angle.

Paper: Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned models",
https://arxiv.org/abs/2403.19522 (the interpolation ratio t). With ``N`` fine-tuned models and
``cos(theta)`` the mean pairwise cosine between their task vectors ``tau_i = theta_i -
theta_base``: ``t = N cos(theta) / (1 + (N - 1) cos(theta))`` and
``theta = t * mean_i theta_i + (1 - t) * theta_base``.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor

from configs.errors import SuiteError

# mergekit's floor on the norm product of two task vectors.
_NORM_FLOOR = 1e-6


def model_stock(tensors: list[Tensor], base: Tensor, *, filter_wise: bool = False) -> Tensor:
    """Model Stock merge of ``tensors`` around ``base``.

    Args:
        tensors: two or more fine-tuned models' tensors, shaped like ``base``.
        base: the pre-trained tensor.
        filter_wise: one angle per row (output filter) instead of one per tensor.

    Returns:
        The merged tensor in the dtype of ``tensors[0]`` (float32 arithmetic; mergekit
        computes in the load dtype).
    """
    if len(tensors) < 2:
        raise SuiteError(f"model_stock needs at least 2 fine-tuned models, got {len(tensors)}")
    w0 = _rows(base.float(), filter_wise)
    models = [_rows(t.float(), filter_wise) for t in tensors]
    offsets = [w - w0 for w in models]
    cosines = [
        ((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=_NORM_FLOOR)).clamp(-1, 1)
        for a, b in itertools.combinations(offsets, 2)
    ]
    cos = torch.stack(cosines).mean(dim=0).unsqueeze(-1)
    n = len(models)
    ratio = n * cos / (1 + (n - 1) * cos)
    merged = ratio * (sum(models) / n) + (1 - ratio) * w0
    return merged.reshape(base.shape).to(tensors[0].dtype)


def _rows(x: Tensor, filter_wise: bool) -> Tensor:
    """The vectors an angle is taken over: each row (a 1-D tensor is one row), or the whole."""
    if not filter_wise:
        return x.reshape(-1)
    return x.reshape(1, -1) if x.dim() < 2 else x
