"""`make eval`: evaluate one model (or every model and trained variant) on the config's suites."""

from __future__ import annotations

import torch

from configs import cli
from configs.workers import FROM_STDIN, serve
from evaluation.evaluate import evaluate, evaluate_all, resolve_model


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def main() -> None:
    p = cli.parser("Evaluate one model on the config's benchmark suites (lm-eval, OpenCompass).")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="config model name, trained variant or dir")
    which.add_argument("--all", action="store_true", help="every model and trained variant")
    which.add_argument(
        FROM_STDIN,
        action="store_true",
        help="evaluate each model named on a line of stdin, in turn (make eval's workers)",
    )
    p.add_argument("--suites", default=None, help="comma list (default: evaluation.suites)")
    p.add_argument("--tasks", default=None, help="comma list restricting the harness tasks")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.all:
        print(f"evaluated: {', '.join(evaluate_all(cfg, layout, device))}")
        return
    if args.from_stdin:
        serve(
            lambda name: evaluate(
                cfg, layout, name, _split(args.suites), _split(args.tasks), device
            )
        )
        return
    outcomes = evaluate(cfg, layout, args.model, _split(args.suites), _split(args.tasks), device)
    out = layout.evaluation(resolve_model(cfg, layout, args.model)[0])
    for suite, results in outcomes.items():
        if suite == "perplexity":
            for domain, f in results.items():
                print(f"perplexity {domain}: {f['perplexity']:.3f} ({f['bits_per_byte']:.3f} bpb)")
        else:
            print(f"## {suite}\n{(out / suite / 'results.md').read_text()}")


if __name__ == "__main__":
    cli.run(main)
