"""Benchmark the sparse distillation losses against the dense reference form.

Times forward+backward (median over ``repeats`` after one warm-up run) at the machine's
default torch thread count, checks that value and gradient agree, measures the peak extra
memory of one forward+backward (CPU torch keeps no peak counter: ``torch.profiler``'s
allocation and free events are summed in order; the input logits are not counted, the
gradient is), and counts how many B×T×V-sized tensors each form allocates (op outputs seen
by a dispatch mode). Run ``python -m training.bench.loss`` to print the table.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode

from training.losses import clm_loss, dense_distill_ce, sparse_distill_ce, sparse_distill_kl

LossOnLogits = Callable[[torch.Tensor], torch.Tensor]


class CountLargeAllocations(TorchDispatchMode):
    """Counts op outputs with at least ``numel`` elements that are new storage.

    Views and ``out=`` results share storage with an argument and are not counted.
    """

    def __init__(self, numel: int) -> None:
        super().__init__()
        self.numel = numel
        self.count = 0

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor) and out.numel() >= self.numel:
            ptr = out.untyped_storage().data_ptr()
            inputs = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
            self.count += all(a.untyped_storage().data_ptr() != ptr for a in inputs)
        return out


def _value_and_grad(loss_fn: LossOnLogits, logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Loss value and d loss / d logits, on a fresh leaf copy of ``logits``."""
    leaf = logits.detach().requires_grad_()
    value = loss_fn(leaf)
    value.backward()
    return value.detach(), leaf.grad


def _median_seconds(loss_fn: LossOnLogits, logits: torch.Tensor, repeats: int) -> float:
    _value_and_grad(loss_fn, logits)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _value_and_grad(loss_fn, logits)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _count_large(loss_fn: LossOnLogits, logits: torch.Tensor) -> int:
    """Tensors of at least B×(T−1)×V elements (the shifted CLM works on T−1 positions)."""
    batch, seq, vocab = logits.shape
    with CountLargeAllocations(batch * (seq - 1) * vocab) as counter:
        _value_and_grad(loss_fn, logits)
    return counter.count


