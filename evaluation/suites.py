"""The paper's benchmark suites as data: harness task names and their tiny-world analogues.

FuseLLM reports BBH (27 tasks, 3-shot CoT, exact match) and CommonSense (ARC-e, ARC-c, BoolQ,
HellaSwag, OBQA) through lm-eval, and the generation suite (TriviaQA, DROP, LAMBADA,
IWSLT2017, SciBench) through OpenCompass. Each `Benchmark` names the lm-eval task (where the
harness has one), the OpenCompass dataset config (where the paper used OpenCompass), the tiny
task the tiny world writes (`evaluation.tasks.tiny`), and the metric key of the paper's number.
MultiPL-E (suite `multiple`) runs through `evaluation.code`; `perplexity` through
`evaluation.perplexity`.

One Table 8 cell per benchmark, also where OpenCompass scores several subsets:
- IWSLT2017 is English->German BLEU (``iwslt2017-en-de``): OpenCompass's ``iwslt2017_gen``
  evaluates that one pair of the 2017 TED task and nothing else, and the paper reports a single
  IWSLT2017 column from it.
- SciBench is OpenCompass's own ``scibench`` summary group: the unweighted mean accuracy of the
  ten zero-shot subsets (atkins, calculus, chemmc, class, diff, fund, matter, quan, stat,
  thermo). ``scibench_gen`` also runs each subset with zero-shot CoT, few-shot and few-shot
  CoT prompts, whose groups carry those suffixes; the paper names no prompt type, and the
  group OpenCompass calls plain ``scibench`` is the zero-shot one.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from configs.schema import SuiteConfig

BBH_GROUP = "bbh_cot_fewshot"  # lm-eval group of the 27 subtasks, 3-shot chain of thought
BBH_SUBTASKS = (
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
)


def bbh_task(name: str) -> str:
    """The tiny task of a BBH subtask."""
    return f"tiny_bbh_{name}"


def real_bbh_task(name: str) -> str:
    """The lm-eval task of a BBH subtask's real items (`make real-data`)."""
    return f"real_bbh_{name}"


@dataclass(frozen=True)
class Benchmark:
    """One column of the paper's tables and where each harness has it."""

    paper: str  # the name in the paper's tables
    tiny: str  # the tiny-world analogue (lm-eval task under the run's include_path)
    metric: str  # lm-eval result key of the paper's number, "<metric>,<filter>"
    lm_eval: str | None = None  # lm-eval registry task
    opencompass: str | None = None  # OpenCompass config: configs/datasets/<dir>/<name>.py
    # Where OpenCompass puts the paper's number (0-100 scale): the metric of the tiny task, and
    # (dataset abbr or summary group, metric) of the paper config's one Table 8 cell.
    oc_metric: str | None = None
    oc_paper: tuple[str, str] | None = None
    # An OpenCompass summary group the eval stage averages into the ``oc_paper`` row (SciBench).
    oc_group: str | None = None


SUITES: dict[str, tuple[Benchmark, ...]] = {
    "bbh": tuple(
        Benchmark(name, bbh_task(name), "exact_match,get-answer", f"{BBH_GROUP}_{name}")
        for name in BBH_SUBTASKS
    ),
    # The paper's CommonSense numbers are acc_norm, except BoolQ (acc).
    "commonsense": (
        Benchmark("ARC-easy", "tiny_arc_easy", "acc_norm,none", "arc_easy"),
        Benchmark("ARC-challenge", "tiny_arc_challenge", "acc_norm,none", "arc_challenge"),
        Benchmark("BoolQ", "tiny_boolq", "acc,none", "boolq"),
        Benchmark("HellaSwag", "tiny_hellaswag", "acc_norm,none", "hellaswag"),
        Benchmark("OpenBookQA", "tiny_openbookqa", "acc_norm,none", "openbookqa"),
    ),
    # The paper ran these through OpenCompass; lm-eval has three of them.
    "generation": (
        Benchmark(
            "TriviaQA",
            "tiny_triviaqa",
            "exact_match,remove_whitespace",
            "triviaqa",
            "triviaqa_gen",
            "score",
            ("triviaqa", "score"),
        ),
        Benchmark(
            "DROP", "tiny_drop", "em,none", "drop", "drop_gen", "exact_match", ("drop", "accuracy")
        ),
        Benchmark(
            "LAMBADA",
            "tiny_lambada",
            "acc,none",
            "lambada_openai",
            "lambada_gen",
            "accuracy",
            ("lambada", "accuracy"),
        ),
        Benchmark(
            "IWSLT2017",
            "tiny_iwslt2017",
            "bleu,none",
            None,
            "iwslt2017_gen",
            "score",
            ("iwslt2017_iwslt2017-en-de", "score"),  # the config's one pair, English->German
        ),
        Benchmark(
            "SciBench",
            "tiny_scibench",
            "acc,none",
            None,
            "scibench_gen",
            "accuracy",
            ("scibench", "accuracy"),  # OpenCompass's group: mean of the zero-shot subsets
            "scibench",
        ),
    ),
}


# The harness the paper scored each suite with (the parity check flags another one).
PAPER_HARNESS: dict[str, str] = {
    "bbh": "lm_eval",
    "commonsense": "lm_eval",
    "generation": "opencompass",
}


def harness_of(cfg: SuiteConfig, suite: str) -> str:
    """The harness that runs ``suite`` under ``cfg``: OpenCompass for the generation suite with
    ``evaluation.backend: opencompass``, lm-eval for the other lm-eval suites."""
    return (
        "opencompass"
        if suite == "generation" and cfg.evaluation.backend == "opencompass"
        else "lm_eval"
    )


def lm_eval_tasks(suite: str, tiny: bool) -> list[str]:
    """Tasks of `suite` that lm-eval runs: the tiny analogues, or the registry names.

    Paper benchmarks that only OpenCompass has (IWSLT2017, SciBench) are left out.
    """
    benchmarks = SUITES[suite]
    if tiny:
        return [b.tiny for b in benchmarks]
    return [b.lm_eval for b in benchmarks if b.lm_eval]


def opencompass_only(suite: str) -> list[str]:
    """Paper benchmarks of `suite` that need the OpenCompass backend."""
    return [b.paper for b in SUITES[suite] if b.opencompass and not b.lm_eval]


def opencompass_config(name: str) -> Path | None:
    """The installed OpenCompass dataset config file `name`.py, or None.

    Found by file, without importing OpenCompass (slow, and it patches logging on import).
    """
    spec = importlib.util.find_spec("opencompass")
    if spec is None or spec.origin is None:
        return None
    datasets = Path(spec.origin).parent / "configs" / "datasets"
    return next(iter(sorted(datasets.rglob(f"{name}.py"))), None)
