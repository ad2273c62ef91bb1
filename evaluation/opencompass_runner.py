"""Run OpenCompass on one checkpoint, in-process, and keep OpenCompass's own outputs.

The paper scored its generation suite with OpenCompass. One call builds the experiment config
OpenCompass's command line would (one HF model, greedy decoding, the given dataset configs) and
runs its own pipeline stages: `NaivePartitioner` -> `OpenICLInferTask` (inference) ->
`NaivePartitioner` -> `OpenICLEvalTask` (each dataset's evaluator and postprocessors) ->
`DefaultSummarizer`, all in this process. `out_dir/opencompass/` is OpenCompass's work dir
(``predictions/``, ``results/``, ``summary/``), rebuilt on every call so a changed limit or
model never reuses stale predictions. Beside it, in lm-eval's shape so `run_eval.log_results`
logs either harness the same way: ``results.json`` (``{"results": {dataset: {metric: value}},
"versions": {dataset: prompt hash}, "config": {...}}``), ``results.md`` (the summary table) and
``samples_<dataset>.jsonl`` (prompt, prediction, reference and evaluator details per item).

Scores are OpenCompass's: on its 0-100 scale, under its metric names. OpenCompass is imported
only inside the calls: the import takes seconds and reconfigures logging.

One known difference from lm-eval: OpenCompass's HF stop criterion looks back over the last
tokens including the prompt's, so when a prompt's last token itself contains a stop string
(e.g. a tokenizer that merges ``".\\nVelan:"``) it stops after one generated token.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from configs.errors import SuiteError
from configs.layout import atomic_dir
from evaluation.outputs import write_outputs
from fusion.models import check_model, context_length

HARNESS = "opencompass"
MAX_OUT_LEN = 512  # tokens, for dataset configs that set none (drop_gen's CoT, iwslt2017_gen)
MODEL = "opencompass.models.HuggingFaceBaseModel"


def harness_version() -> str:
    """The installed OpenCompass version, read without importing it."""
    return version("opencompass")


def model_config(
    model_path: str, *, batch_size: int, device: str, dtype: str, max_out_len: int
) -> dict[str, Any]:
    """OpenCompass's HF base-model config: greedy, no remote code, the model's own context."""
    return {
        "type": MODEL,
        "abbr": Path(model_path).name,
        "path": model_path,
        "max_out_len": max_out_len,
        "batch_size": batch_size,
        "max_seq_len": context_length(model_path),
        "model_kwargs": {"torch_dtype": dtype, "device_map": device, "trust_remote_code": False},
        # the tokenizer must not return token_type_ids: Llama's generate() rejects them
        "tokenizer_kwargs": {
            "trust_remote_code": False,
            "model_input_names": ["input_ids", "attention_mask"],
        },
        "generation_kwargs": {"do_sample": False, "num_beams": 1},
        "run_cfg": {"num_gpus": 1 if device.startswith("cuda") else 0},
    }


def placed(dataset: dict[str, Any], predictions: Path, limit: int | None) -> dict[str, Any]:
    """A copy of `dataset` capped at the first `limit` items, writing under `predictions`.

    OpenCompass's inferencers otherwise create ``./icl_inference_output`` in the working dir.
    """
    dataset = copy.deepcopy(dataset)
    if limit is not None:
        dataset["reader_cfg"]["test_range"] = f"[:{limit}]"
    dataset["infer_cfg"]["inferencer"]["output_json_filepath"] = str(predictions)
    return dataset


def run_pipeline(model: dict, datasets: list[dict], work: Path, limit: int | None) -> None:
    """OpenCompass's infer, eval and summary stages, in this process, under `work`.

    The summary is given the datasets as configured, so its prompt hashes (OpenCompass's
    version of a prompt) do not depend on the limit or the work dir.
    """
    from mmengine.config import Config
    from opencompass.partitioners import NaivePartitioner
    from opencompass.summarizers import DefaultSummarizer
    from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

    def experiment(datasets: list[dict]) -> Config:
        return Config(
            {
                "models": [model],
                "datasets": datasets,
                "work_dir": str(work),
                "eval": {"runner": {"task": {"dump_details": True}}},  # per-item scores
            }
        )

    cfg = experiment([placed(d, work / "predictions", limit) for d in datasets])
    n = len(datasets)  # one task for all: the model loads once
    for task in NaivePartitioner(out_dir=str(work / "predictions"), n=n)(cfg):
        OpenICLInferTask(task).run()
    for task in NaivePartitioner(out_dir=str(work / "results"), n=n)(cfg):
        OpenICLEvalTask(task).run()
    summarizer = DefaultSummarizer(config=experiment(datasets))
    summarizer.summarize(time_str=datetime.now().strftime("%Y%m%d_%H%M%S"))


def _per_item(details: Any) -> list:
    """An evaluator's details as one entry per item (some give a list, some a dict by index)."""
    if isinstance(details, dict):
        return [details[k] for k in sorted((k for k in details if k.isdigit()), key=int)]
    return list(details or [])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def collect(model: dict, datasets: list[dict], work: Path) -> tuple[dict, dict[str, list]]:
    """(results, samples): OpenCompass's scores, prompt hashes and per-item records."""
    from mmengine.config import ConfigDict
    from opencompass.utils import dataset_abbr_from_cfg, get_infer_output_path
    from opencompass.utils.prompt import get_prompt_hash

    def read(dataset: dict, stage: str) -> dict:
        return json.loads(Path(get_infer_output_path(model, dataset, work / stage)).read_text())

    results: dict[str, dict] = {}
    versions, counts, samples = {}, {}, {}
    for dataset in datasets:
        abbr = dataset_abbr_from_cfg(dataset)
        scored, predicted = read(dataset, "results"), read(dataset, "predictions")
        if "error" in scored:
            raise SuiteError(f"OpenCompass could not score {abbr}: {scored['error']}")
        results[abbr] = {k: v for k, v in scored.items() if _number(v)}
        rows = [predicted[str(i)] for i in range(len(predicted))]
        details = _per_item(scored.get("details"))
        samples[abbr] = [
            {"doc_id": i, **row} | ({"details": details[i]} if len(details) == len(rows) else {})
            for i, row in enumerate(rows)
        ]
        versions[abbr] = get_prompt_hash(ConfigDict(copy.deepcopy(dataset)))[:6]
        counts[abbr] = {"effective": len(rows)}
    return {"results": results, "versions": versions, "n-samples": counts}, samples


