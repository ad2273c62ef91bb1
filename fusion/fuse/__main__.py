"""`make fuse`: the fused target distributions of every variant."""

from __future__ import annotations

from configs import cli
from configs.variants import fuse_variants, get_variant
from fusion.fuse.stage import fuse_variant


def main() -> None:
    p = cli.parser("Fuse the aligned candidate distributions into training targets.")
    p.add_argument("--variant", default=None, help="only this variant (default: all)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    variants = [get_variant(cfg, args.variant)] if args.variant else fuse_variants(cfg).values()
    for variant in variants:
        print(f"fused targets ready: {fuse_variant(cfg, layout, variant)}")


if __name__ == "__main__":
    cli.run(main)
