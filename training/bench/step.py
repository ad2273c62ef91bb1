"""Benchmark a training step of the FuseLLM objective against the CLM baseline.

A step is what the Trainer does per micro-batch: ``FusionTrainer.compute_loss`` (forward and
loss), backward, and an optimizer step (``Trainer.create_optimizer``'s AdamW), so the real
code path is timed. Both objectives run on the same random-init Llama and the same batch:
``fuse`` with sparse top-K targets (λ·CLM + (1−λ)·distill), ``clm`` without them (the CLM
baseline's data). The model is small (2 layers), so the vocabulary-sized loss work weighs
far more than in a 7B step: the ratio overstates the cost for the paper's models. Steps of
the two objectives alternate, so load drift on a shared machine hits both; the median after
warm-up is reported. Run ``python -m training.bench.step``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

import torch
from transformers import LlamaConfig, LlamaForCausalLM, TrainingArguments

from training.trainer import FusionTrainer

GOAL = 1.10  # the fuse step may cost at most this many CLM steps
Batch = dict[str, torch.Tensor]


def _model(vocab: int, hidden: int, layers: int, seq: int) -> LlamaForCausalLM:
    """A random-init Llama with Llama-2's MLP ratio and 64-wide heads."""
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=hidden * 11008 // 4096,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,
        max_position_embeddings=seq,
    )
    return LlamaForCausalLM(config)


def _batches(B: int, T: int, V: int, K: int, device: torch.device) -> tuple[Batch, Batch]:
    """One batch with K distinct random target ids per position (fuse), and without (clm)."""
    gen = torch.Generator().manual_seed(0)
    input_ids = torch.randint(0, V, (B, T), generator=gen)  # (B, T)
    clm = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
    clm["labels"] = input_ids.clone()  # (B, T)
    target_ids = torch.rand(B, T, V, generator=gen).topk(K, dim=-1).indices  # (B, T, K)
    target_probs = torch.softmax(torch.randn(B, T, K, generator=gen), -1)  # (B, T, K)
    fuse = clm | {"target_ids": target_ids, "target_probs": target_probs}
    return tuple({k: v.to(device) for k, v in batch.items()} for batch in (fuse, clm))


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _step_seconds(trainer: FusionTrainer, batch: Batch) -> float:
    """One training step on a copy of ``batch`` (``compute_loss`` pops the targets)."""
    _sync()
    start = time.perf_counter()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    trainer.optimizer.step()
    trainer.optimizer.zero_grad(set_to_none=True)
    _sync()
    return time.perf_counter() - start


def bench_train(
    B: int = 2,
    T: int = 512,
    V: int = 32000,
    K: int = 10,
    hidden: int = 256,
    layers: int = 2,
    warmup: int = 2,
    repeats: int = 9,
) -> dict[str, Any]:
    """Median step seconds of ``fuse`` and ``clm`` and their ratio.

    Args:
        B, T, V, K: batch size, sequence length, vocabulary size, targets per position.
        hidden, layers: size of the random-init Llama.
        warmup: untimed steps per objective first; repeats: timed steps per objective.

    Returns:
        ``fuse_s``, ``clm_s``, ``ratio`` (fuse / clm) and a description of the setup.
    """
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(out, report_to=[], use_cpu=not torch.cuda.is_available())
        # λ = 0.9 weighs the batch with targets; the one without gets the CLM loss alone.
        trainer = FusionTrainer(model=_model(V, hidden, layers, T), args=args, clm_weight=0.9)
        trainer.create_optimizer()
        trainer.model.train()
        fuse, clm = _batches(B, T, V, K, args.device)
        times: dict[str, list[float]] = {"fuse": [], "clm": []}
        for i in range(warmup + repeats):
            for name, batch in (("fuse", fuse), ("clm", clm)):
                seconds = _step_seconds(trainer, batch)
                if i >= warmup:
                    times[name].append(seconds)
    fuse_s, clm_s = statistics.median(times["fuse"]), statistics.median(times["clm"])
    setup = f"Llama h{hidden} x{layers} layers, B{B} T{T} V{V} K{K}, {args.device}, "
    setup += f"median of {repeats} steps after {warmup}"
    return {"setup": setup, "fuse_s": fuse_s, "clm_s": clm_s, "ratio": fuse_s / clm_s}


def _print(result: dict[str, Any]) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"training step (compute_loss + backward + AdamW), {result['setup']}")
    print(f"fuse {result['fuse_s']:.3f} s, clm {result['clm_s']:.3f} s per step")
    verdict = "met" if result["ratio"] <= GOAL else "MISSED"
    print(f"fuse/clm step time ratio {result['ratio']:.2f} (goal <= {GOAL:.2f}: {verdict})")


if __name__ == "__main__":
    _print(bench_train())