def _peak_extra_bytes(loss_fn: LossOnLogits, logits: torch.Tensor) -> int:
    """Peak bytes allocated above the start during one forward+backward, from the profiler.

    Each allocation or free is reported as the self memory of the op that made it; summing
    them in start order gives the live total over time.
    """
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        _value_and_grad(loss_fn, logits)
    events = sorted(
        (e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start
    )
    return max(itertools.accumulate((e.self_cpu_memory_usage for e in events), initial=0))


def _compare(
    name: str, dense: LossOnLogits, sparse: LossOnLogits, logits: torch.Tensor, repeats: int
) -> dict[str, Any]:
    """One table row: timings, peak extra memory, agreement and B×T×V allocation counts."""
    dense_value, dense_grad = _value_and_grad(dense, logits)
    sparse_value, sparse_grad = _value_and_grad(sparse, logits)
    dense_s = _median_seconds(dense, logits, repeats)
    sparse_s = _median_seconds(sparse, logits, repeats)
    return {
        "name": name,
        "dense_s": dense_s,
        "sparse_s": sparse_s,
        "ratio": dense_s / sparse_s,
        "dense_peak_bytes": _peak_extra_bytes(dense, logits),
        "sparse_peak_bytes": _peak_extra_bytes(sparse, logits),
        "max_abs_diff_value": (dense_value - sparse_value).abs().item(),
        "max_abs_diff_grad": (dense_grad.float() - sparse_grad.float()).abs().max().item(),
        "dense_bxtxv_allocs": _count_large(dense, logits),
        "sparse_bxtxv_allocs": _count_large(sparse, logits),
    }


def _dense_kl(
    logits: torch.Tensor, target_ids: torch.Tensor, target_probs: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Reference KL as in the original trainer: ``kl_div(log_softmax, dense_p).sum(-1)``."""
    log_q = torch.log_softmax(logits.float(), -1)  # (B, T, V)
    dense_p = torch.zeros_like(log_q).scatter_add_(-1, target_ids, target_probs)  # (B, T, V)
    per_position = F.kl_div(log_q, dense_p, reduction="none").sum(-1)  # (B, T)
    return (per_position * mask).sum() / mask.sum()


def bench_loss(
    B: int = 2, T: int = 512, V: int = 32000, K: int = 10, repeats: int = 5
) -> list[dict[str, Any]]:
    """Time dense vs sparse forward+backward for distill CE (fp32, bf16), KL and CLM.

    Args:
        B: batch size.
        T: sequence length.
        V: vocabulary size.
        K: teacher top-k per position.
        repeats: timed runs per form (after one warm-up); the median is reported.

    Returns:
        One dict per case with ``name``, ``dense_s``, ``sparse_s``, ``ratio`` (dense/sparse),
        ``dense_peak_bytes``, ``sparse_peak_bytes``, ``max_abs_diff_value``,
        ``max_abs_diff_grad`` and the B×T×V allocation counts.
    """
    gen = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(B, T, V, generator=gen)  # (B, T, V) fp32
    target_ids = torch.rand(B, T, V, generator=gen).topk(K, dim=-1).indices  # (B, T, K)
    target_probs = torch.softmax(torch.randn(B, T, K, generator=gen), -1)  # (B, T, K)
    mask = torch.ones(B, T)  # (B, T)
    mask[-1, T // 2 :] = 0  # one right-padded sequence
    labels = torch.randint(0, V, (B, T), generator=gen)  # (B, T)
    targets = (target_ids, target_probs, mask)
    suffix = f"B{B} T{T} V{V} K{K}"

    def dense_clm(x: torch.Tensor) -> torch.Tensor:
        """Shifted CE as Hugging Face computes it (upcast logits, slice, flatten)."""
        return F.cross_entropy(x[:, :-1].float().reshape(-1, V), labels[:, 1:].reshape(-1))

    cases = [
        ("distill CE fp32", dense_distill_ce, sparse_distill_ce, torch.float32),
        ("distill CE bf16", dense_distill_ce, sparse_distill_ce, torch.bfloat16),
        ("distill KL fp32", _dense_kl, sparse_distill_kl, torch.float32),
    ]
    rows = [
        _compare(
            f"{name} fwd+bwd {suffix}",
            lambda x, dense=dense: dense(x, *targets),
            lambda x, sparse=sparse: sparse(x, *targets),
            logits.to(dtype),
            repeats,
        )
        for name, dense, sparse, dtype in cases
    ]
    clm_name = f"CLM fp32 fwd+bwd B{B} T{T} V{V}"
    rows.append(_compare(clm_name, dense_clm, lambda x: clm_loss(x, labels), logits, repeats))
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("speed = dense s / sparse s; memory = sparse / dense peak extra MiB (torch.profiler)")
    header = f"{'case':<44}{'dense s':>9}{'sparse s':>10}{'speed':>7}{'peak MiB d/s':>14}"
    print(header + f"{'memory':>8}{'|Δvalue|':>10}{'|Δgrad|':>10}{'BTV allocs d/s':>16}")
    for row in rows:
        dense_mib, sparse_mib = row["dense_peak_bytes"] / 2**20, row["sparse_peak_bytes"] / 2**20
        peaks = f"{dense_mib:.0f}/{sparse_mib:.0f}"
        allocs = f"{row['dense_bxtxv_allocs']}/{row['sparse_bxtxv_allocs']}"
        print(
            f"{row['name']:<44}{row['dense_s']:>9.3f}{row['sparse_s']:>10.3f}{row['ratio']:>7.2f}"
            f"{peaks:>14}{sparse_mib / dense_mib:>8.2f}"
            f"{row['max_abs_diff_value']:>10.1e}{row['max_abs_diff_grad']:>10.1e}{allocs:>16}"
        )


if __name__ == "__main__":
    _print_table(bench_loss())
