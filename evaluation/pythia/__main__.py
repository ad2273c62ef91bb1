"""`make pythia`: experts, ensemble, weight merging, FuseLLM and FuseChat's merges, per domain."""

from __future__ import annotations

import json

from configs import cli
from configs.workers import FROM_STDIN, serve
from evaluation.pythia import run_pythia, run_seed


def main() -> None:
    p = cli.parser("Pythia experiment: experts, ensemble, merges, FuseLLM")
    p.add_argument(FROM_STDIN, action="store_true", help="run each seed read from stdin")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.from_stdin:
        first = cfg.reporting.seeds[0]
        serve(lambda seed: run_seed(cfg, layout, int(seed), with_base=int(seed) == first))
        return
    path = run_pythia(cfg, layout)
    for row, figures in json.loads(path.read_text()).items():
        cells = "  ".join(f"{d}={f['bits_per_byte']:.4f}" for d, f in figures.items())
        print(f"{row:<16} bits/byte  {cells}")


if __name__ == "__main__":
    cli.run(main)
