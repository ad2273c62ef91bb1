"""Evaluate several models at once, in a few long-lived processes, for `make eval` on small
machines.

Small models spend most of an evaluation in Python overhead and in compilers started by the
MultiPL-E executor, which one process cannot spread over the cores; ``evaluation.workers``
processes (each with its share of the cores as torch threads) keep them busy. Each worker is
the ordinary evaluation CLI on the same validated config (``run_eval --models-from-stdin``): it
evaluates the models it is handed one after another, exactly as a single process evaluates
them all, so its outputs and MLflow runs are those of a sequential run. A worker starts once
(importing torch, transformers, lm-eval and MLflow takes about 10 s on 2 cores), not once per
model, and takes the next model as soon as it finishes one; shared inputs (the task files) are
written once, before the workers start.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig

TAIL_LINES = 5
DONE = "evaluated model: "  # a worker's line after each model it finished


def _command(config: Path, layout: Layout, device: str) -> list[str]:
    runs = ["--runs", str(layout.runs), "--models-from-stdin", "--device", device]
    return [sys.executable, "-m", "evaluation.run_eval", "--config", str(config), *runs]


class _Queue:
    """The models still to evaluate; empty for everyone once a worker failed."""

    def __init__(self, models: list[str]) -> None:
        self._todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for model in models:
            self._todo.put(model)
        self.failed = threading.Event()

    def next(self) -> str | None:
        if self.failed.is_set():
            return None
        try:
            return self._todo.get_nowait()
        except queue.Empty:
            return None


def _worker(cmd: list[str], env: dict, todo: _Queue, on_done: Callable[[str], None]) -> None:
    """One worker process, handed models one at a time until none is left; a model that
    fails is one line naming it, with the end of the worker's output."""
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    with subprocess.Popen(cmd, env=env, text=True, **pipes) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            while (model := todo.next()) is not None:
                try:
                    proc.stdin.write(f"{model}\n")
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass  # the worker is gone: its output says why
                tail: deque[str] = deque(maxlen=TAIL_LINES)
                for line in proc.stdout:
                    if line.rstrip("\n") == DONE + model:
                        break
                    if line.strip():
                        tail.append(line.strip())
                else:
                    code, said = proc.wait(), " | ".join(tail)
                    raise SuiteError(f"evaluating '{model}' failed (exit {code}): {said}")
                on_done(model)
                print(f"evaluated {model}", flush=True)
        except BaseException:
            todo.failed.set()
            raise
        finally:
            proc.stdin.close()  # end of input: the worker exits


def evaluate_in_workers(
    cfg: SuiteConfig,
    layout: Layout,
    models: list[str],
    device: str,
    workers: int,
    on_done: Callable[[str], None],
) -> None:
    """Evaluate every model in ``workers`` processes, calling ``on_done`` as each succeeds;
    after a failure no model is started, and the first failure is raised."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    todo = _Queue(models)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / f"{cfg.name}.yaml"
        config.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
        cmd = _command(config, layout, device)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            running = [pool.submit(_worker, cmd, env, todo, on_done) for _ in range(workers)]
            for done in running:
                done.result()
