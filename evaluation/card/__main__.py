"""`make card`: every world model on the world's probes and on the fusion corpus."""

from __future__ import annotations

import json

from configs import cli
from configs.workers import FROM_STDIN, serve
from evaluation.card import FUSION_CORPUS, card_of, run_card


def main() -> None:
    p = cli.parser("world card: probes per knowledge partition, fusion-corpus bits/byte")
    p.add_argument(FROM_STDIN, action="store_true", help="measure each model named on stdin")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.from_stdin:
        serve(lambda name: card_of(cfg, layout, [name]))
        return
    for name, out in run_card(cfg, layout).items():
        summary = json.loads((out / "summary.json").read_text())
        corpus = summary.pop(FUSION_CORPUS, None)
        bpb = f"fusion-corpus bits/byte={corpus['bits_per_byte']:.3f}  " if corpus else ""
        cells = "  ".join(f"{p}={s['acc']:.2f}" for p, s in summary.items())
        print(f"{name:<20} {bpb}{cells}")


if __name__ == "__main__":
    cli.run(main)
