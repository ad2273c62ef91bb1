"""Write the tiny world's benchmarks where evaluation reads them: lm-eval task files and the
MultiPL-E problems, under the world directory (``make world``).

Evaluation never imports the world: it reads these files, as it reads a hub benchmark. The
items come from the knowledge base here; the task shapes (prompts, metrics) come from
`evaluation.tasks.tiny`, so the YAMLs are exactly what lm-eval and OpenCompass expect.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from configs.layout import Layout, atomic_dir
from evaluation.code.problems import save_problems
from evaluation.suites import bbh_task
from evaluation.tasks.docs import Doc
from evaluation.tasks.tiny import BBH_GROUP, TASK_BODIES, TASKS_VERSION
from evaluation.tasks.writer import BbhSplits, write_bbh, write_task
from world.benchmarks import commonsense as cs
from world.benchmarks import generation as gen
from world.benchmarks.bbh import BBH_SIZE, BBH_TASKS, bbh_docs
from world.benchmarks.code import CODE_VERSION, tiny_code_problems
from world.knowledge import KnowledgeBase

# At most this many items per CommonSense / generation task: the tiny KB yields 55-224 per
# task (615 CommonSense items in all), every one of them, since loglikelihood scoring is cheap
# and the paired FuseLLM - CLM interval narrows with n; a config's `evaluation.limit` caps the
# generation tasks.
TASK_SIZE = 250

DocsFn = Callable[[KnowledgeBase, int, int], list[Doc]]
# task -> its items' generator; the task's shape is TASK_BODIES[task]
TASK_DOCS: dict[str, DocsFn] = {
    "tiny_arc_easy": cs.arc_easy,
    "tiny_arc_challenge": cs.arc_challenge,
    "tiny_boolq": cs.boolq,
    "tiny_hellaswag": cs.hellaswag,
    "tiny_openbookqa": cs.openbookqa,
    "tiny_triviaqa": gen.triviaqa,
    "tiny_drop": gen.drop,
    "tiny_lambada": gen.lambada,
    "tiny_iwslt2017": gen.iwslt2017,
    "tiny_scibench": gen.scibench,
}


def write_tasks(kb: KnowledgeBase, seed: int, out: Path, root: Path) -> list[str]:
    """Every tiny task (and the `tiny_bbh` group) into `out`, data paths pointing at `root`."""
    for name, docs in TASK_DOCS.items():
        splits = {"test": docs(kb, seed, TASK_SIZE)}
        write_task(out, root, name, TASK_BODIES[name], splits, TASKS_VERSION)
    bbh: dict[str, BbhSplits] = {}
    for sub, (description, _) in BBH_TASKS.items():
        docs = bbh_docs(kb, seed, sub, BBH_SIZE)
        bbh[bbh_task(sub)] = (description, {"train": docs["fewshot"], "test": docs["test"]})
    return [*TASK_DOCS, *write_bbh(out, root, bbh, BBH_GROUP, TASKS_VERSION)]


def write_benchmarks(kb: KnowledgeBase, seed: int, layout: Layout) -> dict[str, int]:
    """The task directory and the code problems of the world; their versions, for the
    world's manifest. Each is written atomically, and only when absent."""
    final = layout.tasks.resolve()
    if not final.exists():
        with atomic_dir(final) as tmp:
            write_tasks(kb, seed, tmp, final)
    if not layout.code_problems.exists():
        save_problems(tiny_code_problems(kb, seed), layout.code_problems)
    return {"tasks": TASKS_VERSION, "code": CODE_VERSION}
