"""`make world`: build the tiny world of a config."""

from __future__ import annotations

from datasets import disable_progress_bars

from configs import cli
from configs.workers import FROM_STDIN, serve
from world.build import build_models, build_world


def main() -> None:
    p = cli.parser("Build the tiny world (corpora, tokenizers, pretrained models).")
    p.add_argument(FROM_STDIN, action="store_true", help="pretrain each model named on stdin")
    args = p.parse_args()
    disable_progress_bars()  # Arrow saving bars drown the Trainer's; training keeps its bar
    cfg, layout = cli.load(args)
    if args.from_stdin:
        serve(lambda name: build_models(cfg, layout, [name]))
        return
    build_world(cfg, layout)
    print(f"world ready: {layout.world}")


if __name__ == "__main__":
    cli.run(main)
