"""The tail-aware sparse losses equal a dense fp64 computation in value and gradient."""

from __future__ import annotations

import math

import pytest
import torch

import training.losses as losses
from tests.training.test_losses import make_inputs, value_and_grad
from training.losses import sparse_distill_ce, sparse_tail_ce, sparse_tail_kl


def tail_inputs(seed: int, dtype: torch.dtype = torch.float32, v: int = 50):
    """``make_inputs`` with true probabilities: each position keeps a random share of its mass
    in the listed ids and the rest, ``r = 1 − Σp``, in the tail (padding: id 0, p 0)."""
    logits, ids, probs, mask = make_inputs(seed, dtype=dtype, v=v)
    gen = torch.Generator().manual_seed(seed + 100)
    probs = probs * (0.1 + 0.9 * torch.rand(probs.shape[:2] + (1,), generator=gen))
    tail = (1 - probs.sum(-1)).clamp(min=0)
    return logits, ids, probs, tail, mask


def dense_tail_ce(logits, ids, probs, tail, mask) -> torch.Tensor:
    """The definition, densely in fp64: ``−Σ p·log q[ids] − r·log(1 − Σ_listed q)``."""
    q = torch.softmax(logits.double(), -1)  # (B, T, V)
    listed = torch.zeros_like(q).scatter_add_(-1, ids, (probs > 0).double()) > 0  # (B, T, V)
    top = (probs.double() * q.gather(-1, ids).log()).sum(-1)  # (B, T)
    rest = torch.where(tail > 0, tail.double() * torch.log(1 - (q * listed).sum(-1)), 0.0)
    m = mask.double()
    return -((top + rest) * m).sum() / m.sum().clamp(min=1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tail_ce_matches_dense(dtype: torch.dtype, seed: int, monkeypatch) -> None:
    monkeypatch.setattr(losses, "_CHUNK_ELEMS_CPU", 200)  # several chunks per row of the batch
    logits, ids, probs, tail, mask = tail_inputs(seed, dtype)
    assert (tail > 0.05).any() and (~mask).any() and ((ids == 0) & (probs == 0)).any()
    value, grad = value_and_grad(sparse_tail_ce, logits, ids, probs, tail, mask)
    ref_value, ref_grad = value_and_grad(dense_tail_ce, logits, ids, probs, tail, mask)
    assert grad.dtype == dtype
    torch.testing.assert_close(value.double(), ref_value, rtol=1e-5, atol=1e-6)
    tol = 2**-7 if dtype == torch.bfloat16 else 1e-5
    torch.testing.assert_close(grad.double(), ref_grad.to(dtype).double(), rtol=tol, atol=1e-6)


def test_without_tail_it_is_the_sparse_ce() -> None:
    logits, ids, probs, mask = make_inputs(4)
    zero = torch.zeros(probs.shape[:2])
    value, grad = value_and_grad(sparse_tail_ce, logits, ids, probs, zero, mask)
    ref_value, ref_grad = value_and_grad(sparse_distill_ce, logits, ids, probs, mask)
    torch.testing.assert_close(value, ref_value)
    torch.testing.assert_close(grad, ref_grad)


def test_padding_id_shared_with_a_listed_id_stays_listed() -> None:
    logits = torch.tensor([[[0.5, -1.0, 2.0]]])
    ids, probs = torch.tensor([[[0, 0]]]), torch.tensor([[[0.5, 0.0]]])  # id 0 listed, pad 0
    value = sparse_tail_ce(logits, ids, probs, torch.tensor([[0.5]]), torch.ones(1, 1))
    q = torch.softmax(logits[0, 0].double(), -1)
    expected = -(0.5 * math.log(q[0]) + 0.5 * math.log(q[1] + q[2]))
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_tail_log_mass_is_stable_when_the_student_ignores_the_tail() -> None:
    v, k = 1000, 4
    logits = torch.full((1, 1, v), -80.0)
    logits[..., :k] = 0.0  # the listed ids hold all but ~1e-32 of the mass
    ids, probs = torch.arange(k).view(1, 1, k), torch.full((1, 1, k), 0.2)
    tail, mask = torch.tensor([[0.2]]), torch.ones(1, 1)
    naive = torch.log(1 - torch.softmax(logits, -1)[..., :k].sum(-1))
    assert torch.isinf(naive).all()  # what log(1 − Σq) gives in fp32
    value, grad = value_and_grad(sparse_tail_ce, logits, ids, probs, tail, mask)
    log_tail = -80 + math.log(v - k) - math.log(k)  # log of the student's tail mass, ~exact
    assert value.item() == pytest.approx(-(0.8 * math.log(1 / k) + 0.2 * log_tail), rel=1e-5)
    assert torch.isfinite(grad).all()
    # Tail ids share w_tail·(q − q/q_tail) ≈ −0.2 equally; listed ids get q·1 − p.
    assert grad[0, 0, k:].sum().item() == pytest.approx(-0.2, rel=1e-4)
    assert grad[0, 0, :k].tolist() == pytest.approx([0.25 - 0.2] * k, rel=1e-4)


def test_every_id_listed_and_no_tail_is_finite() -> None:
    logits = torch.randn(1, 2, 3, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor([[[0, 1, 2], [2, 1, 0]]])
    probs = torch.tensor([[[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]]])  # second: id 0 in the tail
    tail = torch.tensor([[0.0, 0.0]])
    value, grad = value_and_grad(sparse_tail_ce, logits, ids, probs, tail, torch.ones(1, 2))
    ref_value, ref_grad = value_and_grad(dense_tail_ce, logits, ids, probs, tail, torch.ones(1, 2))
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    torch.testing.assert_close(value.double(), ref_value)
    torch.testing.assert_close(grad.double(), ref_grad.double(), rtol=1e-5, atol=1e-6)


def test_kl_is_zero_at_the_bucketed_teacher_and_has_the_ce_gradient() -> None:
    v = 20
    ids = torch.tensor([[[3, 7, 11]]])
    probs = torch.tensor([[[0.3, 0.2, 0.1]]])
    tail, mask = torch.tensor([[0.4]]), torch.ones(1, 1)
    q = torch.full((v,), 0.4 / (v - 3))
    q[ids[0, 0]] = probs[0, 0]
    logits = q.log().view(1, 1, v)  # a student whose bucketed distribution is the teacher's
    kl, kl_grad = value_and_grad(sparse_tail_kl, logits, ids, probs, tail, mask)
    assert kl.item() == pytest.approx(0.0, abs=1e-6)
    assert kl_grad.abs().max().item() < 1e-6
    other = torch.randn(1, 1, v, generator=torch.Generator().manual_seed(1))
    kl, kl_grad = value_and_grad(sparse_tail_kl, other, ids, probs, tail, mask)
    _, ce_grad = value_and_grad(sparse_tail_ce, other, ids, probs, tail, mask)
    assert kl.item() > 0.01
    torch.testing.assert_close(kl_grad, ce_grad)


def test_shape_errors_name_the_tail() -> None:
    logits, ids, probs, tail, mask = tail_inputs(0)
    with pytest.raises(ValueError, match="target_tail"):
        sparse_tail_ce(logits, ids, probs, tail[:, :-1], mask)
