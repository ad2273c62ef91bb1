"""`make card`: every world model on the world's probes and on the fusion corpus."""

from __future__ import annotations

import json

from configs import cli
from evaluation.card import FUSION_CORPUS, run_card


def main() -> None:
    args = cli.parser("world card: probes per knowledge partition, fusion-corpus bits/byte")
    cfg, layout = cli.load(args.parse_args())
    for name, out in run_card(cfg, layout).items():
        summary = json.loads((out / "summary.json").read_text())
        corpus = summary.pop(FUSION_CORPUS, None)
        bpb = f"fusion-corpus bits/byte={corpus['bits_per_byte']:.3f}  " if corpus else ""
        cells = "  ".join(f"{p}={s['acc']:.2f}" for p, s in summary.items())
        print(f"{name:<20} {bpb}{cells}")


if __name__ == "__main__":
    cli.run(main)
