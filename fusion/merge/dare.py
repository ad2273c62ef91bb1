"""DARE: drop each task-vector entry with probability ``1 - density``, rescale the survivors.

Paper: Yu et al. 2023, "Language Models are Super Mario: Absorbing Abilities from Homologous
Models as a Free Lunch", https://arxiv.org/abs/2311.03099 (the DARE definition, Sec. 3).
With ``tau_i = theta_i - theta_base``, ``m_i ~ Bernoulli(1 - density)`` (the drop mask):
``tau_i' = (1 - m_i) * tau_i / density``; then either task arithmetic,
``theta = theta_base + lambda * sum_i w_i tau_i'`` (``consensus=None``), or TIES' sign election
and agreeing sum over the ``tau_i'`` (``consensus="ties"``), divided by the weights' total when
``normalize``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from fusion.merge import sparsify
from fusion.merge.task_arithmetic import consensus_majority, merge_task_vectors, per_model


def dare(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float | list[float],
    weights: list[float] | None = None,
    rescale: sparsify.Rescale = "density",
    seed: int = 0,
    consensus: Literal["ties"] | None = None,
    normalize: bool = False,
    lambda_: float = 1.0,
) -> Tensor:
    """DARE merge of ``tensors`` around ``base``, reproducible from ``seed``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor the task vectors are taken from.
        density: keep probability of each task-vector entry, in (0, 1]; one, or one per model.
        weights: one weight per model (default 1 each).
        rescale: ``"density"`` divides survivors by ``density`` (the paper: each task vector
            keeps its expectation); ``"l1"`` restores each task vector's L1 norm (mergekit's
            ``rescale: true``); ``"none"``.
        seed: seeds a private CPU generator (model ``i`` draws the ``i``-th mask from it),
            so the global RNG is untouched and reruns give identical weights (mergekit draws
            from the global RNG).
        consensus: ``"ties"`` for TIES' sign election, ``None`` for a plain weighted sum.
        normalize: divide by the (agreeing) weights' total; off by default, as in mergekit.
        lambda_: scale of the merged task vector.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    majority = consensus_majority(consensus)
    densities = per_model(density, len(tensors), "density", 1.0)
    generator = torch.Generator().manual_seed(seed)
    return merge_task_vectors(
        tensors,
        base,
        weights=weights,
        normalize=normalize,
        lambda_=lambda_,
        sparsify=lambda delta, i: sparsify.random(delta, densities[i], rescale, generator),
        majority=majority,
    )
