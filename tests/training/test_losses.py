"""Sparse distillation losses equal the dense reference in value and gradient."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F

import training.losses as losses
from training.bench.loss import CountLargeAllocations
from training.losses import (
    DISTILL_LOSSES,
    clm_loss,
    combined_loss,
    dense_distill_ce,
    sparse_distill_ce,
    sparse_distill_kl,
)


def make_inputs(
    seed: int, b: int = 3, t: int = 7, v: int = 50, k: int = 6, dtype: torch.dtype = torch.float32
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random logits, ragged top-k targets padded with (id 0, p 0), mask with holes.

    Returns:
        logits (B, T, V) dtype, target_ids (B, T, K) int64, target_probs (B, T, K) fp32,
        mask (B, T) bool.
    """
    gen = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(b, t, v, generator=gen)).to(dtype)
    ids = torch.rand(b, t, v, generator=gen).argsort(-1)[..., :k]  # distinct per position
    lengths = torch.randint(0, k + 1, (b, t, 1), generator=gen)  # 0 = all-zero position
    real = torch.arange(k) < lengths  # (B, T, K)
    probs = torch.rand(b, t, k, generator=gen) * real
    probs = probs / probs.sum(-1, keepdim=True).clamp(min=1e-12)
    ids = torch.where(real, ids, 0)
    mask = torch.rand(b, t, generator=gen) > 0.3
    return logits, ids, probs, mask


