"""lm-eval task files: JSONL data per split plus one YAML per task, and the hooks beside them.

One writer for every source of items (the tiny world's, the real BIG-bench ones), so both go
through the same prompt, shots, answer filter and metric. Every YAML carries
``metadata.version``, given by the caller: reports never mix versions.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from evaluation.tasks.docs import Doc


class Hook(str):
    """A hook reference, written as lm-eval's ``!function utils.name`` YAML tag."""


class _Dumper(yaml.SafeDumper):
    """Writes hooks as ``!function`` and prompts with newlines as readable ``"...\\n..."``."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar(
            "tag:yaml.org,2002:str", data, style='"' if "\n" in data else None
        )


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(Hook, lambda d, v: d.represent_scalar("!function", str(v)))


def metric(name: str, **extra: Any) -> dict[str, Any]:
    return {"metric": name, "aggregation": "mean", "higher_is_better": True, **extra}


def multiple_choice(text: str, choices: str | list[str], norm: bool = True) -> dict[str, Any]:
    """A 0-shot loglikelihood task: acc, and acc_norm where choice lengths differ."""
    metrics = [metric("acc")] + ([metric("acc_norm")] if norm else [])
    return {
        "output_type": "multiple_choice",
        "doc_to_text": text,
        "doc_to_choice": choices,
        "doc_to_target": "label",
        "metric_list": metrics,
    }


def generate(text: str, target: str, until: list[str], tokens: int) -> dict[str, Any]:
    return {
        "output_type": "generate_until",
        "doc_to_text": text,
        "doc_to_target": target,
        "target_delimiter": " ",
        "generation_kwargs": {"until": until, "do_sample": False, "max_gen_toks": tokens},
    }


# lm-eval's BBH allows 1,024 new tokens; the CPU-scale models here stop at "\n\n" or "Q:"
# when they follow the shots, and a worked answer of the tiny analogues is at most ~100
# tokens (64, the cap before, cut a tenth of them short of "So the answer is").
BBH_MAX_GEN_TOKS = 128


def bbh_yaml(description: str) -> dict[str, Any]:
    """lm-eval's `bbh_cot_fewshot` template, shots read from the task's own train split."""
    answer = {"function": "regex", "regex_pattern": "(?<=the answer is )(.*)(?=.)"}
    return {
        "output_type": "generate_until",
        "description": f"{description}\n\n",
        "doc_to_text": "Q: {{input}}\nA: Let's think step by step.\n",
        "doc_to_target": "{{target}}",
        "target_delimiter": "",
        "fewshot_split": "train",
        "num_fewshot": 3,
        "fewshot_config": {"sampler": "first_n"},
        "generation_kwargs": {
            "until": ["\n\n", "Q:"],
            "do_sample": False,
            "max_gen_toks": BBH_MAX_GEN_TOKS,
        },
        "filter_list": [
            {"name": "get-answer", "filter": [answer, {"function": "take_first"}]},
        ],
        "metric_list": [metric("exact_match")],
    }


def write_task(
    out: Path,
    root: Path,
    name: str,
    body: dict,
    splits: dict[str, list[Doc]],
    version: int,
) -> None:
    """JSONL per split and the YAML reading them from their final location `root`."""
    if not splits["test"]:
        raise ValueError(f"task {name}: the world is too small to draw any item")
    for split, docs in splits.items():
        lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
        (out / f"{name}.{split}.jsonl").write_text(lines)
    files = {split: str(root / f"{name}.{split}.jsonl") for split in splits}
    config = {"task": name, "dataset_path": "json", "dataset_kwargs": {"data_files": files}}
    config |= {"test_split": "test", **body, "metadata": {"version": version}}
    text = yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=200)
    (out / f"{name}.yaml").write_text(text)


BbhSplits = tuple[str, dict[str, list[Doc]]]  # (description, {"train": shots, "test": items})


def write_bbh(
    out: Path, root: Path, tasks: dict[str, BbhSplits], group: str, version: int
) -> list[str]:
    """BBH subtasks (lm-eval task name -> description and splits) and their `group`.

    Every source of BBH items goes through the same prompt, shots, answer filter and metric.
    """
    for name, (description, splits) in tasks.items():
        write_task(out, root, name, bbh_yaml(description), splits, version)
    group_yaml = {
        "group": group,
        "task": list(tasks),
        "aggregate_metric_list": [
            {
                "metric": "exact_match",
                "aggregation": "mean",
                "weight_by_size": True,
                "filter_list": "get-answer",
            },
        ],  # fmt: skip
        "metadata": {"version": version},
    }
    (out / f"_{group}.yaml").write_text(yaml.dump(group_yaml, Dumper=_Dumper, sort_keys=False))
    copy_hooks(out)
    return list(tasks)


def copy_hooks(out: Path) -> None:
    """The hooks module (`utils.py`) beside the YAMLs, where ``!function utils.x`` finds it."""
    shutil.copy(Path(__file__).with_name("utils.py"), out / "utils.py")
