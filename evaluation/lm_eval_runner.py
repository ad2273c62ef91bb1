"""Run lm-evaluation-harness on one checkpoint and keep the harness's own outputs.

One call is one `lm_eval.simple_evaluate` with the HF backend. It writes, under `out_dir`:
``results.json`` (the harness's results, configs, versions, n-shot and higher_is_better, as
its EvaluationTracker would), ``results.md`` (its `make_table`), ``samples_<task>.jsonl``
(every prompt, response and score), and, with ``request_cache``, ``cache/`` (lm-eval's
request cache, so a re-run only computes what changed). The environment record lm-eval adds
to every results.json (torch's ``collect_env``, which runs ``pip list`` and other tools: about
a second per call, more than a tiny suite's requests) is taken once per process and reused by
later suites.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from unittest import mock

import lm_eval
import lm_eval.evaluator
from lm_eval.loggers.utils import add_env_info
from lm_eval.tasks import TaskManager
from lm_eval.utils import handle_non_serializable, make_table

from configs import registry
from configs.errors import SuiteError
from evaluation.outputs import write_outputs
from fusion.models import check_model, context_length


@functools.cache
def builtin_tasks() -> TaskManager:
    """lm-eval's built-in task index: reads ~15k YAML files (about 15 s), so once per process."""
    return TaskManager()


@functools.cache
def environment() -> dict[str, Any]:
    """lm-eval's environment record (pretty_env_info, versions, git hash), once per process:
    it does not change between the suites a process evaluates."""
    record: dict[str, Any] = {}
    add_env_info(record)
    return record


def _add_environment(storage: dict[str, Any]) -> None:
    storage.update(environment())


def task_manager(tasks: list[str], include_path: Path | None) -> TaskManager:
    """The smallest lm-eval task index that knows every task.

    The tiny tasks alone index in a second; the built-in registry is read only when needed.

    Raises:
        SuiteError: a task is in neither index; names the nearest valid names.
    """
    local = None
    if include_path is not None:
        local = TaskManager(include_path=str(include_path), include_defaults=False)
        if set(tasks) <= set(local.all_tasks):
            return local
    full = builtin_tasks()
    if set(tasks) <= set(full.all_tasks):
        return full
    known = sorted(set(full.all_tasks) | set(local.all_tasks if local else ()))
    for task in tasks:
        if task not in known:
            hint = registry.hint(task, known, "list them: lm_eval ls tasks")
            raise SuiteError(f"unknown lm-eval task '{task}': {hint}")
    return TaskManager(include_path=str(include_path))  # tiny and built-in tasks together


def run_lm_eval(
    model_path: str,
    tasks: list[str],
    include_path: Path | None,
    out_dir: Path,
    batch_size: int,
    limit: int | None,
    device: str = "cpu",
    dtype: str = "float32",
    request_cache: bool = True,
) -> dict:
    """Evaluate one checkpoint on lm-eval tasks; return what ``results.json`` holds.

    Args:
        model_path: checkpoint directory (or hub id, resolved from the local cache).
        tasks: lm-eval task or group names.
        include_path: extra task directory (the tiny world's), or None.
        out_dir: where the outputs and the request cache go.
        batch_size: lm-eval batch size.
        limit: items per task (None: all).
        device: torch device, e.g. "cpu" or "cuda".
        dtype: weights dtype for the HF backend.
        request_cache: keep lm-eval's request cache under ``out_dir/cache``.
    """
    check_model(model_path)
    manager = task_manager(tasks, include_path)
    cache = out_dir / "cache" / "lm" if request_cache else None
    (cache.parent if cache else out_dir).mkdir(parents=True, exist_ok=True)
    model_args = f"pretrained={model_path},dtype={dtype}"
    if (window := context_length(model_path)) is not None:
        model_args += f",max_length={window}"
    with mock.patch.object(lm_eval.evaluator, "add_env_info", _add_environment):
        results = lm_eval.simple_evaluate(
            model="hf",
            model_args=model_args,
            tasks=tasks,
            task_manager=manager,
            batch_size=batch_size,
            device=device,
            limit=limit,
            log_samples=True,
            use_cache=str(cache) if cache is not None else None,
        )
    samples = results.pop("samples")
    table = make_table(results) + (make_table(results, "groups") if results.get("groups") else "")
    write_outputs(out_dir, results, table, samples, default=handle_non_serializable)
    return json.loads((out_dir / "results.json").read_text())
