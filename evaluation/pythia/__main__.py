"""`make pythia`: experts, ensemble, weight merging, FuseLLM and FuseChat's merges, per domain."""

from __future__ import annotations

import json

from configs import cli
from evaluation.pythia import run_pythia


def main() -> None:
    args = cli.parser("Pythia experiment: experts, ensemble, merges, FuseLLM").parse_args()
    cfg, layout = cli.load(args)
    path = run_pythia(cfg, layout)
    for row, figures in json.loads(path.read_text()).items():
        cells = "  ".join(f"{d}={f['bits_per_byte']:.4f}" for d, f in figures.items())
        print(f"{row:<16} bits/byte  {cells}")


if __name__ == "__main__":
    cli.run(main)
