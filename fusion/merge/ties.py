"""TIES-Merging: trim each task vector, elect a sign per parameter, average those that agree.

Paper: Yadav et al. 2023, "TIES-Merging: Resolving Interference When Merging Models",
https://arxiv.org/abs/2306.01708 (Sec. 3, Algorithm 1). With task vectors
``tau_i = theta_i - theta_base``:
trim ``tau_i`` to its top-``density`` magnitudes, elect ``gamma = sgn(sum_i w_i tau_i)``
(``majority="sum"``; ``"count"`` votes by sign), keep ``A = {i : sgn(tau_i) = gamma}``, and
``theta = theta_base + lambda * sum_{i in A} w_i tau_i / sum_{i in A} w_i`` (the disjoint mean;
``normalize=False`` drops the division).
"""

from __future__ import annotations

from torch import Tensor

from fusion.merge import sparsify
from fusion.merge.task_arithmetic import Majority, merge_task_vectors, per_model


def ties(
    tensors: list[Tensor],
    base: Tensor,
    *,
    density: float | list[float],
    weights: list[float] | None = None,
    majority: Majority = "sum",
    normalize: bool = True,
    rescale: sparsify.Rescale = "none",
    lambda_: float = 1.0,
) -> Tensor:
    """TIES merge of ``tensors`` around ``base``.

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor the task vectors are taken from.
        density: share of each task vector's entries kept (largest magnitudes), in (0, 1];
            one value, or one per model.
        weights: one weight per model (default 1 each).
        majority: elect the sign by summed mass (paper) or by a vote count.
        normalize: divide by the agreeing weights' total (the paper's disjoint mean).
        rescale: rescale of the trimmed vectors (:mod:`fusion.merge.sparsify`); none in the paper.
        lambda_: scale of the merged task vector.

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    densities = per_model(density, len(tensors), "density", 1.0)
    return merge_task_vectors(
        tensors,
        base,
        weights=weights,
        normalize=normalize,
        lambda_=lambda_,
        sparsify=lambda delta, i: sparsify.magnitude(delta, densities[i], rescale),
        majority=majority,
    )
