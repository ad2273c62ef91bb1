"""`make represent`: every model's top-k next-token logits and block CE over the corpus blocks."""

from __future__ import annotations

from configs import cli
from fusion.represent import models_to_represent, represent_model


def main() -> None:
    p = cli.parser("Record each model's top-k next-token logits and CE over the blocks.")
    p.add_argument("--model", default=None, help="only this model (default: all)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    for spec in models_to_represent(cfg, args.model):
        print(f"representation ready: {represent_model(cfg, layout, spec)}")


if __name__ == "__main__":
    cli.run(main)
