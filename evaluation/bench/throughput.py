"""Eval throughput, ours vs lm-eval's default HF settings, on the same items in one run.

Ours is `evaluation.lm_eval_runner.run_lm_eval` as ``make eval`` calls it (the tiny config's
batch size and request-cache setting, the written outputs); the default is a plain
``lm_eval.simple_evaluate(model="hf", batch_size=1)`` without cache. Both score the same
items of the bench's tasks (`evaluation.bench.inputs`) with the same random-init Llama, once
for the loglikelihood (multiple-choice) tasks and once for the chain-of-thought generation
task. Each call is timed whole (task loading, model loading, requests, scoring), after an
untimed warm-up that loads every dataset once, so neither side pays first-use costs. The two
must agree sample for sample: every metric and every generated text, else `ScoreMismatch`.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import lm_eval
import torch
from lm_eval.tasks import TaskManager
from lm_eval.utils import handle_non_serializable

from configs.loader import load_config
from evaluation.bench.inputs import BBH, COMMONSENSE, build_checkpoint, write_tasks
from evaluation.lm_eval_runner import run_lm_eval

OURS = load_config(Path(__file__).parents[2] / "configs" / "tiny.yaml").evaluation
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # both sides, as `make eval` picks it
Samples = dict[tuple[str, int], dict[str, Any]]  # (task, doc_id) -> the sample's record


class ScoreMismatch(AssertionError):
    """The two settings scored an item differently: the speed-up would change results."""


def _keyed(samples: dict[str, list[dict]]) -> Samples:
    return {(task, row["doc_id"]): row for task, rows in samples.items() for row in rows}


def ours(model: str, tasks: list[str], include: Path, out: Path, limit: int) -> Samples:
    """The samples ``run_lm_eval`` wrote (one ``samples_<task>.jsonl`` per task)."""
    run_lm_eval(
        model, tasks, include, out, OURS.batch_size, limit, DEVICE, request_cache=OURS.request_cache
    )
    read = {t: (out / f"samples_{t}.jsonl").read_text().splitlines() for t in tasks}
    return _keyed({t: [json.loads(line) for line in lines] for t, lines in read.items()})


def default(model: str, tasks: list[str], include: Path, limit: int) -> Samples:
    """lm-eval's defaults for an HF checkpoint: batch size 1, no request cache."""
    manager = TaskManager(include_path=str(include), include_defaults=False)
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model}",
        tasks=tasks,
        task_manager=manager,
        batch_size=1,
        device=DEVICE,
        limit=limit,
        log_samples=True,
    )
    # as `run_lm_eval` writes them, so both sides compare in one representation
    text = json.dumps(results["samples"], default=handle_non_serializable)
    return _keyed(json.loads(text))


def _loglikelihoods(row: dict) -> list[float]:
    """The loglikelihood of each choice (a multiple-choice sample's ``resps``)."""
    return [float(resp[0][0]) for resp in row["resps"]]


def compare(mine: Samples, theirs: Samples) -> float:
    """Check that both scored the same items the same; return the largest loglikelihood
    difference of any choice (0.0 for generation: its texts must match exactly).

    Raises:
        ScoreMismatch: an item only one side scored, or the first differing metric or text.
    """
    if mine.keys() != theirs.keys():
        raise ScoreMismatch(f"different items: {sorted(mine.keys() ^ theirs.keys())[:3]}")
    gap = 0.0
    for key, row in mine.items():
        other = theirs[key]
        for name in row["metrics"]:
            if row[name] != other[name]:
                raise ScoreMismatch(f"{key}: {name} {row[name]} vs {other[name]}")
        if isinstance(row["resps"][0][0], str):
            for field in ("resps", "filtered_resps"):
                if row[field] != other[field]:
                    raise ScoreMismatch(f"{key}: {field} {row[field]!r} vs {other[field]!r}")
        else:
            pairs = zip(_loglikelihoods(row), _loglikelihoods(other), strict=True)
            gap = max([gap, *(abs(a - b) for a, b in pairs)])
    return gap


def side_by_side(
    kind: str, tasks: list[str], model: str, include: Path, tmp: Path, limit: int, repeats: int
) -> dict:
    """One row: items/s of both settings on ``tasks``, every round checked identical.

    Rounds alternate the two settings, so load drift on a shared machine hits both; each
    side's fastest round counts. Ours starts each round with an empty request cache (if any).
    """
    best = {"ours": float("inf"), "default": float("inf")}
    gap = 0.0
    for i in range(repeats):
        start = time.perf_counter()
        mine = ours(model, tasks, include, tmp / f"{kind}{i}", limit)
        middle = time.perf_counter()
        theirs = default(model, tasks, include, limit)
        best["ours"] = min(best["ours"], middle - start)
        best["default"] = min(best["default"], time.perf_counter() - middle)
        gap = max(gap, compare(mine, theirs))
    return {
        "name": f"eval {kind}",
        "items": len(mine),
        "ours_items_per_s": round(len(mine) / best["ours"], 2),
        "default_items_per_s": round(len(mine) / best["default"], 2),
        "ratio": round(best["default"] / best["ours"], 2),
        "identical_scores": True,  # compare raised otherwise
        "max_loglik_diff": f"{gap:.1e}",
    }


def bench_eval(loglik_items: int = 40, gen_items: int = 24, repeats: int = 3) -> list[dict]:
    """Loglikelihood and generation rows (items per task: ``loglik_items`` for each of the
    five CommonSense tasks, ``gen_items`` for the BBH task; best of ``repeats`` rounds)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = str(build_checkpoint(root / "model"))
        include = root / "tasks"
        write_tasks(include, max(loglik_items, gen_items))
        ours(model, [*COMMONSENSE, BBH], include, root / "warm-up", 1)
        return [
            side_by_side(
                "loglikelihood", list(COMMONSENSE), model, include, root, loglik_items, repeats
            ),
            side_by_side("generation", [BBH], model, include, root, gen_items, repeats),
        ]
