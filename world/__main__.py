"""`make world`: build the tiny world of a config."""

from __future__ import annotations

from datasets import disable_progress_bars

from configs import cli
from world.build import build_world


def main() -> None:
    args = cli.parser("Build the tiny world (corpora, tokenizers, pretrained models).").parse_args()
    disable_progress_bars()  # Arrow saving bars drown the Trainer's; training keeps its bar
    cfg, layout = cli.load(args)
    build_world(cfg, layout)
    print(f"world ready: {layout.world}")


if __name__ == "__main__":
    cli.run(main)
