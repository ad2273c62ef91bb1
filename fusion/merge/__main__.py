"""``python -m fusion.merge``: merge saved checkpoints from the command line.

Example: ``python -m fusion.merge --models A B C --out merged --method ties --base P
--param density=0.5``. Errors print as one line and exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from configs.cli import run
from configs.errors import SuiteError
from fusion.merge import MERGE_METHODS
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


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and merge; a :class:`SuiteError` propagates to :func:`configs.cli.run`."""
    p = argparse.ArgumentParser(prog="python -m fusion.merge", description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", required=True, help="model directories to merge")
    p.add_argument("--out", required=True, help="output directory (must not exist)")
    p.add_argument("--method", required=True, help=f"one of: {', '.join(MERGE_METHODS)}")
    p.add_argument("--base", default=None, help="base model (ties, dare_ties, dare_linear)")
    p.add_argument("--weights", nargs="+", type=float, default=None, help="one per model")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    params = parse_params(args.param)
    merge_checkpoints(args.models, args.out, args.method, params, args.base, args.weights)
    print(f"merged {len(args.models)} models ({args.method}) into {args.out}")


if __name__ == "__main__":
    run(main)
