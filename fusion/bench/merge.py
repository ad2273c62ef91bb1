"""Benchmark of weight merging: peak memory of each method relative to one model's size.

Merges a randomly initialised 8-layer Llama (tied embeddings) with three seeded fine-tunes
through :func:`fusion.merge.driver.merge_checkpoints`, each method in a fresh process. Peak
memory is the process's anonymous resident memory (``RssAnon``, sampled every millisecond;
the checkpoints' memory-mapped pages are file-backed and not counted) above its level before
the merge, divided by one model's tensor bytes. The per-tensor temporaries scale
with the largest tensor, so the model keeps Llama-2-7B's proportions roughly: its largest
tensor (the embedding) is 4% of it (7B: 2%); an embedding-heavy model has higher ratios.
Usage: ``python -m fusion.bench.merge``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fusion.merge.driver import merge_checkpoints

# method: (models merged, takes the base, params)
CASES = {
    "linear": (3, False, {}),
    "task_arithmetic": (3, True, {}),
    "ties": (3, True, {"density": 0.5}),
    "dare_ties": (3, True, {"density": 0.5}),
    "dare_linear": (3, True, {"density": 0.5}),
    "breadcrumbs": (3, True, {"density": 0.5}),
    "breadcrumbs_ties": (3, True, {"density": 0.5}),
    "della": (3, True, {"density": 0.5}),
    "della_linear": (3, True, {"density": 0.5}),
    "model_stock": (3, True, {}),
    "slerp": (2, False, {"t": 0.5}),
    "sce": (3, True, {"select_topk": 0.1}),
    "varm": (3, True, {}),
}


def _anon_kib() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError("no RssAnon in /proc/self/status")


def _child(root: Path, method: str) -> None:
    """Merge once in this process and print the peak anonymous memory above the start."""
    count, with_base, params = CASES[method]
    start, peak, done = _anon_kib(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _anon_kib())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    merge_checkpoints(
        [str(root / f"m{i}") for i in range(count)],
        str(root / f"out-{method}"),
        method,
        params,
        base=str(root / "base") if with_base else None,
    )
    done.set()
    sampler.join()
    print(json.dumps({"peak_kib": max(peak[0], _anon_kib()) - start}))


def _build(root: Path) -> int:
    """Save the base and three fine-tunes; return one model's tensor bytes."""
    import torch
    from tokenizers import Tokenizer, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    config = LlamaConfig(
        vocab_size=2048,
        hidden_size=512,
        intermediate_size=1376,
        num_hidden_layers=8,
        num_attention_heads=8,
        max_position_embeddings=256,
        tie_word_embeddings=True,
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"a": 0}, "a")))
    torch.manual_seed(0)
    base = LlamaForCausalLM(config)
    base.save_pretrained(root / "base")
    tok.save_pretrained(root / "base")
    for i in range(3):
        tuned = LlamaForCausalLM(config)
        tuned.load_state_dict(
            {k: v + 0.01 * torch.randn_like(v) for k, v in base.state_dict().items()}
        )
        tuned.save_pretrained(root / f"m{i}")
        tok.save_pretrained(root / f"m{i}")
    return (root / "base" / "model.safetensors").stat().st_size


def bench_merge() -> list[dict]:
    """Each method's peak memory over one model's size, measured in one run."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = _build(root)
        for method in CASES:
            run = subprocess.run(
                [sys.executable, "-m", "fusion.bench.merge", "--child", tmp, method],
                capture_output=True,
                text=True,
                check=True,
            )
            peak = json.loads(run.stdout.strip().splitlines()[-1])["peak_kib"] * 1024
            rows.append(
                {
                    "name": f"merge peak memory ({method}, {size / 2**20:.0f} MiB model)",
                    "peak_over_model": round(peak / size, 2),
                }
            )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(Path(sys.argv[2]), sys.argv[3])
    else:
        for row in bench_merge():
            print("  ".join(f"{key}={value}" for key, value in row.items()))
