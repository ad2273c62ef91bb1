"""The ``multiple`` suite of ``make eval``: which problems, one MultiPL-E run, what MLflow gets.

Problems: tiny configs run the tiny world's (written by ``make world``); ``evaluation.items: real``
the packaged HumanEval items of `evaluation.real.items` (Python and Rust only); paper configs
MultiPL-E's own HumanEval items through bigcode-evaluation-harness (`evaluation.code.bigcode`,
a one-line error naming the install when it is absent). Settings come from the ``evaluation``
section (``multiple_*``; ``limit`` caps problems per language, ``batch_size`` the generation
batch). MLflow gets ``eval/multiple/<lang>/pass@k`` (``pass_1`` once made a valid key) per
scored language, a tag ``missing.multiple.<lang>`` with the reason per language whose toolchain
is absent (so tables show why, never a 0), per scored language the isolation every sample had
as tags ``isolation.multiple.<lang>.{network,filesystem,uid}`` ("true"/"false"; table3 marks
a cell where one is "false"), the problems' version as a tag, and results.json, results.md and
the scored languages' samples as artifacts.
"""

from __future__ import annotations

from pathlib import Path

import mlflow

from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.tracking import metric_key
from evaluation.code import bigcode
from evaluation.code.multiple import run_multiple
from evaluation.code.problems import CodeProblem, load_problems
from evaluation.real import items as realdata
from evaluation.tasks.tiny import world_versions

ARTIFACTS = "eval/multiple"


def suite_problems(cfg: SuiteConfig, layout: Layout) -> tuple[list[CodeProblem], dict[str, str]]:
    """The config's problems in its ``multiple_languages``, and their version tags."""
    languages = list(cfg.evaluation.multiple_languages)
    if cfg.evaluation.items == "real":
        shipped = tuple(lang for lang in languages if lang in realdata.CODE_LANGUAGES)
        version = f"humaneval-real-{realdata.REAL_TASKS_VERSION}"
        return realdata.real_code_problems(layout, shipped), {"task_version.multiple": version}
    if cfg.is_tiny:
        version = world_versions(layout)["code"]
        problems = load_problems(layout.code_problems, languages)
        return problems, {"task_version.tiny_code": str(version)}
    problems = bigcode.bigcode_problems(languages)
    return problems, {"task_version.multiple": bigcode.dataset_revision()}


def log_multiple(results: dict, out: Path) -> None:
    """pass@k metrics, missing-toolchain and isolation tags and the output files, into the
    active run."""
    tags, numbers = {}, {}
    for lang, entry in results["results"].items():
        if "missing" in entry:
            tags[f"missing.multiple.{lang}"] = entry["reason"]
            continue
        for name, held in entry["isolation"].items():
            tags[f"isolation.multiple.{lang}.{name}"] = str(held).lower()
        for name, value in entry.items():
            if name.startswith("pass@"):
                numbers[metric_key("eval", "multiple", lang, name)] = float(value)
    mlflow.set_tags(tags)
    mlflow.log_metrics(numbers)
    scored = [lang for lang, entry in results["results"].items() if "missing" not in entry]
    files = [out / "results.json", out / "results.md"]
    files += [out / f"samples_{lang}.jsonl" for lang in scored]
    for path in files:
        mlflow.log_artifact(str(path), artifact_path=ARTIFACTS)


def run_suite(
    cfg: SuiteConfig, layout: Layout, model_path: str, out: Path, device: str, dtype: str
) -> dict:
    """Run MultiPL-E on the model and log it into the active MLflow run; return results.json."""
    problems, versions = suite_problems(cfg, layout)
    ev = cfg.evaluation
    results = run_multiple(
        model_path,
        problems,
        out,
        samples=ev.multiple_samples,
        temperature=ev.multiple_temperature,
        max_new_tokens=ev.multiple_max_new_tokens,
        batch_size=ev.batch_size,
        device=device,
        dtype=dtype,
        limit=ev.limit_for("multiple"),
        cache=layout.program_verdicts,
    )
    mlflow.set_tags(versions)
    log_multiple(results, out)
    return results
