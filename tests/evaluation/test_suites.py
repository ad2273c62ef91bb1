"""The paper's task names exist in the installed harnesses, and every benchmark has its analogue.

Offline: lm-eval's registry and OpenCompass's dataset configs are read from the venv.
"""

from __future__ import annotations

from evaluation.lm_eval_runner import builtin_tasks
from evaluation.suites import (
    BBH_GROUP,
    BBH_SUBTASKS,
    SUITES,
    bbh_task,
    lm_eval_tasks,
    opencompass_config,
)
from evaluation.tasks.tiny import TASK_BODIES
from world.benchmarks.bbh import BBH_TASKS


def test_every_paper_lm_eval_name_is_in_the_installed_registry() -> None:
    names = {b.lm_eval for suite in SUITES.values() for b in suite if b.lm_eval} | {BBH_GROUP}
    missing = names - set(builtin_tasks().all_tasks)
    assert not missing


def test_every_opencompass_config_is_an_installed_file() -> None:
    names = [b.opencompass for suite in SUITES.values() for b in suite if b.opencompass]
    assert len(names) == 5
    for name in names:
        path = opencompass_config(name)
        assert path is not None and path.name == f"{name}.py", name


def test_suites_have_the_papers_benchmarks() -> None:
    assert len(BBH_SUBTASKS) == len(set(BBH_SUBTASKS)) == 27
    assert [b.paper for b in SUITES["bbh"]] == list(BBH_SUBTASKS)
    assert len(SUITES["commonsense"]) == len(SUITES["generation"]) == 5
    assert {b.metric for b in SUITES["bbh"]} == {"exact_match,get-answer"}
    # Paper configs run only what lm-eval has; OpenCompass-only benchmarks are left out.
    assert lm_eval_tasks("generation", tiny=False) == ["triviaqa", "drop", "lambada_openai"]


def test_every_benchmark_has_a_generated_tiny_analogue() -> None:
    assert set(BBH_TASKS) == set(BBH_SUBTASKS)
    generated = set(TASK_BODIES) | {bbh_task(name) for name in BBH_TASKS}
    assert {b.tiny for suite in SUITES.values() for b in suite} == generated
    assert len(generated) == 27 + 5 + 5
