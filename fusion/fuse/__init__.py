"""Fusion of the aligned candidate distributions (MinCE / AvgCE).

`methods` holds the fusion functions (`fuse_topk`, the DESIGN §4 contract); `stage` builds each
variant's fused dataset (``make fuse``, ``python -m fusion.fuse``).
"""

from fusion.fuse.methods import FUSION_FUNCTIONS, fuse_topk

__all__ = ["FUSION_FUNCTIONS", "fuse_topk"]
