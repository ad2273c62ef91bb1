"""Shared command-line front of every stage: ``--config``, ``--runs``, ``--set a.b=v``.

Stages are functions of a validated config; this module is the thin shell around them that
turns a :class:`SuiteError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from configs.errors import SuiteError
from configs.layout import Layout
from configs.loader import load_config
from configs.schema import SuiteConfig


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every stage takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", default="configs/tiny.yaml", help="suite config YAML")
    p.add_argument("--runs", default=None, help="artifact root (default: $RUNS or runs)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set fusion.topk=5 (repeatable)",
    )
    return p


def load(args: argparse.Namespace) -> tuple[SuiteConfig, Layout]:
    """Validated config and its layout from parsed arguments."""
    cfg = load_config(args.config, args.overrides)
    return cfg, Layout.of(cfg, args.runs)


def run(main: Callable[[], None]) -> None:
    """Call ``main``; report a :class:`SuiteError` as one line and exit 2."""
    try:
        main()
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