def value_and_grad(
    loss_fn: Callable[..., torch.Tensor], logits: torch.Tensor, *args: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss value and d loss / d logits, on a fresh leaf copy of ``logits``."""
    leaf = logits.detach().requires_grad_()
    value = loss_fn(leaf, *args)
    value.backward()
    return value.detach(), leaf.grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_ce_matches_dense(dtype: torch.dtype, seed: int) -> None:
    logits, ids, probs, mask = make_inputs(seed, dtype=dtype)
    assert (probs.sum(-1) == 0).any() and (~mask).any() and (probs == 0).any()
    value, grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    ref_value, ref_grad = value_and_grad(dense_distill_ce, logits, ids, probs, mask)
    assert value.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    assert grad.dtype == dtype
    torch.testing.assert_close(value, ref_value, rtol=1e-6, atol=1e-6)
    # Half grads: both are fp32 values rounded to 16 bits; allow a 1-ulp rounding flip.
    tol = 2**-7 if dtype in (torch.bfloat16, torch.float16) else 1e-6
    torch.testing.assert_close(grad.float(), ref_grad.float(), rtol=tol, atol=1e-6)


def test_masked_positions_get_no_gradient() -> None:
    logits, ids, probs, mask = make_inputs(3)
    _, grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    assert torch.all(grad[~mask] == 0)
    zero_prob = mask & (probs.sum(-1) == 0)
    assert zero_prob.any() and torch.all(grad[zero_prob] == 0)


def test_denominator_counts_masked_in_positions_with_zero_probs() -> None:
    logits = torch.randn(1, 4, 5, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([[[2, 4], [0, 0], [1, 3], [0, 0]]])
    probs = torch.tensor([[[0.25, 0.75], [0.0, 0.0], [0.5, 0.5], [0.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0, 1]])  # int mask, position 2 masked out
    log_q = torch.log_softmax(logits[0, 0], -1)
    only_position_0 = -(0.25 * log_q[2] + 0.75 * log_q[4])
    # 3 masked-in positions (not 1 with probability mass, not 4 in total).
    expected = only_position_0 / 3
    torch.testing.assert_close(sparse_distill_ce(logits, ids, probs, mask), expected)
    torch.testing.assert_close(dense_distill_ce(logits, ids, probs, mask), expected)


def test_padding_ids_colliding_with_real_id_are_ignored() -> None:
    logits = torch.randn(1, 1, 8, generator=torch.Generator().manual_seed(1))
    ids = torch.tensor([[[0, 5, 0, 0]]], dtype=torch.int32)
    probs = torch.tensor([[[0.3, 0.7, 0.0, 0.0]]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    log_q = torch.log_softmax(logits[0, 0], -1)
    expected = -(0.3 * log_q[0] + 0.7 * log_q[5])
    value, grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    torch.testing.assert_close(value, expected)
    target = torch.zeros(8)
    target[0], target[5] = 0.3, 0.7
    torch.testing.assert_close(grad[0, 0], torch.softmax(logits[0, 0], -1) - target)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_chunk_boundaries_and_no_dense_allocation(
    monkeypatch: pytest.MonkeyPatch, dtype: torch.dtype
) -> None:
    """With tiny chunks only the gradient buffer is B×T×V: no dense target, no fp32 copy."""
    monkeypatch.setattr(losses, "_CHUNK_ELEMS_CPU", 3 * 50)  # 3 rows per chunk, T = 7
    logits, ids, probs, mask = make_inputs(4, dtype=dtype)
    with CountLargeAllocations(logits.numel()) as sparse_count:
        value, grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    with CountLargeAllocations(logits.numel()) as dense_count:
        ref_value, ref_grad = value_and_grad(dense_distill_ce, logits, ids, probs, mask)
    assert sparse_count.count == 1  # the gradient
    assert dense_count.count >= 5  # the counter does see dense tensors
    torch.testing.assert_close(value, ref_value)
    torch.testing.assert_close(grad.float(), ref_grad.float(), rtol=2**-7, atol=1e-6)


def test_non_contiguous_logits() -> None:
    logits, ids, probs, mask = make_inputs(5, t=8)
    sliced = (logits, ids[:, :-1], probs[:, :-1], mask[:, :-1])
    value, grad = value_and_grad(lambda x, *a: sparse_distill_ce(x[:, :-1], *a), *sliced)
    ref_value, ref_grad = value_and_grad(lambda x, *a: dense_distill_ce(x[:, :-1], *a), *sliced)
    torch.testing.assert_close(value, ref_value)
    torch.testing.assert_close(grad, ref_grad)
    assert torch.all(grad[:, -1] == 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_kl_is_ce_minus_entropy_and_matches_kl_div(seed: int) -> None:
    logits, ids, probs, mask = make_inputs(seed)
    kl, kl_grad = value_and_grad(sparse_distill_kl, logits, ids, probs, mask)
    ce, ce_grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    entropy = -torch.xlogy(probs, probs).sum(-1)  # (B, T)
    torch.testing.assert_close(kl, ce - entropy[mask].sum() / mask.sum())
    torch.testing.assert_close(kl_grad, ce_grad)
    dense_p = torch.zeros(logits.shape).scatter_add_(-1, ids, probs)
    per_position = F.kl_div(torch.log_softmax(logits, -1), dense_p, reduction="none").sum(-1)
    torch.testing.assert_close(kl, per_position[mask].sum() / mask.sum())


def test_kl_of_identical_distribution_is_zero() -> None:
    _, ids, probs, _ = make_inputs(6, k=4)
    probs = torch.rand(probs.shape, generator=torch.Generator().manual_seed(0)) + 0.1
    probs = probs / probs.sum(-1, keepdim=True)  # full support, no padding
    ids = torch.arange(4).expand(ids.shape) * 7  # distinct ids on the support
    logits = torch.full((*ids.shape[:2], 50), -1e4).scatter(-1, ids, probs.log())
    mask = torch.ones(ids.shape[:2], dtype=torch.bool)
    value, grad = value_and_grad(sparse_distill_kl, logits, ids, probs, mask)
    assert abs(value.item()) < 1e-6
    assert grad.abs().max().item() < 1e-6


@pytest.mark.parametrize("loss_fn", [sparse_distill_ce, sparse_distill_kl])
def test_gradcheck_double(loss_fn: Callable[..., torch.Tensor]) -> None:
    logits, ids, probs, mask = make_inputs(7, b=2, t=3, v=6, k=3, dtype=torch.float64)
    leaf = logits.detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: loss_fn(x, ids, probs.double(), mask), (leaf,))


def test_clm_loss_matches_shifted_cross_entropy() -> None:
    logits, _, _, _ = make_inputs(8, dtype=torch.bfloat16)
    labels = torch.randint(0, logits.shape[-1], logits.shape[:2])
    labels[0, :3] = -100
    labels[1, -1] = -100

    def reference(x: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        shifted = x[:, :-1].float().reshape(-1, x.shape[-1])
        return F.cross_entropy(shifted, lab[:, 1:].reshape(-1), ignore_index=-100)

    value, grad = value_and_grad(clm_loss, logits, labels)
    ref_value, ref_grad = value_and_grad(reference, logits, labels)
    torch.testing.assert_close(value, ref_value)
    torch.testing.assert_close(grad.float(), ref_grad.float(), rtol=2**-7, atol=1e-6)


def test_combined_loss_gradient_scales() -> None:
    logits, ids, probs, mask = make_inputs(9)
    labels = torch.randint(0, logits.shape[-1], logits.shape[:2])

    def sparse(x: torch.Tensor) -> torch.Tensor:
        return combined_loss(clm_loss(x, labels), sparse_distill_ce(x, ids, probs, mask), 0.9)

    def dense(x: torch.Tensor) -> torch.Tensor:
        clm = F.cross_entropy(x[:, :-1].reshape(-1, x.shape[-1]), labels[:, 1:].reshape(-1))
        return 0.9 * clm + 0.1 * dense_distill_ce(x, ids, probs, mask)

    value, grad = value_and_grad(sparse, logits)
    ref_value, ref_grad = value_and_grad(dense, logits)
    torch.testing.assert_close(value, ref_value)
    torch.testing.assert_close(grad, ref_grad)
    with pytest.raises(ValueError):
        combined_loss(value, value, 1.5)


def test_empty_mask_gives_zero() -> None:
    logits, ids, probs, mask = make_inputs(10)
    empty = torch.zeros_like(mask)
    for loss_fn in (sparse_distill_ce, sparse_distill_kl, dense_distill_ce):
        value, grad = value_and_grad(loss_fn, logits, ids, probs, empty)
        assert value.item() == 0.0 and torch.all(grad == 0)
    labels = torch.full(mask.shape, -100)
    assert clm_loss(logits, labels).item() == 0.0


def test_shape_errors_and_registry() -> None:
    logits, ids, probs, mask = make_inputs(11)
    with pytest.raises(ValueError):
        sparse_distill_ce(logits, ids[..., :-1], probs, mask)
    with pytest.raises(ValueError):
        sparse_distill_ce(logits, ids, probs, mask[:, :-1])
    with pytest.raises(ValueError):
        sparse_distill_ce(logits[0], ids, probs, mask)
    assert {"ce": sparse_distill_ce, "kl": sparse_distill_kl} == DISTILL_LOSSES
