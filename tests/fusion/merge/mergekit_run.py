"""Run mergekit recipes for the parity test, inside ``.venv-mergekit`` (``make mergekit-env``).

Usage: ``.venv-mergekit/bin/python tests/fusion/merge/mergekit_run.py JOBS.json``, where the
file lists ``{"config": <mergekit YAML as a dict>, "out": <dir>}``. DARE's Bernoulli draw
(mergekit's global RNG) is replaced by :func:`value_mask`, the mask the test injects into the
suite, so the two are compared with identical drop masks.
"""

from __future__ import annotations

import json
import sys
import zlib

import torch


def value_mask(delta: torch.Tensor, keep: float) -> torch.Tensor:
    """A drop mask seeded by the task vector's own bytes: the same in both processes."""
    seed = zlib.crc32(delta.detach().contiguous().numpy().tobytes())
    return torch.rand(delta.shape, generator=torch.Generator().manual_seed(seed)) < keep


def _inject_masks() -> None:
    import mergekit.sparsify as sparsify

    def bernoulli(tensor, density, rescale_norm=None):
        if density >= 1:
            return tensor
        mask = value_mask(tensor, density).to(tensor.dtype)
        return sparsify.rescaled_masked_tensor(tensor, mask, rescale_norm)

    sparsify.bernoulli = bernoulli


def main(jobs_file: str) -> None:
    from mergekit.config import MergeConfiguration
    from mergekit.merge import MergeOptions, run_merge

    _inject_masks()
    options = MergeOptions(copy_tokenizer=False, write_model_card=False, quiet=True)
    with open(jobs_file) as handle:
        jobs = json.load(handle)
    for job in jobs:
        run_merge(MergeConfiguration.model_validate(job["config"]), job["out"], options=options)


if __name__ == "__main__":
    main(sys.argv[1])
