"""Model Breadcrumbs: drop both tails of each task vector, then task arithmetic.

Paper: Davari & Belilovsky 2024, "Model Breadcrumbs: Scaling Multi-Task Model Merging with
Sparse Masks", https://arxiv.org/abs/2312.06795 (the masking rule). Per task vector
``tau_i = theta_i - theta_base``, the mask drops the ``gamma`` share of largest magnitudes
(outliers) and the smallest ones, keeping ``density`` of the entries;
``theta = theta_base + lambda * sum_i w_i m_i tau_i``. ``consensus="ties"`` adds TIES' sign
election (mergekit's ``breadcrumbs_ties``).
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

from fusion.merge import sparsify
from fusion.merge.task_arithmetic import consensus_majority, merge_task_vectors, per_model


def breadcrumbs(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float | list[float],
    gamma: float | list[float] = 0.01,
    weights: list[float] | None = None,
    consensus: Literal["ties"] | None = None,
    normalize: bool = False,
    rescale: sparsify.Rescale = "none",
    lambda_: float = 1.0,
) -> Tensor:
    """Breadcrumbs merge of ``tensors`` around ``base``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor.
        density: share of entries kept, in (0, 1]; one, or one per model.
        gamma: share of largest-magnitude entries dropped first; one, or one per model.
        weights: one weight per model (default 1 each).
        consensus: ``"ties"`` for TIES' sign election, ``None`` for a plain weighted sum.
        normalize: divide by the (agreeing) weights' total.
        rescale: rescale of the survivors (:mod:`fusion.merge.sparsify`).
        lambda_: scale of the merged task vector.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    majority = consensus_majority(consensus)
    densities = per_model(density, len(tensors), "density", 1.0)
    gammas = per_model(gamma, len(tensors), "gamma", 0.01)
    return merge_task_vectors(
        tensors,
        base,
        weights=weights,
        normalize=normalize,
        lambda_=lambda_,
        sparsify=lambda d, i: sparsify.outliers(d, densities[i], gammas[i], rescale),
        majority=majority,
    )
