"""``make eval``: evaluate one model on the config's benchmark suites and log every number.

Usage: ``python -m evaluation.run_eval --config configs/tiny.yaml --model llama2
[--suites bbh,commonsense] [--tasks tiny_arc_easy,tiny_bbh_navigate]``.

MODEL is a model name of the config, a trained variant (``$(RUNS)/<name>/train/<variant>/model``)
or a checkpoint directory. Tiny configs run the tiny-world tasks (generated once under
``$(RUNS)/<name>/eval/tasks``); paper configs run the real lm-eval tasks. With
``evaluation.backend: opencompass`` the generation suite runs through OpenCompass instead (the
tiny tasks, or the paper's OpenCompass dataset configs); every other suite stays on lm-eval.
Outputs go to ``$(RUNS)/<name>/eval/<model>/<suite>/``; MLflow gets one run ``eval:<model>``
with metrics ``eval/<suite>/<task>/<metric>``, each suite's harness and its version as tags
(``harness.<suite>``, ``harness_version.<suite>``), task versions, and the harness's files as
artifacts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lm_eval
import mlflow

from configs import registry, tracking
from configs.errors import SuiteError
from configs.layout import Layout
from configs.schema import SuiteConfig
from configs.stages import STAGES, changed_keys, fingerprint
from configs.tracking import metric_key
from configs.variants import lineage, replica, train_runs, train_variants, variant_of
from configs.workers import run_stage_in_workers
from evaluation import perplexity as ppl
from evaluation.code.suite import run_suite
from evaluation.heldout import heldout_texts
from evaluation.lm_eval_runner import run_lm_eval
from evaluation.opencompass_datasets import (
    paper_configs,
    paper_datasets,
    summary_group,
    tiny_datasets,
)
from evaluation.opencompass_runner import harness_version as opencompass_version
from evaluation.opencompass_runner import run_opencompass
from evaluation.outputs import write_text
from evaluation.parity import parity_tags, shots_of, used_settings
from evaluation.real.items import generate_real_tasks, items_tag, real_tasks
from evaluation.suites import SUITES, harness_of, lm_eval_tasks, opencompass_only
from evaluation.tasks.tiny import tiny_tasks
from fusion.models import context_length, load_causal_lm

ALL_SUITES = ("bbh", "commonsense", "generation", "multiple", "perplexity")


def resolve_model(cfg: SuiteConfig, layout: Layout, model: str) -> tuple[str, str, str]:
    """(name, checkpoint path or hub id, dtype) of MODEL."""
    specs = cfg.config_models()
    for spec in specs:
        if spec.name == model:
            return spec.name, layout.model(spec), spec.dtype
    trained = layout.trained(model) / "model"  # where training.train saves a variant
    if trained.is_dir():
        return model, str(trained), "float32"
    if Path(model).is_dir():
        return Path(model).resolve().name, str(Path(model).resolve()), "float32"
    names = ", ".join(s.name for s in specs)
    raise SuiteError(
        f"unknown model '{model}': use a model of {cfg.name} ({names}), a trained variant "
        f"under {layout.root / 'train'}, or a checkpoint directory"
    )


def model_lineage(layout: Layout, name: str) -> dict[str, str]:
    """``variant`` and ``seed`` tags: a trained model's from its ``meta.json``, so the tables
    pool a variant's seeds; any other model is its own variant."""
    meta = layout.trained(name) / "meta.json"
    if not meta.is_file():
        return {"variant": name, "seed": ""}
    return lineage(json.loads(meta.read_text()))


def task_files(cfg: SuiteConfig, layout: Layout) -> Path | None:
    """The include_path of the config's generated tasks (real or tiny items), written once;
    None for paper configs, which use the harnesses' registered tasks."""
    if cfg.evaluation.items == "real":
        return generate_real_tasks(cfg, layout)
    return tiny_tasks(layout) if cfg.is_tiny else None


def uses_opencompass(cfg: SuiteConfig, suite: str) -> bool:
    """Whether `suite` runs through OpenCompass (generation, backend opencompass) or lm-eval."""
    return harness_of(cfg, suite) == "opencompass"


def check_suite_models(cfg: SuiteConfig) -> None:
    """A name in ``evaluation.suite_models`` that is no model or variant of the config is one
    line (before any model runs)."""
    known = [s.name for s in cfg.config_models()] + list(train_variants(cfg))
    for suite, names in cfg.evaluation.suite_models.items():
        for unknown in set(names) - set(known):
            hint = registry.hint(unknown, known)
            raise SuiteError(f"evaluation.suite_models.{suite} names '{unknown}': {hint}")


