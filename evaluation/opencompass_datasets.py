"""OpenCompass dataset configs of the generation suite: the tiny tasks, and the paper's own.

Tiny configs run the five tiny generation tasks through OpenCompass with the prompt text, stop
strings and output length of their lm-eval YAML (`evaluation.tasks.tiny.TASK_BODIES`, the one
source of both), scored by the OpenCompass evaluator of the paper benchmark's metric. Paper
configs load the installed `triviaqa_gen`, `drop_gen`, `lambada_gen`, `iwslt2017_gen` and
`scibench_gen` unchanged, after checking that their data is on disk: OpenCompass would
otherwise try to download it.

Configs are plain dicts whose ``type`` is a dotted import path, as OpenCompass's own command line
writes them (its summarizer hashes them as JSON); building the tiny ones imports nothing from
OpenCompass.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configs import registry
from configs.errors import SuiteError
from evaluation.suites import SUITES, opencompass_config
from evaluation.tasks.docs import Doc
from evaluation.tasks.tiny import TASK_BODIES

_EVALUATORS = "opencompass.openicl.icl_evaluator"
_FIELD = re.compile(r"\{\{\s*(\w+)\s*\}\}")  # a Jinja field of an lm-eval prompt


def _last_word(doc: Doc) -> Doc:
    """LAMBADA as OpenCompass asks it: the passage without its last word, and that word."""
    *context, word = doc["text"].split(" ")
    return {"prompt": " ".join(context), "label": word}


def _lowercase_answers(doc: Doc) -> Doc:
    """TydiQAEvaluator lowercases predictions but not answers: lowercase them here once."""
    return doc | {"answers": [a.lower() for a in doc["answers"]]}


@dataclass(frozen=True)
class TinyForm:
    """How OpenCompass reads and scores one tiny generation task."""

    output: str  # field holding the reference(s)
    evaluator: str  # OpenCompass evaluator class, dotted
    postprocessor: str | None = None  # OpenCompass text postprocessor of predictions
    rows: Callable[[Doc], Doc] | None = None  # reshape a doc into the fields OpenCompass reads
    template: str | None = None  # None: the lm-eval prompt, fields as ``{name}``
    max_out_len: int | None = None  # None: the lm-eval task's max_gen_toks
    stops: tuple[str, ...] | None = None  # None: the lm-eval task's ``until``


# The metric of each paper benchmark, through OpenCompass's own evaluator classes.
TINY_FORMS: dict[str, TinyForm] = {
    "tiny_triviaqa": TinyForm("aliases", f"{_EVALUATORS}.EMEvaluator"),  # EM
    "tiny_drop": TinyForm(  # SQuAD-style EM and F1 over the answers
        "answers", "opencompass.datasets.tydiqa.TydiQAEvaluator", rows=_lowercase_answers
    ),
    "tiny_lambada": TinyForm(  # accuracy of the first generated word, as lambada_gen
        "label",
        "opencompass.datasets.lambada.LambadaEvaluator",
        rows=_last_word,
        template="{prompt}",
        max_out_len=5,
        stops=(),
    ),
    "tiny_iwslt2017": TinyForm("velan", f"{_EVALUATORS}.BleuEvaluator"),  # sacreBLEU
    "tiny_scibench": TinyForm(  # accuracy on the last number generated, as scibench_gen
        "answer",
        f"{_EVALUATORS}.AccEvaluator",
        postprocessor="opencompass.datasets.scibench.scibench_postprocess",
    ),
}


def _template(form: TinyForm, body: dict[str, Any]) -> tuple[str, list[str]]:
    """The OpenCompass prompt template and the fields it reads."""
    template = form.template or _FIELD.sub(r"{\1}", body["doc_to_text"])
    if "{{" in template or "{%" in template:
        raise ValueError(f"lm-eval prompt {body['doc_to_text']!r} is not plain fields")
    return template, re.findall(r"\{(\w+)\}", template)


def _write_jsonl(path: Path, docs: list[Doc]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    tmp.rename(path)


def tiny_dataset(name: str, include: Path, data_dir: Path) -> dict[str, Any]:
    """One tiny task as an OpenCompass dataset config; its JSONL is rewritten into `data_dir`."""
    form, body = TINY_FORMS[name], TASK_BODIES[name]
    template, inputs = _template(form, body)
    source = include / f"{name}.test.jsonl"
    docs = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_jsonl(data_dir / f"{name}.jsonl", [form.rows(d) if form.rows else d for d in docs])
    gen = body.get("generation_kwargs", {})
    inferencer = {
        "type": "opencompass.openicl.icl_inferencer.GenInferencer",
        "max_out_len": form.max_out_len or gen["max_gen_toks"],
        "stopping_criteria": list(gen.get("until", []) if form.stops is None else form.stops),
    }
    eval_cfg: dict[str, Any] = {"evaluator": {"type": form.evaluator}}
    if form.postprocessor:
        eval_cfg["pred_postprocessor"] = {"type": form.postprocessor}
    return {
        "abbr": name,
        "type": "opencompass.datasets.custom.CustomDataset",
        "path": str(data_dir / f"{name}.jsonl"),
        "reader_cfg": {"input_columns": inputs, "output_column": form.output},
        "infer_cfg": {
            "prompt_template": {
                "type": "opencompass.openicl.icl_prompt_template.PromptTemplate",
                "template": template,
            },
            "retriever": {"type": "opencompass.openicl.icl_retriever.ZeroRetriever"},
            "inferencer": inferencer,
        },
        "eval_cfg": eval_cfg,
    }


def tiny_datasets(include: Path, tasks: list[str], data_dir: Path) -> list[dict[str, Any]]:
    """The OpenCompass configs of the tiny generation `tasks` (data from `include`).

    Raises:
        SuiteError: a task has no OpenCompass form.
    """
    for task in tasks:
        registry.check(task, TINY_FORMS, "OpenCompass tiny task")
    return [tiny_dataset(task, include, data_dir) for task in tasks]


def paper_configs(suite: str) -> list[str]:
    """The OpenCompass dataset configs the paper ran for `suite`."""
    return [b.opencompass for b in SUITES[suite] if b.opencompass]


def _unknown_config(name: str) -> SuiteError:
    anchor = opencompass_config("triviaqa_gen")
    if anchor is None:
        return SuiteError(f"OpenCompass config '{name}': OpenCompass is not installed")
    root = anchor.parents[1]
    known = sorted(p.stem for p in root.rglob("*.py"))
    hint = registry.hint(name, known, f"names are the files in {root}")
    return SuiteError(f"unknown OpenCompass dataset config '{name}': {hint}")


def data_path(dataset: dict[str, Any]) -> Path:
    """Where OpenCompass will read a paper dataset from, offline (as its `get_data_path`)."""
    from opencompass.utils.datasets_info import DATASETS_MAPPING

    path = str(dataset["path"])
    local = DATASETS_MAPPING.get(path, {}).get("local", path)
    if str(dataset["type"]).endswith("ScibenchDataset"):
        local = os.path.join(local, f"{dataset['name']}.json")
    return Path(os.environ.get("COMPASS_DATA_CACHE", "")) / local


def _how_to_get(config: str, path: Path, root: Path) -> str:
    """The download that provides `path`: OpenCompass's own URL table, else the source."""
    from opencompass.utils.datasets_info import DATASETS_URL

    urls = [v["url"] for k, v in DATASETS_URL.items() if k in f"/{path.as_posix()}/"]
    if urls:  # the last match, as OpenCompass's downloader picks it
        return f"download {urls[-1]} and unzip it into {root / 'data'}"
    if "scibench" in config:
        source = "SciBench's dataset/original/*.json (github.com/mandyyyyii/scibench)"
        return f"copy {source} into {root / 'data/scibench'}"
    return (
        "unzip OpenCompass's core data release (OpenCompassData-core-20240207.zip, "
        f"github.com/open-compass/opencompass/releases) in {root}"
    )


