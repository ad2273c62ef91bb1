"""`make real-data`: fetch real BBH and HumanEval items and write them as lm-eval tasks
(`--model` also evaluates a model on them)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from configs import cli
from configs.errors import SuiteError
from configs.layout import Layout
from evaluation.evaluate import evaluate
from evaluation.real import cache as real_cache
from evaluation.real.humaneval import humaneval_problems
from evaluation.real.items import CODE_LANGUAGES, generate_real_tasks


def _report(layout: Layout, include: Path, fetched: bool) -> None:
    state = "fetched" if fetched else "already complete (sha256 verified, nothing downloaded)"
    print(f"real-data cache {layout.realdata}: {state}")
    counts = json.loads((include / "manifest.json").read_text())["counts"]
    print(f"{'task':<52} {'source':<42} {'available':>9} {'shots':>5} {'test':>5}")
    for task, c in counts.items():
        pool = "rule" if c["available"] is None else c["available"]
        print(f"{task:<52} {c['source']:<42} {pool:>9} {c['shots']:>5} {c['test']:>5}")
    tests = sum(c["test"] for c in counts.values())
    print(f"{len(counts)} BBH tasks, {tests} test items: lm-eval tasks under {include}")
    for language in CODE_LANGUAGES:
        problems = humaneval_problems(layout.realdata, language)
        print(f"HumanEval {language}: {len(problems)} problems")


def main() -> None:
    p = cli.parser("Fetch real BBH (BIG-bench) and HumanEval items; write them as lm-eval tasks.")
    p.set_defaults(config="configs/realdata.yaml")
    p.add_argument("--archives", type=Path, default=None, help="folder holding the archives")
    p.add_argument("--model", default=None, help="also evaluate this model on the real items")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.model and cfg.evaluation.items != "real":
        raise SuiteError(
            f"{args.config} evaluates tiny-world items: use configs/realdata.yaml or "
            "--set evaluation.items=real"
        )
    _, fetched = real_cache.fetch(layout.realdata, args.archives)
    include = generate_real_tasks(cfg, layout)
    _report(layout, include, fetched)
    if args.model:
        device = "cuda" if torch.cuda.is_available() else "cpu"
        evaluate(cfg, layout, args.model, device=device)


if __name__ == "__main__":
    cli.run(main)
