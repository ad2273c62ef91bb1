"""Run lm-evaluation-harness on one checkpoint and keep the harness's own outputs.

One call is one `lm_eval.simple_evaluate` with the HF backend. It writes, under `out_dir`:
``results.json`` (the harness's results, configs, versions, n-shot and higher_is_better, as
its EvaluationTracker would), ``results.md`` (its `make_table`), ``samples_<task>.jsonl``
(every prompt, response and score), and ``cache/`` (lm-eval's request cache, so a re-run only
computes what changed).
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path

import lm_eval
from lm_eval.tasks import TaskManager
from lm_eval.utils import handle_non_serializable, make_table
from transformers import AutoConfig, AutoTokenizer

from configs.errors import SuiteError
from evaluation.outputs import write_outputs


@functools.cache
def builtin_tasks() -> TaskManager:
    """lm-eval's built-in task index: reads ~15k YAML files (about 15 s), so once per process."""
    return TaskManager()


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
            close = difflib.get_close_matches(task, known, n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else "list them: lm_eval ls tasks"
            raise SuiteError(f"unknown lm-eval task '{task}': {hint}")
    return TaskManager(include_path=str(include_path))  # tiny and built-in tasks together


def check_model(model_path: str) -> None:
    """Fail in one line before the harness starts if the checkpoint cannot be loaded.

    A path must be a directory with ``config.json``; an ``org/name`` hub id is left to the
    local Hugging Face cache (``make prefetch``).
    """
    path = Path(model_path)
    is_hub_id = model_path.count("/") == 1 and not model_path.startswith((".", "/", "~"))
    if (path.exists() or not is_hub_id) and not (path / "config.json").is_file():
        raise SuiteError(f"no model checkpoint at {model_path} (no config.json): build it first")
    try:
        AutoTokenizer.from_pretrained(model_path)
    except Exception as err:  # any loader failure becomes one line naming the model
        reason = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
        raise SuiteError(f"cannot load the tokenizer of {model_path}: {reason}") from None


_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len")


def context_length(model_path: str) -> int | None:
    """The model's context window from its config.

    lm-eval reads only the first three keys and would feed an MPT model (``max_seq_len``)
    prompts longer than its ALiBi table; passing ``max_length`` makes it truncate instead.
    """
    config = AutoConfig.from_pretrained(model_path)
    sizes = (getattr(config, key, None) for key in _CONTEXT_KEYS)
    return next((size for size in sizes if isinstance(size, int)), None)


def run_lm_eval(
    model_path: str,
    tasks: list[str],
    include_path: Path | None,
    out_dir: Path,
    batch_size: int,
    limit: int | None,
    device: str = "cpu",
    dtype: str = "float32",
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
    """
    check_model(model_path)
    manager = task_manager(tasks, include_path)
    (out_dir / "cache").mkdir(parents=True, exist_ok=True)
    model_args = f"pretrained={model_path},dtype={dtype}"
    if (window := context_length(model_path)) is not None:
        model_args += f",max_length={window}"
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=model_args,
        tasks=tasks,
        task_manager=manager,
        batch_size=batch_size,
        device=device,
        limit=limit,
        log_samples=True,
        use_cache=str(out_dir / "cache" / "lm"),
    )
    samples = results.pop("samples")
    table = make_table(results) + (make_table(results, "groups") if results.get("groups") else "")
    write_outputs(out_dir, results, table, samples, default=handle_non_serializable)
    return json.loads((out_dir / "results.json").read_text())
