"""`make train`: every training variant, once per seed (`--variant` for one).

With ``workers`` > 1 and no launcher (one process), the runs that train (not FuseChat's
merges, which need their pairwise targets) go to that many worker processes first; the loop
that follows then finds them done and merges.
"""

from __future__ import annotations

import os

from configs import cli
from configs.stages import STAGES
from configs.variants import get_train_variant, train_runs
from configs.workers import FROM_STDIN, run_stage_in_workers, serve
from training.train import say, train_variant


def main() -> None:
    p = cli.parser("Continue training the target: fusion variants, KD and the CLM baseline.")
    p.add_argument("--variant", default=None, help="only this variant (default: all, clm first)")
    p.add_argument(FROM_STDIN, action="store_true", help="train each variant:seed read from stdin")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.from_stdin:
        serve(lambda item: train_variant(cfg, layout, *_parse(item)))
        return
    variants = [get_train_variant(cfg, args.variant).name] if args.variant else None
    runs = train_runs(cfg, variants)
    if cfg.workers > 1 and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        trains = [f"{v}:{s}" for v, s in runs if not get_train_variant(cfg, v).merge]
        run_stage_in_workers(cfg, layout, STAGES["train"].module, trains, verb="training")
    for variant, seed in runs:
        say(f"trained model ready: {train_variant(cfg, layout, variant, seed) / 'model'}")


def _parse(item: str) -> tuple[str, int]:
    """``variant:seed``, as a worker is handed it."""
    variant, seed = item.rsplit(":", 1)
    return variant, int(seed)


if __name__ == "__main__":
    cli.run(main)
