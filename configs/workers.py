"""Spread a stage's independent models over a few long-lived worker processes (``workers``).

Small models spend part of their time in Python overhead and in single-threaded kernels,
which one process cannot spread over the cores; ``workers`` processes, each with its share of
the stage's threads as torch threads (``OMP_NUM_THREADS`` when set, as `make reproduce` sets
it for stages that run side by side; else the cores), keep more of them busy. For training
the gain is modest (`make bench`, row "workers": 1.24x with two workers on 2 cores);
evaluation also waits on compilers and test programs. Each worker is the stage's ordinary
CLI on the same validated config, started once (importing torch, transformers and MLflow
takes seconds) with ``--from-stdin``: it handles the items it is handed one after another,
exactly as a single process handles them all, and prints ``DONE <item>`` after each; the
parent hands out the next item as soon as a worker is free. Shared inputs must exist before
the workers start (the caller prepares them).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from configs import tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig

TAIL_LINES = 5
DONE = "done: "  # a worker's line after each item it finished
FROM_STDIN = "--from-stdin"


class _Queue:
    """The items still to hand out; empty for everyone once a worker failed."""

    def __init__(self, items: list[str]) -> None:
        self._todo: queue.SimpleQueue[str] = queue.SimpleQueue()
        for item in items:
            self._todo.put(item)
        self.failed = threading.Event()

    def next(self) -> str | None:
        if self.failed.is_set():
            return None
        try:
            return self._todo.get_nowait()
        except queue.Empty:
            return None


def _worker(
    cmd: list[str], env: dict, todo: _Queue, on_done: Callable[[str], None], verb: str
) -> None:
    """One worker process, handed items one at a time until none is left; an item that fails
    is one line naming it, with the end of the worker's output."""
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
    with subprocess.Popen(cmd, env=env, text=True, **pipes) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            while (item := todo.next()) is not None:
                try:
                    proc.stdin.write(f"{item}\n")
                    proc.stdin.flush()
                except BrokenPipeError:
                    pass  # the worker is gone: its output says why
                tail: deque[str] = deque(maxlen=TAIL_LINES)
                for line in proc.stdout:
                    if line.rstrip("\n") == DONE + item:
                        break
                    if line.strip():
                        tail.append(line.strip())
                else:
                    code, said = proc.wait(), " | ".join(tail)
                    raise SuiteError(f"{verb} '{item}' failed (exit {code}): {said}")
                on_done(item)
                print(f"{verb} {item}: done", flush=True)
        except BaseException:
            todo.failed.set()
            raise
        finally:
            proc.stdin.close()  # end of input: the worker exits


def run_in_workers(
    cmd: list[str],
    items: list[str],
    workers: int,
    on_done: Callable[[str], None] = lambda item: None,
    verb: str = "running",
) -> None:
    """Hand every item to one of ``workers`` processes running ``cmd``, calling ``on_done``
    as each succeeds; after a failure no item is started, and the first failure is raised."""
    budget = int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)  # this stage's cores
    threads = str(max(1, budget // workers))
    env = os.environ | {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    todo = _Queue(items)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = [pool.submit(_worker, cmd, env, todo, on_done, verb) for _ in range(workers)]
        for done in running:
            done.result()


def run_stage_in_workers(
    cfg: SuiteConfig,
    layout: Layout,
    module: str,
    items: list[str],
    on_done: Callable[[str], None] = lambda item: None,
    extra: tuple[str, ...] = (),
    verb: str = "running",
) -> None:
    """`run_in_workers` with the stage CLI ``python -m module`` on this very config (written
    whole to a temp file: ``--set`` overrides included), ``min(cfg.workers, len(items))``
    processes. The MLflow store and experiment are created first, so that the workers never
    race to create the sqlite schema."""
    workers = min(cfg.workers, len(items))
    if not workers:
        return
    tracking.experiment_id(layout)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / f"{cfg.name}.yaml"
        config.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
        args = ["--config", str(config), "--runs", str(layout.runs), FROM_STDIN, *extra]
        run_in_workers([sys.executable, "-m", module, *args], items, workers, on_done, verb)


def serve(handle: Callable[[str], object], lines: Iterable[str] | None = None) -> None:
    """The worker side: handle each item named on a line of ``lines`` (stdin), then say it
    is done."""
    for line in sys.stdin if lines is None else lines:
        if item := line.strip():
            handle(item)
            print(f"{DONE}{item}", flush=True)
