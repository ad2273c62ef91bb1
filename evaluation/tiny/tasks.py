"""Write the tiny world's benchmarks as lm-eval tasks: JSONL data plus one YAML per task.

`generate_tasks` renders every task from the knowledge base into ``<run>/eval/tasks/`` (an
atomic directory), copies the hooks (`utils.py`) beside the YAMLs, and returns the directory
to pass as lm-eval's ``include_path``. Every task YAML carries ``metadata.version``: bump
`TASKS_VERSION` on any prompt, data or metric change, so reports never mix versions.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from evaluation.tiny import commonsense as cs
from evaluation.tiny import generation as gen
from evaluation.tiny.bbh import BBH_TASKS, bbh_docs
from evaluation.tiny.common import Doc
from training.world.knowledge import KnowledgeBase, build_knowledge

TASKS_VERSION = 1
TASK_SIZE = 40  # items per CommonSense / generation task
BBH_SIZE = 30  # test items per BBH task (plus 3 shots)
BBH_GROUP = "tiny_bbh"


class _Function(str):
    """A hook reference, written as lm-eval's ``!function utils.name`` YAML tag."""


class _Dumper(yaml.SafeDumper):
    """Writes hooks as ``!function`` and prompts with newlines as readable ``"...\\n..."``."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar(
            "tag:yaml.org,2002:str", data, style='"' if "\n" in data else None
        )


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(_Function, lambda d, v: d.represent_scalar("!function", str(v)))


def _metric(name: str, **extra: Any) -> dict[str, Any]:
    return {"metric": name, "aggregation": "mean", "higher_is_better": True, **extra}


def _multiple_choice(text: str, choices: str | list[str], norm: bool = True) -> dict[str, Any]:
    """A 0-shot loglikelihood task: acc, and acc_norm where choice lengths differ."""
    metrics = [_metric("acc")] + ([_metric("acc_norm")] if norm else [])
    return {
        "output_type": "multiple_choice",
        "doc_to_text": text,
        "doc_to_choice": choices,
        "doc_to_target": "label",
        "metric_list": metrics,
    }


def _generate(text: str, target: str, until: list[str], tokens: int) -> dict[str, Any]:
    return {
        "output_type": "generate_until",
        "doc_to_text": text,
        "doc_to_target": target,
        "target_delimiter": " ",
        "generation_kwargs": {"until": until, "do_sample": False, "max_gen_toks": tokens},
    }


DocsFn = Callable[[KnowledgeBase, int, int], list[Doc]]
# task -> (docs, YAML body): the native lm-eval shape of each paper benchmark.
TASKS: dict[str, tuple[DocsFn, dict[str, Any]]] = {
    "tiny_arc_easy": (cs.arc_easy, _multiple_choice("Question: {{question}}\nAnswer:", "choices")),
    "tiny_arc_challenge": (
        cs.arc_challenge,
        _multiple_choice("Question: {{question}}\nAnswer:", "choices"),
    ),
    "tiny_boolq": (
        cs.boolq,
        _multiple_choice("{{passage}}\nQuestion: {{question}}?\nAnswer:", ["no", "yes"], False),
    ),
    "tiny_hellaswag": (cs.hellaswag, _multiple_choice("{{query}}", "choices")),
    "tiny_openbookqa": (cs.openbookqa, _multiple_choice("{{question_stem}}", "choices")),
    "tiny_triviaqa": (
        gen.triviaqa,
        # unlike lm-eval's triviaqa, no "," stop: populations are written "12,000"
        _generate("Question: {{question}}?\nAnswer:", "aliases", ["\n", "."], 32)
        | {
            "filter_list": [
                {
                    "name": "remove_whitespace",
                    "filter": [{"function": "remove_whitespace"}, {"function": "take_first"}],
                }
            ],
            "metric_list": [
                _metric("exact_match", ignore_case=True, ignore_punctuation=True),
            ],
        },
    ),
    "tiny_drop": (
        gen.drop,
        _generate(
            "Passage: {{passage}}\nQuestion: {{question}}\nAnswer:", "{{answers[0]}}", ["\n"], 32
        )
        | {
            "process_results": _Function("utils.process_drop"),
            "metric_list": [_metric("em"), _metric("f1")],
        },
    ),
    "tiny_lambada": (
        gen.lambada,
        {
            "output_type": "loglikelihood",
            "doc_to_text": "{{text.split(' ')[:-1]|join(' ')}}",
            "doc_to_target": "{{' '+text.split(' ')[-1]}}",
            "metric_list": [
                {"metric": "perplexity", "aggregation": "perplexity", "higher_is_better": False},
                _metric("acc"),
            ],
        },
    ),
    "tiny_iwslt2017": (
        gen.iwslt2017,
        _generate("Translate into Velan: {{english}}\nVelan:", "{{velan}}", ["\n"], 48)
        | {"metric_list": [{"metric": "bleu", "aggregation": "bleu", "higher_is_better": True}]},
    ),
    "tiny_scibench": (
        gen.scibench,
        _generate("Problem: {{problem}}\nAnswer:", "{{answer}}", ["\n"], 16)
        | {"process_results": _Function("utils.process_scibench"), "metric_list": [_metric("acc")]},
    ),
}


def _bbh_yaml(description: str) -> dict[str, Any]:
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
        "generation_kwargs": {"until": ["\n\n", "Q:"], "do_sample": False, "max_gen_toks": 64},
        "filter_list": [
            {"name": "get-answer", "filter": [answer, {"function": "take_first"}]},
        ],
        "metric_list": [_metric("exact_match")],
    }


def bbh_task(name: str) -> str:
    """The tiny task of a BBH subtask."""
    return f"tiny_bbh_{name}"


def _write_task(
    out: Path,
    root: Path,
    name: str,
    body: dict,
    splits: dict[str, list[Doc]],
    version: int = TASKS_VERSION,
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
    out: Path, root: Path, tasks: dict[str, BbhSplits], group: str, version: int = TASKS_VERSION
) -> list[str]:
    """BBH subtasks (lm-eval task name -> description and splits) and their `group`.

    One writer for every source of BBH items (the tiny world's, real BIG-bench ones), so both
    go through the same prompt, shots, answer filter and metric.
    """
    for name, (description, splits) in tasks.items():
        _write_task(out, root, name, _bbh_yaml(description), splits, version)
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


def write_tasks(kb: KnowledgeBase, seed: int, out: Path, root: Path) -> list[str]:
    """Every tiny task (and the `tiny_bbh` group) into `out`, data paths pointing at `root`."""
    for name, (docs, body) in TASKS.items():
        _write_task(out, root, name, body, {"test": docs(kb, seed, TASK_SIZE)})
    bbh: dict[str, BbhSplits] = {}
    for sub, (description, _) in BBH_TASKS.items():
        docs = bbh_docs(kb, seed, sub, BBH_SIZE)
        bbh[bbh_task(sub)] = (description, {"train": docs["fewshot"], "test": docs["test"]})
    return [*TASKS, *write_bbh(out, root, bbh, BBH_GROUP)]


def tasks_dir(layout: Layout) -> Path:
    """Where a run's tiny tasks live (lm-eval's include_path)."""
    return layout.root / "eval" / "tasks"


def generate_tasks(cfg: SuiteConfig, layout: Layout) -> Path:
    """Write the tiny tasks once per world and version; return the include_path.

    Re-running is free while the manifest (version, world seed and size, location) matches;
    otherwise the directory is rebuilt atomically, so lm-eval never sees half a task set.
    """
    if not cfg.is_tiny:
        raise SuiteError(f"config '{cfg.name}' is not a tiny world: it has no tiny tasks")
    final = tasks_dir(layout).resolve()
    manifest = {"version": TASKS_VERSION, "seed": cfg.world.seed, "entities": cfg.world.entities}
    manifest["root"] = str(final)
    marker = final / "manifest.json"
    if marker.exists() and json.loads(marker.read_text()) == manifest:
        return final
    kb = build_knowledge(cfg.world.seed, cfg.world.entities)
    with atomic_dir(final) as tmp:
        write_tasks(kb, cfg.world.seed, tmp, final)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return final
