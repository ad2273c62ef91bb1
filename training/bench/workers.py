"""Benchmark ``workers``: the same CLM pretraining jobs in one process with every core as torch
threads, one after another, vs in ``configs.workers`` processes with a share of the cores each.

A job is what ``make world`` does per model, at the tiny config's target size: build the model
from its ``build`` spec, pack random token documents, and train through ``train_clm`` (the
Trainer). Both arms run the same jobs in the same run, back to back. Run
``python -m training.bench.workers`` (``make bench``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset

from configs.architectures import build_config
from configs.loader import load_config
from configs.workers import FROM_STDIN, run_in_workers, serve
from training.causal_lm import clm_arguments, train_clm

CONFIG = Path(__file__).resolve().parents[2] / "configs/tiny.yaml"
JOBS, STEPS = 4, 60


def job(seed: int, steps: int = STEPS) -> float:
    """Pretrain the tiny target's architecture on random tokens; its last logged loss."""
    from transformers import AutoModelForCausalLM

    spec = load_config(CONFIG).models.target.build
    assert spec is not None
    special = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2}
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(build_config(spec, 3000, special))
    gen = torch.Generator().manual_seed(seed)
    blocks = torch.randint(3, 3000, (spec.batch_size * steps, spec.seq_len), generator=gen)
    data = Dataset.from_dict({"input_ids": blocks.tolist(), "labels": blocks.tolist()})
    with tempfile.TemporaryDirectory() as out:
        args = clm_arguments(
            Path(out),
            steps=steps,
            batch_size=spec.batch_size,
            lr=spec.lr,
            seed=seed,
            logging_steps=steps,
            disable_tqdm=True,
        )
        history = train_clm(model, data, args)
    return next(r["loss"] for r in reversed(history) if "loss" in r)


def bench_workers(jobs: int = JOBS, workers: int = 2) -> dict[str, object]:
    """Seconds for ``jobs`` jobs: serial (all threads) vs ``workers`` processes."""
    cores = os.cpu_count() or 1
    cmd = [sys.executable, "-m", "training.bench.workers", FROM_STDIN]
    start = time.perf_counter()
    run_in_workers(cmd, [str(s) for s in range(jobs)], 1, verb="serial job")
    serial = time.perf_counter() - start
    start = time.perf_counter()
    run_in_workers(cmd, [str(s) for s in range(jobs)], workers, verb="worker job")
    parallel = time.perf_counter() - start
    setup = f"{jobs} tiny-target CLM jobs x {STEPS} steps, {cores} cores"
    return {
        "bench": "workers",
        "setup": setup,
        "serial_s": f"{serial:.1f}",
        f"workers{workers}_s": f"{parallel:.1f}",
        "speedup": f"{serial / parallel:.2f}x",
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(FROM_STDIN, action="store_true", help="run each job seed read from stdin")
    if p.parse_args().from_stdin:
        serve(lambda seed: print(f"job {seed}: final loss {job(int(seed)):.4f}", flush=True))
    else:
        print("  ".join(f"{k}={v}" for k, v in bench_workers().items()))
