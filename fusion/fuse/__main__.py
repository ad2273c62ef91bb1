"""`make fuse`: the fused target distributions of every variant.

With ``workers`` > 1 the variants still to fuse go to that many worker processes (each
variant reads the shared representations and alignments and writes its own dataset); the
loop that follows finds them done and names them.
"""

from __future__ import annotations

from configs import cli
from configs.stages import STAGES
from configs.variants import fuse_variants, get_variant
from configs.workers import FROM_STDIN, run_stage_in_workers, serve
from fusion.fuse.stage import fuse_variant


def main() -> None:
    p = cli.parser("Fuse the aligned candidate distributions into training targets.")
    p.add_argument("--variant", default=None, help="only this variant (default: all)")
    p.add_argument(FROM_STDIN, action="store_true", help="fuse each variant named on stdin")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    if args.from_stdin:
        serve(lambda name: fuse_variant(cfg, layout, get_variant(cfg, name)))
        return
    variants = [get_variant(cfg, args.variant)] if args.variant else fuse_variants(cfg).values()
    todo = [v.name for v in variants if not (layout.fused(v.name) / "meta.json").exists()]
    if cfg.workers > 1 and len(todo) > 1:
        run_stage_in_workers(cfg, layout, STAGES["fuse"].module, todo, verb="fusing")
    for variant in variants:
        print(f"fused targets ready: {fuse_variant(cfg, layout, variant)}")


if __name__ == "__main__":
    cli.run(main)
