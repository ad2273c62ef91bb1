"""`make align`: vocabulary maps and DTW alignment of every source onto the target's tokens."""

from __future__ import annotations

from configs import cli, registry
from fusion.align.stage import align_source, needed_alignments


def main() -> None:
    p = cli.parser("Align each source's top-k onto the target's tokens.")
    p.add_argument("--source", default=None, help="only this source (default: all needed)")
    args = p.parse_args()
    cfg, layout = cli.load(args)
    specs = {s.name: s for s in cfg.models.sources}
    if args.source is not None:
        registry.check(args.source, sorted(specs), "source")
    for source, vocab in needed_alignments(cfg):
        if args.source in (None, source):
            print(f"alignment ready: {align_source(cfg, layout, specs[source], vocab)}")


if __name__ == "__main__":
    cli.run(main)
