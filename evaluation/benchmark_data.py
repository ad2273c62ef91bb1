"""Every benchmark dataset the eval stage of a config opens, so ``make prefetch`` can fetch it.

The list is derived from the same definitions the harnesses load, never typed a second time:
the eval stage's own task plan (`evaluation.evaluate.plan_tasks`), then for an lm-eval task its
YAML's ``dataset_path`` / ``dataset_name`` / ``dataset_kwargs`` (what its ``ConfigurableTask``
passes to ``datasets.load_dataset``); for an OpenCompass config its dataset entries (a Hugging
Face dataset for IWSLT2017, else a path under OpenCompass's data folder); for MultiPL-E the
``nuprl/MultiPL-E`` config ``humaneval-<lang>`` of each language, at bigcode-evaluation-
harness's pinned revision when it is installed. Tiny and real-item configs read only files
they write themselves: nothing to fetch.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs.errors import SuiteError
from configs.schema import SuiteConfig
from evaluation.evaluate import plan_tasks, uses_opencompass
from evaluation.lm_eval_runner import builtin_tasks
from evaluation.opencompass_datasets import config_datasets

MULTIPLE_DATASET = "nuprl/MultiPL-E"  # bigcode-evaluation-harness's multiple-<lang> data


@dataclass(frozen=True)
class BenchmarkData:
    """One dataset an eval run opens: a Hugging Face dataset (``hf``: repo id, config name,
    ``load_dataset`` keyword arguments) or OpenCompass data (``opencompass``: its path relative
    to ``COMPASS_DATA_CACHE``, fetched with OpenCompass's own downloader)."""

    kind: str
    id: str
    name: str | None = None
    kwargs: tuple[tuple[str, Any], ...] = ()
    used_by: tuple[str, ...] = ()

    def label(self) -> str:
        """``allenai/ai2_arc [ARC-Easy]`` / ``./data/triviaqa/ (OpenCompass data)``."""
        if self.kind == "opencompass":
            return f"{self.id} (OpenCompass data)"
        extra = f" [{self.name}]" if self.name else ""
        revision = dict(self.kwargs).get("revision")
        return f"{self.id}{extra}" + (f" @ {revision}" if revision else "")


def _frozen(kwargs: dict[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, str(v)) for k, v in (kwargs or {}).items()))


def lm_eval_data(tasks: list[str]) -> list[BenchmarkData]:
    """The dataset of each lm-eval task, from its YAML (includes resolved, functions not).

    Raises:
        SuiteError: a task lm-eval does not know, or one defined without a YAML.
    """
    from lm_eval.tasks._yaml_loader import load_yaml  # lm-eval 0.4.13's plain YAML reader

    index = builtin_tasks().task_index
    found = []
    for task in tasks:
        entry = index.get(task)
        if entry is None or entry.yaml_path is None:
            raise SuiteError(f"lm-eval task '{task}' has no YAML config to read its dataset from")
        body = load_yaml(entry.yaml_path, resolve_func=False)
        kwargs = _frozen(body.get("dataset_kwargs"))
        found.append(
            BenchmarkData("hf", body["dataset_path"], body.get("dataset_name"), kwargs, (task,))
        )
    return found


def opencompass_data(configs: list[str]) -> list[BenchmarkData]:
    """The data of each OpenCompass dataset config (installed OpenCompass's own entries)."""
    from opencompass.utils.datasets_info import DATASETS_MAPPING

    found = []
    for config in configs:
        for dataset in config_datasets(config):
            if str(dataset["type"]).endswith("IWSLT2017Dataset"):  # datasets.load_dataset(**)
                found.append(BenchmarkData("hf", dataset["path"], dataset["name"], (), (config,)))
                continue
            path = str(dataset["path"])
            local = DATASETS_MAPPING.get(path, {}).get("local", path)
            if str(dataset["type"]).endswith("ScibenchDataset"):  # one JSON per subset
                local = os.path.join(local, f"{dataset['name']}.json")
            found.append(BenchmarkData("opencompass", local, None, (), (config,)))
    return found


def multiple_data(languages: list[str]) -> list[BenchmarkData]:
    """MultiPL-E's HumanEval in each language, at the harness's pinned revision if installed."""
    try:
        task = importlib.import_module("bigcode_eval.tasks.multiple").GeneralMultiPLE
        path, kwargs = task.DATASET_PATH, _frozen({"revision": task.DATASET_REVISION})
    except ImportError:  # not on PyPI; the eval stage names the install
        path, kwargs = MULTIPLE_DATASET, ()
    return [
        BenchmarkData("hf", path, f"humaneval-{lang}", kwargs, (f"multiple-{lang}",))
        for lang in languages
    ]


def _merged(items: list[BenchmarkData]) -> list[BenchmarkData]:
    """One entry per dataset, in first-use order, listing every task that reads it."""
    merged: dict[tuple, BenchmarkData] = {}
    for item in items:
        key = (item.kind, item.id, item.name, item.kwargs)
        seen = merged.get(key)
        used = tuple(dict.fromkeys((seen.used_by if seen else ()) + item.used_by))
        merged[key] = BenchmarkData(item.kind, item.id, item.name, item.kwargs, used)
    return list(merged.values())


def benchmark_data(cfg: SuiteConfig) -> list[BenchmarkData]:
    """Every dataset the eval stage of ``cfg`` opens, each once."""
    if cfg.is_tiny or cfg.evaluation.items == "real":
        return []
    suites = list(cfg.evaluation.suites)
    items = []
    for suite, tasks in plan_tasks(cfg, suites, None).items():
        opencompass = uses_opencompass(cfg, suite)
        items += opencompass_data(tasks) if opencompass else lm_eval_data(tasks)
    if "multiple" in suites:
        items += multiple_data(list(cfg.evaluation.multiple_languages))
    return _merged(items)


def present(item: BenchmarkData) -> bool:
    """Whether OpenCompass data is on disk already (Hugging Face datasets are always asked
    for: ``load_dataset`` reuses its cache and checks the revision)."""
    if item.kind != "opencompass":
        return False
    from opencompass.utils.datasets import DEFAULT_DATA_FOLDER

    cache = os.environ.get("COMPASS_DATA_CACHE", "")
    return (Path(cache) / item.id).exists() or (Path(DEFAULT_DATA_FOLDER) / item.id).exists()


def fetch_data(item: BenchmarkData) -> None:
    """Download one dataset where its harness will read it offline."""
    if item.kind == "hf":
        import datasets

        datasets.load_dataset(item.id, item.name, **dict(item.kwargs))
        return
    from opencompass.utils.datasets import download_dataset

    cache = os.environ.get("COMPASS_DATA_CACHE", "")
    if "scibench" in item.id:  # OpenCompass has no download of its own for SciBench
        where = Path(cache or ".").resolve() / "data/scibench"
        raise SuiteError(
            "OpenCompass does not distribute SciBench: copy the SciBench dataset's JSON files "
            f"(github.com/mandyyyyii/scibench) into {where}"
        )
    download_dataset(item.id, cache)
