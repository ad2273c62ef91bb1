"""Token alignment of a source's top-k onto the target's tokens (DTW, EM / MinED vocabularies).

`topk` holds the reference-exact alignment (`align_topk`, the DESIGN §4 contract); `stage` runs
it over every block of a source (``make align``, ``python -m fusion.align``).
"""

from fusion.align.topk import Aligner, align_topk

__all__ = ["Aligner", "align_topk"]
