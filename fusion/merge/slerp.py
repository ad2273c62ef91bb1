"""SLERP: spherical linear interpolation between two models, tensor by tensor.

Reference: Shoemake 1985, "Animating rotation with quaternion curves",
https://doi.org/10.1145/325165.325242 (as used for model merging by mergekit). With
``cos(Omega) = <v0/|v0|, v1/|v1|>`` over the flattened tensors:
``slerp(v0, v1; t) = sin((1 - t) Omega) / sin(Omega) * v0 + sin(t Omega) / sin(Omega) * v1``.
"""

from __future__ import annotations

import math

from torch import Tensor

from configs.errors import SuiteError

# Above this |cos(Omega)| the tensors are nearly colinear and sin(Omega) ~ 0: interpolate
# linearly instead (mergekit's DOT_THRESHOLD).
_COLINEAR = 0.9995
_EPS = 1e-8
# Entries per float64 chunk: the dot products are exact-ish without a float64 copy of a tensor.
_CHUNK = 1 << 22


def slerp(tensors: list[Tensor], *, t: float) -> Tensor:
    """Interpolate on the great circle from ``tensors[0]`` (t=0) to ``tensors[1]`` (t=1).

    Norms and the dot product are accumulated in float64: in float32 a 4096 x 11008 matrix
    loses ~1e-3 of the angle's precision, a visible share of slerp's departure from linear.

    Args:
        tensors: exactly two same-shaped tensors.
        t: interpolation factor in [0, 1].

    Returns:
        The interpolated tensor in the dtype of ``tensors[0]``; a linear interpolation when
        the two are (nearly) colinear or one is zero.
    """
    if len(tensors) != 2:
        raise SuiteError(f"slerp merges exactly 2 models, got {len(tensors)}")
    if not 0 <= t <= 1:
        raise SuiteError(f"slerp t must be in [0, 1], got {t}")
    v0, v1 = tensors[0].float(), tensors[1].float()
    n0, n1 = math.sqrt(_dot64(v0, v0)), math.sqrt(_dot64(v1, v1))
    cos = _dot64(v0, v1) / (n0 * n1) if n0 > _EPS and n1 > _EPS else 1.0
    if abs(cos) > _COLINEAR:
        merged = (1 - t) * v0 + t * v1
    else:
        omega = math.acos(min(1.0, max(-1.0, cos)))
        s0 = math.sin((1 - t) * omega) / math.sin(omega)
        s1 = math.sin(t * omega) / math.sin(omega)
        merged = s0 * v0 + s1 * v1
    return merged.to(tensors[0].dtype)


def _dot64(a: Tensor, b: Tensor) -> float:
    """``<a, b>`` over the flattened tensors, summed in float64 chunk by chunk."""
    a, b = a.reshape(-1), b.reshape(-1)
    return sum(
        float(a[i : i + _CHUNK].double() @ b[i : i + _CHUNK].double())
        for i in range(0, a.numel(), _CHUNK)
    )