def model_suites(cfg: SuiteConfig, name: str) -> list[str]:
    """The config's suites that run on model ``name``: every one, except that
    ``evaluation.suite_models`` keeps a suite to the models it names (a seed replica goes by
    its variant)."""
    only, variant = cfg.evaluation.suite_models, variant_of(cfg, name)
    return [s for s in cfg.evaluation.suites if s not in only or variant in only[s]]


def plan_tasks(cfg: SuiteConfig, suites: list[str], only: list[str] | None) -> dict[str, list]:
    """Harness tasks per selected suite, restricted to `only` when given."""
    real = cfg.evaluation.items == "real"
    plan = {
        s: real_tasks(s) if real else lm_eval_tasks(s, cfg.is_tiny) for s in suites if s in SUITES
    }
    if "generation" in plan and uses_opencompass(cfg, "generation") and not cfg.is_tiny:
        plan["generation"] = paper_configs("generation")  # OpenCompass's own dataset configs
    if only is None:
        return plan
    known = [t for tasks in plan.values() for t in tasks]
    for task in only:
        if task not in known:
            hint = registry.hint(task, known, f"suites {', '.join(plan)}")
            raise SuiteError(f"task '{task}' is in none of the selected suites: {hint}")
    return {s: [t for t in tasks if t in only] for s, tasks in plan.items()}


