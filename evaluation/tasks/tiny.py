"""The tiny world's benchmark tasks as lm-eval reads them: each paper benchmark's native shape.

The prompts, answer fields, stop strings and metrics are evaluation's business, so they live
here; the world only supplies the items (``make world`` writes both into
``<world>/tasks/``). OpenCompass reads the same bodies (`evaluation.opencompass_datasets`), so
the two harnesses ask the same questions. Bump `TASKS_VERSION` on any prompt, data or metric
change, so reports never mix versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from configs.errors import SuiteError
from configs.layout import Layout
from evaluation.tasks.writer import Hook, generate, metric, multiple_choice

TASKS_VERSION = 3  # 2: BBH's max_gen_toks 64 -> 128; 3: every item the KB yields per task
BBH_GROUP = "tiny_bbh"

_QA = "Question: {{question}}\nAnswer:"
# task -> YAML body: the native lm-eval shape of each paper benchmark.
TASK_BODIES: dict[str, dict[str, Any]] = {
    "tiny_arc_easy": multiple_choice(_QA, "choices"),
    "tiny_arc_challenge": multiple_choice(_QA, "choices"),
    "tiny_boolq": multiple_choice(
        "{{passage}}\nQuestion: {{question}}?\nAnswer:", ["no", "yes"], False
    ),
    "tiny_hellaswag": multiple_choice("{{query}}", "choices"),
    "tiny_openbookqa": multiple_choice("{{question_stem}}", "choices"),
    # unlike lm-eval's triviaqa, no "," stop: populations are written "12,000"
    "tiny_triviaqa": generate("Question: {{question}}?\nAnswer:", "aliases", ["\n", "."], 32)
    | {
        "filter_list": [
            {
                "name": "remove_whitespace",
                "filter": [{"function": "remove_whitespace"}, {"function": "take_first"}],
            }
        ],
        "metric_list": [metric("exact_match", ignore_case=True, ignore_punctuation=True)],
    },
    "tiny_drop": generate(
        "Passage: {{passage}}\nQuestion: {{question}}\nAnswer:", "{{answers[0]}}", ["\n"], 32
    )
    | {"process_results": Hook("utils.process_drop"), "metric_list": [metric("em"), metric("f1")]},
    "tiny_lambada": {
        "output_type": "loglikelihood",
        "doc_to_text": "{{text.split(' ')[:-1]|join(' ')}}",
        "doc_to_target": "{{' '+text.split(' ')[-1]}}",
        "metric_list": [
            {"metric": "perplexity", "aggregation": "perplexity", "higher_is_better": False},
            metric("acc"),
        ],
    },
    "tiny_iwslt2017": generate("Translate into Velan: {{english}}\nVelan:", "{{velan}}", ["\n"], 48)
    | {"metric_list": [{"metric": "bleu", "aggregation": "bleu", "higher_is_better": True}]},
    "tiny_scibench": generate("Problem: {{problem}}\nAnswer:", "{{answer}}", ["\n"], 16)
    | {"process_results": Hook("utils.process_scibench"), "metric_list": [metric("acc")]},
}


def world_versions(layout: Layout) -> dict[str, int]:
    """The generator versions ``make world`` recorded (``tasks``, ``code``): a world built
    before is refused, never read as if it were current."""
    marker = layout.world_manifest
    if not marker.is_file():
        raise SuiteError(f"no tiny world at {layout.world}: run `make world` first")
    return json.loads(marker.read_text())["versions"]


def tiny_tasks(layout: Layout) -> Path:
    """The include_path of the tiny tasks ``make world`` wrote, checked to be this version."""
    found = world_versions(layout).get("tasks")
    if found != TASKS_VERSION:
        raise SuiteError(
            f"the tiny tasks at {layout.tasks} are version {found}, this suite reads "
            f"{TASKS_VERSION}: delete {layout.world} and run `make world`"
        )
    return layout.tasks.resolve()
