"""``python -m fusion.merge``: merge saved checkpoints from the command line.

Example: ``python -m fusion.merge --models A B C --out merged --method ties --base P
--param density=0.5``. Errors print as one line and exit 2.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

import yaml

from configs.cli import run
from configs.errors import SuiteError
from fusion.merge import MERGE_METHODS, MergeFn
from fusion.merge.driver import merge_checkpoints


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["density=0.5", "consensus=null"]`` -> ``{"density": 0.5, "consensus": None}``."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SuiteError(f"--param '{item}': expected KEY=VALUE, e.g. density=0.5")
        params[key] = yaml.safe_load(value)
    return params


def describe(name: str, fn: MergeFn) -> str:
    """One help line: the method, whether it needs --base, and its parameters with defaults."""
    params = inspect.signature(fn).parameters
    parts = [
        ("lambda" if n == "lambda_" else n)
        + (" (required)" if p.default is p.empty else f"={p.default!r}")
        for n, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    base = " [--base]" if "base" in params else ""
    return f"  {name}{base}: {', '.join(parts) or 'no parameters'}"


EPILOG = """methods and their --param keys (defaults after =):
{methods}

A value is a scalar, a per-layer gradient ('t=[0,0.5,1]') or per-tensor conditions
('t=[{{filter: self_attn, value: 0.3}}, {{value: 0.7}}]'); list-typed keys (weights,
density, gamma, epsilon) take one value per model ('density=[0.5,0.7]'). See README,
"Weight merging"."""


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and merge; a :class:`SuiteError` propagates to :func:`configs.cli.run`."""
    p = argparse.ArgumentParser(
        prog="python -m fusion.merge",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG.format(methods="\n".join(describe(n, fn) for n, fn in MERGE_METHODS.items())),
    )
    p.add_argument("--models", nargs="+", required=True, help="model directories to merge")
    p.add_argument("--out", required=True, help="output directory (must not exist)")
    p.add_argument("--method", required=True, help=f"one of: {', '.join(MERGE_METHODS)}")
    p.add_argument("--base", default=None, help="base (pivot) model, for methods marked [--base]")
    p.add_argument("--weights", nargs="+", type=float, default=None, help="one per model")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    params = parse_params(args.param)
    merge_checkpoints(args.models, args.out, args.method, params, args.base, args.weights)
    print(f"merged {len(args.models)} models ({args.method}) into {args.out}")


if __name__ == "__main__":
    run(main)