def log_results(suite: str, results: dict, out: Path) -> None:
    """Every number of results.json as ``eval/<suite>/<task>/<metric>``; versions as tags."""
    numbers = {
        metric_key("eval", suite, task, metric): float(value)
        for task, values in results["results"].items()
        for metric, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    mlflow.log_metrics(numbers)  # one write: SQLite commits each log_metric call on its own
    mlflow.set_tags({f"task_version.{t}": str(v) for t, v in results["versions"].items()})
    for path in sorted(out.glob("results.*")) + sorted(out.glob("samples_*.jsonl")):
        mlflow.log_artifact(str(path), artifact_path=f"eval/{suite}")


def run_perplexity(cfg: SuiteConfig, layout: Layout, model_path: str, out: Path) -> dict:
    """Perplexity per domain on held-out text (`evaluation.heldout`; documents capped by
    ``evaluation.limit_for("perplexity")``). Windows span the model's whole context, as the
    Pythia experiment scores its domains."""
    texts = heldout_texts(cfg, layout)
    tokenizer, model = load_causal_lm(model_path)
    block = context_length(model_path) or cfg.fusion.block_size
    limit = cfg.evaluation.limit_for("perplexity")
    docs = {
        domain: ppl.score_documents(model, tokenizer, found[:limit], block)
        for domain, found in texts.items()
    }
    scores = {domain: ppl.pool(parts) for domain, parts in docs.items()}
    scores["all"] = ppl.pool(list(scores.values()))
    out.mkdir(parents=True, exist_ok=True)
    (out / "perplexity.json").write_text(json.dumps(scores, indent=2))
    mlflow.log_metrics(
        {
            metric_key("eval", "perplexity", domain, name): float(value)
            for domain, figures in scores.items()
            for name, value in figures.items()
        }
    )
    mlflow.log_artifact(str(out / "perplexity.json"), artifact_path="eval/perplexity")
    for domain, parts in docs.items():
        mlflow.log_text(ppl.documents_jsonl(parts), ppl.docs_artifact(domain))
    return scores


def paper_groups(cfg: SuiteConfig, suite: str, configs: list[str]) -> dict[str, list[str]]:
    """OpenCompass summary groups that make one paper cell (SciBench), for the configs run."""
    if cfg.is_tiny:
        return {}
    chosen = [b for b in SUITES[suite] if b.oc_group and b.opencompass in configs]
    return {b.oc_group: summary_group(b.oc_group) for b in chosen}


def run_harness(
    cfg: SuiteConfig,
    suite: str,
    tasks: list[str],
    include: Path | None,
    path: str,
    out: Path,
    device: str,
    dtype: str,
) -> tuple[str, str, dict]:
    """(harness, its version, results) of one suite: OpenCompass for the generation suite under
    backend ``opencompass``, lm-eval for everything else."""
    ev = cfg.evaluation
    limit = ev.limit_for(suite)
    if uses_opencompass(cfg, suite):
        if cfg.is_tiny:
            datasets = tiny_datasets(include, tasks, out / "opencompass_data")
        else:
            datasets = paper_datasets(tasks)
        size, groups = ev.batch_size, paper_groups(cfg, suite, tasks)
        results = run_opencompass(
            path,
            datasets,
            out,
            batch_size=size,
            limit=limit,
            device=device,
            dtype=dtype,
            groups=groups,
        )
        return "opencompass", opencompass_version(), results
    skipped = [] if cfg.is_tiny else opencompass_only(suite)
    if skipped:
        print(f"{suite}: {', '.join(skipped)} need the OpenCompass backend: skipped")
    results = run_lm_eval(
        path, tasks, include, out, ev.batch_size, limit, device, dtype, ev.request_cache
    )
    return "lm_eval", lm_eval.__version__, results


def evaluate(
    cfg: SuiteConfig,
    layout: Layout,
    model: str,
    suites: list[str] | None = None,
    tasks: list[str] | None = None,
    device: str = "cpu",
) -> dict[str, dict]:
    """Run the selected suites on MODEL; return each suite's results (as written to disk)."""
    check_suite_models(cfg)
    name, path, dtype = resolve_model(cfg, layout, model)
    chosen = suites or model_suites(cfg, name)
    for suite in chosen:
        registry.check(suite, ALL_SUITES, "suite")
    plan = plan_tasks(cfg, chosen, tasks)
    include = task_files(cfg, layout) if any(plan.values()) else None
    out, ev = layout.evaluation(name), cfg.evaluation
    params = {"evaluation": ev.model_dump(), "model_path": path, "device": device}
    params |= {"suites": ",".join(chosen), "tasks": ",".join(tasks or [])}
    outcomes: dict[str, dict] = {}
    versions: dict[str, str] = {}  # harness -> version, of the harnesses this run used
    harnesses: dict[str, str] = {}  # suite -> the harness that scored it
    with tracking.stage_run(layout, "eval", name, params):
        mlflow.set_tags(model_lineage(layout, name))
        mlflow.set_tag("items", items_tag(cfg))  # real benchmark items, or tiny-world ones
        for suite in chosen:
            if suite == "multiple":
                outcomes[suite] = run_suite(cfg, layout, path, out / suite, device, dtype)
            elif suite == "perplexity":
                outcomes[suite] = run_perplexity(cfg, layout, path, out / suite)
            elif plan[suite]:
                harness, version, results = run_harness(
                    cfg, suite, plan[suite], include, path, out / suite, device, dtype
                )
                mlflow.set_tags({f"harness.{suite}": harness, f"harness_version.{suite}": version})
                log_results(suite, results, out / suite)
                outcomes[suite], versions[harness] = results, version
                harnesses[suite] = harness
        shots = {s: shots_of(r) for s, r in outcomes.items() if s in SUITES}
        mlflow.set_tags(parity_tags(cfg, used_settings(cfg, dtype, versions, shots, harnesses)))
    return outcomes


def made_from(cfg: SuiteConfig, layout: Layout, name: str) -> dict:
    """What an evaluation of ``name`` depends on: the evaluation settings and the slice the
    model was made from (a trained variant's, else the world's), so a retrained variant is
    evaluated again."""
    trained = layout.made_from(name)
    model = json.loads(trained.read_text()) if trained.is_file() else fingerprint(cfg, "world")
    settings = json.loads(json.dumps(STAGES["eval"].slice(cfg), default=str))  # as read back
    return {"evaluation": settings, "model": model}


def evaluated(cfg: SuiteConfig, layout: Layout, name: str) -> bool:
    """Whether ``done.json`` marks ``name`` evaluated from the current slice; outputs of another
    slice are removed (suites resume from what they find, which would mix the two)."""
    out = layout.evaluation(name)
    try:
        recorded = json.loads((out / "done.json").read_text()).get("made_from")
    except (OSError, ValueError):
        return False
    current = made_from(cfg, layout, name)
    if recorded == current:
        return True
    changed = changed_keys(recorded, current) if isinstance(recorded, dict) else ["no record"]
    print(f"eval: {name} was evaluated from another config ({', '.join(changed[:5])}): redone")
    shutil.rmtree(out)
    return False


def evaluate_all(cfg: SuiteConfig, layout: Layout, device: str) -> list[str]:
    """Every config model and every finished trained variant, each once (``done.json``, for
    the slice it was evaluated from)."""
    check_suite_models(cfg)
    names = [s.name for s in cfg.models.all()]
    trained = [replica(cfg, v, s) for v, s in train_runs(cfg)]
    names += [v for v in trained if (layout.trained(v) / "meta.json").exists()]
    todo = [n for n in names if not evaluated(cfg, layout, n)]

    def mark_done(name: str) -> None:
        body = {"suites": model_suites(cfg, name), "made_from": made_from(cfg, layout, name)}
        write_text(layout.evaluation(name) / "done.json", json.dumps(body, indent=1))

    if cfg.workers > 1 and len(todo) > 1:
        task_files(cfg, layout)  # shared inputs, written once before the workers start
        extra = ("--device", device)
        run_stage_in_workers(
            cfg, layout, STAGES["eval"].module, todo, mark_done, extra, "evaluating"
        )
        return names
    for name in todo:
        evaluate(cfg, layout, name, device=device)
        mark_done(name)
    return names
