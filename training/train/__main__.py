"""`make train`: every training variant, once per seed (`--variant` for one)."""

from __future__ import annotations

from configs import cli
from configs.variants import get_train_variant, train_runs
from training.train import say, train_variant


def main() -> None:
    p = cli.parser("Continue training the target: fusion variants, KD and the CLM baseline.")
    p.add_argument("--variant", default=None, help="only this variant (default: all, clm first)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    variants = [get_train_variant(cfg, args.variant).name] if args.variant else None
    for variant, seed in train_runs(cfg, variants):
        say(f"trained model ready: {train_variant(cfg, layout, variant, seed) / 'model'}")


if __name__ == "__main__":
    cli.run(main)