def summary_rows(results: dict[str, dict], groups: dict[str, list[str]]) -> dict[str, dict]:
    """A row per summary group whose subsets all have results: the unweighted mean of each
    metric they all report, as OpenCompass's summarizer averages a group."""
    rows = {}
    for group, subsets in groups.items():
        if not subsets or any(s not in results for s in subsets):
            continue
        shared = set.intersection(*(set(results[s]) for s in subsets))
        rows[group] = {m: sum(results[s][m] for s in subsets) / len(subsets) for m in shared}
    return rows


def run_opencompass(
    model_path: str,
    datasets: list[dict],
    out_dir: Path,
    *,
    batch_size: int,
    limit: int | None,
    device: str = "cpu",
    dtype: str = "float32",
    max_out_len: int = MAX_OUT_LEN,
    groups: dict[str, list[str]] | None = None,
) -> dict:
    """Evaluate one checkpoint on OpenCompass dataset configs; return what results.json holds.

    Args:
        model_path: checkpoint directory (or hub id, resolved from the local cache).
        datasets: OpenCompass dataset configs (`evaluation.opencompass_datasets`).
        out_dir: where OpenCompass's work dir and the lm-eval-shaped outputs go.
        batch_size: prompts per generate() call.
        limit: first items per dataset (None: all).
        device: torch device, e.g. "cpu" or "cuda".
        dtype: weights dtype, e.g. "float32" or "bfloat16".
        max_out_len: new tokens for datasets whose config sets no length.
        groups: summary groups (name -> dataset abbrs) to add as mean rows (`summary_rows`).
    """
    check_model(model_path)
    if not datasets:
        raise SuiteError("no OpenCompass datasets to run: select a generation task")
    model = model_config(
        model_path, batch_size=batch_size, device=device, dtype=dtype, max_out_len=max_out_len
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "opencompass"
    with atomic_dir(final) as work:
        run_pipeline(model, datasets, work, limit)
    results, samples = collect(model, datasets, final)
    results["results"] |= summary_rows(results["results"], groups or {})
    results["config"] = {
        "harness": HARNESS,
        "harness_version": harness_version(),
        "model": MODEL,
        "model_args": {k: v for k, v in model.items() if k not in ("type", "run_cfg")},
        "batch_size": batch_size,
        "limit": limit,
        "device": device,
    }
    summary = max((final / "summary").glob("summary_*.md"))
    write_outputs(out_dir, results, summary.read_text(), samples)
    return json.loads((out_dir / "results.json").read_text())
