"""SCE (select, calculate, erase): FuseChat 2.0's merge of target LLMs around their pivot.

Paper: Wan et al. 2024, "FuseChat: Knowledge Fusion of Chat Models",
https://arxiv.org/abs/2408.07990 (the SCE merging method). With update matrices
``delta_j = theta_j - theta_pivot`` of the K targets, per parameter matrix:
select the ``select_topk`` share of positions with the largest variance of ``delta_j`` across
targets; calculate ``eta_j = ||delta_j'||^2 / sum_k ||delta_k'||^2`` over the selected entries;
erase, per position, the entries whose sign opposes the sign of ``sum_j delta_j``; and
``theta = theta_pivot + sum_j eta_j delta_j'' / sum_{j kept} eta_j`` per position.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from configs.errors import SuiteError
from fusion.merge.task_arithmetic import sign_agreement


def sce(
    tensors: list[Tensor],
    base: Tensor,
    *,
    select_topk: float = 1.0,
    selection: Literal["mask", "weights"] = "mask",
) -> Tensor:
    """SCE merge of the targets ``tensors`` around the pivot ``base``.

    Args:
        tensors: one tensor per target model, shaped like ``base``.
        base: the pivot's tensor, from which every target was fine-tuned.
        select_topk: share of positions (of those with nonzero variance) selected, in (0, 1].
        selection: ``"mask"`` merges only the selected positions (mergekit's ``sce``);
            ``"weights"`` lets the selection shape only the weights and merges every position
            (FuseAI's released ``sce_merging.py``).

    Returns:
        The merged tensor in the dtype of ``tensors[0]``. Matches mergekit 0.1.4 bit for bit,
        except where mergekit guards with 1e-6: it falls back to equal weights when
        ``sum_j mean(delta_j^2) < 1e-6`` and divides by at least 1e-6; here (and in the paper)
        only an all-zero total falls back and only a zero divisor is skipped.
    """
    if not 0 < select_topk <= 1:
        raise SuiteError(f"select_topk must be in (0, 1], got {select_topk}")
    if selection not in ("mask", "weights"):
        raise SuiteError(f"selection must be 'mask' or 'weights', got {selection!r}")
    base32 = base.float()
    deltas = torch.stack([t.float() - base32 for t in tensors])
    selected = deltas * _select(deltas, select_topk) if select_topk < 1 else deltas
    if selection == "mask":
        deltas = selected
    weights = (selected**2).mean(dim=list(range(1, deltas.dim())))
    total = weights.sum().item()
    weights = torch.full_like(weights, 1 / len(tensors)) if total == 0 else weights / total
    erased = weights.view(-1, *[1] * base.dim()) * sign_agreement(deltas, "sum")
    divisor = erased.sum(dim=0)
    divisor[divisor == 0] = 1
    return (base32 + (deltas * erased).sum(dim=0) / divisor).to(tensors[0].dtype)


def _select(deltas: Tensor, share: float) -> Tensor:
    """0/1 mask of the ``share`` of positions whose deltas vary most across the models."""
    variance = deltas.var(dim=0, unbiased=False)
    mask = torch.zeros_like(variance)
    k = int(torch.count_nonzero(variance) * share)  # float32 product, as mergekit rounds it
    if k > 0:
        mask.view(-1)[torch.topk(variance.abs().view(-1), k=k).indices] = 1
    return mask
