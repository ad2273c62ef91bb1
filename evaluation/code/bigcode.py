"""MultiPL-E's own problems (HumanEval in each language) through bigcode-evaluation-harness.

The paper scores MultiPL-E with bigcode-evaluation-harness, which is not on PyPI. Its
``multiple-<lang>`` task reads the ``nuprl/MultiPL-E`` dataset (config ``humaneval-<lang>``) at
a pinned revision with ``datasets.load_dataset``; each item carries the prompt, the tests and
the stop tokens, which become `CodeProblem`s run by `evaluation.code.multiple` (the harness's
own generation and execution are not used: ours are the same conventions, sandboxed). The
dataset must already be in the local Hugging Face cache (load it once where the hub is
reachable, then run with ``HF_DATASETS_OFFLINE=1``): nothing is fetched here on purpose.
"""

from __future__ import annotations

import importlib

from configs.errors import SuiteError
from evaluation.code.problems import CodeProblem

INSTALL = (
    "MultiPL-E on its real problems needs bigcode-evaluation-harness (not on PyPI): clone "
    "https://github.com/bigcode-project/bigcode-evaluation-harness where the network is "
    "reachable, then `.venv/bin/pip install --no-deps -e <clone>`"
)


def _tasks():
    """bigcode_eval's task registry, or one line saying how to install it."""
    try:
        return importlib.import_module("bigcode_eval.tasks")
    except ImportError:
        raise SuiteError(INSTALL) from None


def dataset_revision() -> str:
    """The pinned ``nuprl/MultiPL-E`` revision the harness reads (a version tag for MLflow)."""
    multiple = importlib.import_module("bigcode_eval.tasks.multiple")
    return str(multiple.GeneralMultiPLE.DATASET_REVISION)


def bigcode_problems(languages: list[str]) -> list[CodeProblem]:
    """Every HumanEval item of MultiPL-E in each language, as the harness's task loads it."""
    tasks = _tasks()
    problems = []
    for lang in languages:
        try:
            docs = tasks.get_task(f"multiple-{lang}").get_dataset()
        except Exception as err:  # a cache miss offline, a missing config: one line each
            why = (str(err).strip() or type(err).__name__).splitlines()[0][:160]
            raise SuiteError(
                f"cannot load MultiPL-E humaneval-{lang} (nuprl/MultiPL-E): {why}; put the "
                "dataset in the Hugging Face cache where the hub is reachable"
            ) from None
        problems += [
            CodeProblem(
                name=doc["name"],
                language=lang,
                prompt=doc["prompt"],
                tests=doc["tests"],
                stop_sequences=tuple(doc["stop_tokens"]),
            )
            for doc in docs
        ]
    return problems
