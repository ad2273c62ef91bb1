"""The methods beyond linear/TIES/DARE, hand-computed: task arithmetic, Breadcrumbs, DELLA,
Model Stock, SCE, VaRM, per-model parameters, and slerp's precision on a Llama-sized matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from configs.errors import SuiteError
from fusion.merge.breadcrumbs import breadcrumbs
from fusion.merge.dare import dare
from fusion.merge.della import della
from fusion.merge.model_stock import model_stock
from fusion.merge.sce import sce
from fusion.merge.slerp import slerp
from fusion.merge.task_arithmetic import task_arithmetic
from fusion.merge.ties import ties
from fusion.merge.varm import varm

BASE = torch.ones(4)
DELTA_A = torch.tensor([1.0, -2.0, 0.5, 3.0])
DELTA_B = torch.tensor([-1.5, 1.0, 0.25, 2.0])


def test_task_arithmetic_lambda_and_normalize() -> None:
    tensors = [BASE + DELTA_A, BASE + DELTA_B]
    summed = BASE + 2 * (DELTA_A + 0.5 * DELTA_B)
    assert torch.allclose(task_arithmetic(tensors, BASE, weights=[1.0, 0.5], lambda_=2.0), summed)
    mean = BASE + (DELTA_A + 0.5 * DELTA_B) / 1.5
    assert torch.allclose(task_arithmetic(tensors, BASE, weights=[1.0, 0.5], normalize=True), mean)


def test_per_model_density() -> None:
    # A trimmed to its 2 largest [0, -2, 0, 3], B kept whole [-1.5, 1, 0.25, 2];
    # sum [-1.5, -1, 0.25, 5] elects [-, -, +, +]; agreeing means [-1.5, -2, 0.25, 2.5] + 1
    merged = ties([BASE + DELTA_A, BASE + DELTA_B], BASE, density=[0.5, 1.0])
    assert torch.allclose(merged, torch.tensor([-0.5, -1.0, 1.25, 3.5]))
    with pytest.raises(SuiteError, match="one per model"):
        ties([BASE + DELTA_A, BASE + DELTA_B], BASE, density=[0.5, 1.0, 1.0])


def test_breadcrumbs_drops_both_tails() -> None:
    # |A| ascending 0.5, 1, 2, 3: density 0.5 and gamma 0.25 drop 3 (top) and 0.5 (bottom)
    merged = breadcrumbs([BASE + DELTA_A], BASE, density=0.5, gamma=0.25)
    assert torch.allclose(merged, BASE + torch.tensor([1.0, -2.0, 0.0, 0.0]))
    # gamma * n < 1 drops no outlier (the kept share is still density)
    merged = breadcrumbs([BASE + DELTA_A], BASE, density=0.5, gamma=0.01)
    assert torch.allclose(merged, BASE + torch.tensor([0.0, -2.0, 0.0, 3.0]))


def test_della_with_flat_probabilities_is_dare() -> None:
    torch.manual_seed(0)
    base = torch.randn(8, 16)
    tensors = [base + torch.randn(8, 16) for _ in range(3)]
    flat = della(tensors, base, density=0.6, epsilon=0.0, seed=4, consensus=None, normalize=False)
    assert torch.equal(flat, dare(tensors, base, density=0.6, seed=4))
    ranked = della(tensors, base, density=0.6, epsilon=0.3, seed=4)
    assert not torch.equal(ranked, della(tensors, base, density=0.6, epsilon=0.0, seed=4))
    with pytest.raises(SuiteError, match="density ± epsilon"):
        della(tensors, base, density=0.6, epsilon=0.5)


def test_della_keeps_large_entries_more_often() -> None:
    delta = torch.arange(1.0, 10001.0).view(1, -1)  # magnitude rank = position
    merged = della([delta], torch.zeros_like(delta), density=0.5, epsilon=0.4, rescale="none")
    kept = merged != 0
    assert kept[0, :1000].float().mean() < 0.2 < 0.8 < kept[0, -1000:].float().mean()


def test_model_stock_ratio_from_angle() -> None:
    base = torch.zeros(2)
    # orthogonal task vectors: cos 0, t = 0 -> the base
    assert torch.equal(model_stock([torch.tensor([1.0, 0]), torch.tensor([0, 1.0])], base), base)
    # cos 1/sqrt(2): t = 2c / (1 + c), times the average [1, 0.5]
    c = 1 / math.sqrt(2)
    merged = model_stock([torch.tensor([1.0, 0]), torch.tensor([1.0, 1.0])], base)
    assert torch.allclose(merged, 2 * c / (1 + c) * torch.tensor([1.0, 0.5]))


def test_sce_hand_computed() -> None:
    # per-position variance across A, B: [1.5625, 2.25, 0.015625, 0.25]; top half: 0 and 1.
    # selected A' [1, -2, 0, 0], B' [-1.5, 1, 0, 0]: mean squares 1.25 and 0.8125.
    tensors = [BASE + DELTA_A, BASE + DELTA_B]
    # signs of A' + B' = [-0.5, -1]: only B agrees at 0, only A at 1; the rest is erased
    merged = sce(tensors, BASE, select_topk=0.5)
    assert torch.allclose(merged, BASE + torch.tensor([-1.5, -2.0, 0.0, 0.0]))
    # selection shapes only the weights: unselected positions merge by them
    wa, wb = 1.25 / 2.0625, 0.8125 / 2.0625
    rest = (wa * DELTA_A[2:] + wb * DELTA_B[2:]) / (wa + wb)
    weighted = sce(tensors, BASE, select_topk=0.5, selection="weights")
    assert torch.allclose(weighted, BASE + torch.cat([torch.tensor([-1.5, -2.0]), rest]))


def test_sce_weights_by_squared_change() -> None:
    # no selection, no conflict: weights 1 and 4 (mean squares of [1, 1] and [2, 2])
    merged = sce([torch.ones(2), torch.full((2,), 2.0)], torch.zeros(2))
    assert torch.allclose(merged, torch.full((2,), (1 * 1 + 4 * 2) / 5))


def test_varm_hand_computed() -> None:
    # mean squared changes 1 ([1, 1]) and 2 ([2, 0]): weights 1/3, 2/3
    merged = varm([torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0])], torch.zeros(2))
    assert torch.allclose(merged, torch.tensor([5 / 3, 1 / 3]))
    # unchanged targets: equal weights, the pivot back
    assert torch.equal(varm([BASE, BASE.clone()], BASE), BASE)


def test_slerp_precise_on_a_llama_sized_matrix() -> None:
    """Float32 norms put cos(Omega) above 1 on 4096 x 11008 and collapse slerp to linear."""
    g = torch.Generator().manual_seed(0)
    v0 = torch.randn(4096, 11008, generator=g)
    v1 = v0 + 0.05 * torch.randn(4096, 11008, generator=g)
    merged = slerp([v0, v1], t=0.3)
    a, b = v0.numpy().ravel(), v1.numpy().ravel()
    dot = [
        float(np.dot(x.astype(np.float64), y.astype(np.float64)))
        for x, y in ((a, b), (a, a), (b, b))
    ]
    omega = math.acos(dot[0] / math.sqrt(dot[1] * dot[2]))
    s0, s1 = math.sin(0.7 * omega) / math.sin(omega), math.sin(0.3 * omega) / math.sin(omega)
    err = ref = 0.0
    for rows in range(0, 4096, 512):  # the float64 reference, a block of rows at a time
        exact = s0 * v0[rows : rows + 512].double() + s1 * v1[rows : rows + 512].double()
        err += float(((merged[rows : rows + 512].double() - exact) ** 2).sum())
        ref += float((exact**2).sum())
    assert math.sqrt(err / ref) <= 1e-5
