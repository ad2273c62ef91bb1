"""DELLA: drop task-vector entries with magnitude-ranked probabilities (MagPrune).

Paper: Deep et al. 2024, "DELLA-Merging: Reducing Interference in Model Merging through
Magnitude-Based Sampling", https://arxiv.org/abs/2406.11617 (MagPrune, in mergekit's
parameterisation). Within each row of ``tau_i = theta_i - theta_base``, entry ``r`` (rank by
magnitude, 0 = smallest, of ``n``) is kept with probability
``p_r = density - epsilon + 2 epsilon r / (n - 1)`` and rescaled by ``1 / p_r``; then TIES'
sign election and the agreeing (weighted) mean (``consensus="ties"``, mergekit's ``della``)
or a plain weighted sum (``della_linear``).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from fusion.merge import sparsify
from fusion.merge.task_arithmetic import consensus_majority, merge_task_vectors, per_model


def della(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float | list[float],
    epsilon: float | list[float] = 0.15,
    weights: list[float] | None = None,
    rescale: sparsify.Rescale = "density",
    seed: int = 0,
    consensus: Literal["ties"] | None = "ties",
    normalize: bool = True,
    lambda_: float = 1.0,
) -> Tensor:
    """DELLA merge of ``tensors`` around ``base``, reproducible from ``seed``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor.
        density: mean keep probability, in (0, 1]; one, or one per model.
        epsilon: half-width of the keep probabilities around ``density``; one, or one per
            model. ``density ± epsilon`` must stay inside (0, 1).
        weights: one weight per model (default 1 each).
        rescale: ``"density"`` divides each survivor by its own keep probability (the paper);
            ``"l1"`` restores the L1 norm (mergekit's ``rescale: true``); ``"none"``.
        seed: seeds a private CPU generator, as in :func:`fusion.merge.dare.dare`.
        consensus: ``"ties"`` for TIES' sign election, ``None`` for a plain weighted sum.
        normalize: divide by the (agreeing) weights' total.
        lambda_: scale of the merged task vector.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    majority = consensus_majority(consensus)
    densities = per_model(density, len(tensors), "density", 1.0)
    epsilons = per_model(epsilon, len(tensors), "epsilon", 0.15)
    generator = torch.Generator().manual_seed(seed)
    return merge_task_vectors(
        tensors,
        base,
        weights=weights,
        normalize=normalize,
        lambda_=lambda_,
        sparsify=lambda d, i: sparsify.magprune(d, densities[i], epsilons[i], rescale, generator),
        majority=majority,
    )
