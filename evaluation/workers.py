"""Evaluate several models at once, one process per model, for `make eval` on small machines.

Small models spend most of an evaluation in Python overhead and in compilers started by the
MultiPL-E executor, which one process cannot spread over the cores; ``evaluation.workers``
processes (each with its share of the cores as torch threads) keep them busy. Each worker is
the ordinary single-model CLI (``run_eval --model``) on the same validated config, so its
outputs and MLflow run are exactly those of a sequential run; shared inputs (the task files)
are written once, before the workers start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig

TAIL_LINES = 5


def _command(config: Path, layout: Layout, model: str, device: str) -> list[str]:
    runs = ["--runs", str(layout.runs), "--model", model, "--device", device]
    return [sys.executable, "-m", "evaluation.run_eval", "--config", str(config), *runs]


def evaluate_in_workers(
    cfg: SuiteConfig,
    layout: Layout,
    models: list[str],
    device: str,
    workers: int,
    on_done: Callable[[str], None],
) -> None:
    """Run ``run_eval --model`` for every model, ``workers`` at a time, calling ``on_done``
    as each succeeds; fail in one line naming the first model whose evaluation failed, with
    the end of its output."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / f"{cfg.name}.yaml"
        config.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))

        def run(model: str) -> tuple[str, subprocess.CompletedProcess]:
            cmd = _command(config, layout, model, device)
            return model, subprocess.run(cmd, env=env, capture_output=True, text=True)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for model, done in pool.map(run, models):
                if done.returncode != 0:
                    lines = (done.stderr or done.stdout).strip().splitlines()
                    tail = " | ".join(lines[-TAIL_LINES:])
                    code = done.returncode
                    raise SuiteError(f"evaluating '{model}' failed (exit {code}): {tail}")
                on_done(model)
                print(f"evaluated {model}", flush=True)
