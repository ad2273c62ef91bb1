"""Task arithmetic, and the generalized form TIES, DARE, Breadcrumbs and DELLA share.

Paper: Ilharco et al. 2023, "Editing Models with Task Arithmetic",
https://arxiv.org/abs/2212.04089: with task vectors ``tau_i = theta_i - theta_base``,
``theta = theta_base + lambda * sum_i w_i tau_i``. The generalized form (mergekit's
``GeneralizedTaskArithmeticMerge``) first sparsifies each ``tau_i``, optionally keeps only the
entries whose sign agrees with the elected one (TIES), and optionally divides by the summed
weights (``normalize``). The operations run in mergekit's order, on float32, so that the same
recipe gives the same bits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor

from configs.errors import SuiteError

Majority = Literal["sum", "count"]
# mergekit's guard: a weight total this close to 0 is not divided by.
_ZERO_TOTAL = 1e-8


def per_model(value: float | Sequence[float] | None, n: int, name: str, default: float) -> list:
    """One value per model: a scalar is shared, a list must have one entry per model."""
    if value is None:
        return [default] * n
    if isinstance(value, int | float):
        return [value] * n
    if len(value) != n:
        raise SuiteError(f"{name}: {len(value)} values for {n} models: give one per model")
    return list(value)


def task_arithmetic(
    tensors: list[Tensor],
    base: Tensor,
    *,
    weights: list[float] | None = None,
    normalize: bool = False,
    lambda_: float = 1.0,
) -> Tensor:
    """``base + lambda * sum_i w_i (tensors_i - base)`` (divided by ``sum w`` if ``normalize``).

    Args:
        tensors: one tensor per fine-tuned model, shaped like ``base``.
        base: the shared pre-trained tensor.
        weights: one weight per model (default 1 each).
        normalize: divide the weighted sum by the weights' total (mergekit default: off).
        lambda_: scale of the merged task vector (``lambda`` on the command line).

    Returns:
        The merged tensor in the dtype of ``tensors[0]``.
    """
    return merge_task_vectors(tensors, base, weights=weights, normalize=normalize, lambda_=lambda_)


def consensus_majority(consensus: str | None) -> Majority | None:
    """The sign election of a ``consensus`` switch (DARE, DELLA, Breadcrumbs): ``"ties"`` elects
    by weighted mass, as TIES does; ``None`` is a plain weighted sum."""
    if consensus not in ("ties", None):
        raise SuiteError(f"consensus must be 'ties' or None, got {consensus!r}")
    return "sum" if consensus == "ties" else None


def merge_task_vectors(
    tensors: list[Tensor],
    base: Tensor,
    *,
    weights: float | list[float] | None,
    normalize: bool,
    lambda_: float,
    sparsify: Callable[[Tensor, int], Tensor] | None = None,
    majority: Majority | None = None,
) -> Tensor:
    """The generalized task-arithmetic merge.

    Args:
        tensors, base, weights, normalize, lambda_: as in :func:`task_arithmetic`.
        sparsify: maps model ``i``'s float32 task vector to its sparsified copy.
        majority: ``None`` sums every weighted task vector; ``"sum"`` / ``"count"`` elect a
            sign per entry (by weighted mass / by vote) and keep only the agreeing entries,
            the total then counting only their weights (TIES' disjoint mean).
    """
    base32 = base.float()
    deltas = [t.float() - base32 for t in tensors]
    if sparsify is not None:
        deltas = [sparsify(delta, i) for i, delta in enumerate(deltas)]
    stacked = torch.stack(deltas)
    del deltas
    w = torch.tensor(per_model(weights, len(tensors), "weights", 1.0), dtype=torch.float32)
    w = w.view(-1, *[1] * base.dim())
    weighted = stacked * w
    del stacked
    if majority is not None:
        agree = sign_agreement(weighted, majority)
        mixed = (weighted * agree).sum(dim=0)
        total = (w * agree).sum(dim=0)
        total[total == 0] = 1
    else:
        mixed = weighted.sum(dim=0)
        total = w.sum(dim=0)
        total[total.abs() < _ZERO_TOTAL] = 1
    del weighted
    if normalize:
        mixed /= total
    if lambda_ != 1:
        mixed *= lambda_
    return (base32 + mixed).to(tensors[0].dtype)


def sign_agreement(weighted: Tensor, majority: Majority) -> Tensor:
    """Which entries carry the elected sign (TIES' elect step; a 0 entry never agrees).

    Args:
        weighted: (M, ...) weighted task vectors.
        majority: ``"sum"`` elects ``sgn(sum_i w_i tau_i)``, ``"count"`` ``sgn(sum_i
            sgn(w_i tau_i))``; a tie elects +.
    """
    if majority not in ("sum", "count"):
        raise SuiteError(f"majority must be 'sum' or 'count', got {majority!r}")
    signs = weighted.sign()
    votes = weighted.sum(dim=0) if majority == "sum" else signs.sum(dim=0)
    return signs == (votes >= 0).float() * 2 - 1
