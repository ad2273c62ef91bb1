"""DARE: drop each task-vector entry with probability ``1 - density``, rescale the survivors.

Paper: Yu et al. 2023, "Language Models are Super Mario: Absorbing Abilities from Homologous
Models as a Free Lunch", https://arxiv.org/abs/2311.03099 (the DARE definition, Sec. 3).
With ``tau_i = theta_i - theta_base``, ``m_i ~ Bernoulli(1 - density)`` (the drop mask):
``tau_i' = (1 - m_i) * tau_i / density``; then either task arithmetic,
``theta = theta_base + sum_i w_i tau_i'`` (``consensus=None``), or TIES' sign election and
disjoint mean over the ``tau_i'`` (``consensus="ties"``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from configs.errors import SuiteError
from fusion.merge.ties import disjoint_mean


def dare(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float,
    weights: list[float] | None = None,
    rescale: bool = True,
    seed: int = 0,
    consensus: Literal["ties"] | None = None,
) -> Tensor:
    """DARE merge of ``tensors`` around ``base``, reproducible from ``seed``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor the task vectors are taken from.
        density: keep probability of each task-vector entry, in (0, 1].
        weights: one weight per model. With ``consensus=None`` they scale the task vectors
            as given (default ``1/M`` each, an average); with ``"ties"`` only ratios matter.
        rescale: divide survivors by ``density`` so each task vector keeps its expectation.
        seed: seeds a private CPU generator (model ``i`` draws the ``i``-th mask from it),
            so the global RNG is untouched and reruns give identical weights.
        consensus: ``"ties"`` for TIES' sign election, ``None`` for a plain weighted sum.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    if not 0 < density <= 1:
        raise SuiteError(f"density must be in (0, 1], got {density}")
    if consensus not in ("ties", None):
        raise SuiteError(f"consensus must be 'ties' or None, got {consensus!r}")
    generator = torch.Generator().manual_seed(seed)
    deltas = []
    for tensor in tensors:
        keep = torch.rand(tensor.shape, generator=generator) < density
        delta = (tensor.float() - base.float()) * keep.to(tensor.device)
        deltas.append(delta / density if rescale else delta)
    stacked = torch.stack(deltas)
    if consensus == "ties":
        merged = disjoint_mean(stacked, weights, "sum")
    else:
        w = [1 / len(tensors)] * len(tensors) if weights is None else weights
        merged = sum(wi * d for wi, d in zip(w, stacked, strict=True))
    return (base.float() + merged).to(tensors[0].dtype)