def missing_data(config: str, dataset: dict[str, Any]) -> str | None:
    """None when OpenCompass can read `dataset` without a download, else the fix in one line."""
    from opencompass.utils.datasets import DEFAULT_DATA_FOLDER

    if str(dataset["type"]).endswith("IWSLT2017Dataset"):  # read from the HF datasets cache
        from datasets import config as hf

        if any(Path(hf.HF_DATASETS_CACHE).glob(f"*{dataset['path']}*")):
            return None
        return (
            f"{config}: Hugging Face dataset '{dataset['path']}' ({dataset['name']}) is not in "
            f"{hf.HF_DATASETS_CACHE}: run datasets.load_dataset('{dataset['path']}', "
            f"'{dataset['name']}') once where the hub is reachable"
        )
    path = data_path(dataset)
    if path.exists() or (Path(DEFAULT_DATA_FOLDER) / path).exists():
        return None
    cache = os.environ.get("COMPASS_DATA_CACHE")
    root = Path(cache or Path.cwd()).resolve()
    where = "" if cache else " (COMPASS_DATA_CACHE unset: the working dir)"
    return (
        f"{config}: no OpenCompass data at {path.resolve()}{where}: "
        f"{_how_to_get(config, path, root)}, or set COMPASS_DATA_CACHE to the folder holding data/"
    )


def _dotted(value: Any) -> Any:
    """`value` with every class or function under a ``type`` key as its dotted import path."""
    if isinstance(value, dict):
        return {
            k: f"{v.__module__}.{v.__qualname__}" if k == "type" and callable(v) else _dotted(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_dotted(v) for v in value)
    return value


def config_datasets(name: str) -> list[dict[str, Any]]:
    """The datasets of the installed OpenCompass config ``name``, unchanged (classes, not paths).

    Raises:
        SuiteError: no such config.
    """
    from mmengine.config import Config

    path = opencompass_config(name)
    if path is None:
        raise _unknown_config(name)
    loaded = Config.fromfile(str(path))
    return [d.to_dict() for key in loaded if key.endswith("_datasets") for d in loaded[key]]


def paper_datasets(configs: list[str]) -> list[dict[str, Any]]:
    """The datasets of the installed OpenCompass configs, unchanged, types as dotted paths.

    Raises:
        SuiteError: an unknown config name, or a dataset whose data is not on disk.
    """
    datasets = []
    for name in configs:
        found = config_datasets(name)
        for dataset in found:
            if (why := missing_data(name, dataset)) is not None:
                raise SuiteError(why)
        datasets += [_dotted(d) for d in found]
    return datasets


def summary_group(name: str) -> list[str]:
    """The dataset abbrs OpenCompass's summary group ``name`` averages, read from its own groups
    file ``configs/summarizers/groups/<name>.py``; e.g. ``scibench``: the ten zero-shot subsets.

    Raises:
        SuiteError: OpenCompass is not installed, or its file has no such group.
    """
    from mmengine.config import Config

    anchor = opencompass_config("triviaqa_gen")
    if anchor is None:
        raise SuiteError(f"OpenCompass summary group '{name}': OpenCompass is not installed")
    path = anchor.parents[2] / "summarizers" / "groups" / f"{name}.py"
    if path.is_file():
        loaded = Config.fromfile(str(path))
        for key in (k for k in loaded if k.endswith("_summary_groups")):
            for group in loaded[key]:
                if group["name"] == name:
                    return list(group["subsets"])
    raise SuiteError(f"OpenCompass has no summary group '{name}' in {path}")
