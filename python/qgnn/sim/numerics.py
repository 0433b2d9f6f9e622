"""The integer building blocks of kernels/include/qgnn/kernels/numerics.h, vectorised with numpy int64.

Every function takes scalars or arrays (broadcast together) and returns int64 arrays (float32 for
dequantize). The C++ functions are the specification; docs/quantization.md states the same rules in prose.

numpy pitfalls handled here (docs/simulator.md):
  * int64 overflow wraps silently in numpy. The documented bounds keep |acc * m| < 2^62; `rescale` checks them
    with a conservative float64 estimate and recomputes with exact Python integers when the estimate comes
    near 2^63, raising OverflowError where C++ itself would overflow (undefined behaviour there).
  * `>>` on signed numpy integers is an arithmetic shift (floor), like C++20 / every compiler's int64 `>>`.
  * np.round / Python round are round-half-to-even; quantize_float needs C roundf (half away from zero) and
    rescale needs half toward +inf. Neither is np.round.
  * x / s must be ONE binary32 division: the operands are forced to float32 first (a float64 feature or scale
    would give a different quotient near halves), and no reciprocal is used.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "qmin",
    "qmax",
    "clamp",
    "rescale",
    "rounding_shift_right",
    "mean_rescale",
    "gcn_norm_q15",
    "quantize_float",
    "dequantize",
    "round_half_away_f32",
]

_I64_MAX = (1 << 63) - 1
_SAFE = float(1 << 62)  # float64 estimates below this cannot hide an int64 overflow (error < 2^-52 relative)


def qmin(bits: int) -> int:
    return -(1 << (int(bits) - 1))


def qmax(bits: int) -> int:
    return (1 << (int(bits) - 1)) - 1


def clamp(v, lo, hi) -> np.ndarray:
    """clamp_i64: saturate to [lo, hi] (lo/hi may be arrays, e.g. a fused ReLU's per-tensor zero point)."""
    return np.minimum(np.maximum(np.asarray(v, dtype=np.int64), lo), hi)


def _as_i64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


def rescale(acc, multiplier, shift) -> np.ndarray:
    """(acc * multiplier + 2^(shift - 1)) >> shift in int64: round(acc * m / 2^e), halves toward +inf.

    Preconditions (as numerics.h): 0 <= multiplier < 2^32, 1 <= shift <= 62. |acc * m| < 2^62 holds for every
    model the runtime accepts; larger products are computed exactly (Python ints) as long as the C++ int64
    expression would not overflow, else OverflowError."""
    acc, m, e = np.broadcast_arrays(_as_i64(acc), _as_i64(multiplier), _as_i64(shift))
    if acc.size == 0:
        return np.zeros(acc.shape, dtype=np.int64)
    if int(e.min()) < 1 or int(e.max()) > 62:
        raise ValueError("rescale shift outside [1, 62]")
    if int(m.min()) < 0 or int(m.max()) >= (1 << 32):
        raise ValueError("rescale multiplier outside [0, 2^32)")
    estimate = np.abs(acc.astype(np.float64)) * m.astype(np.float64) + np.ldexp(1.0, (e - 1).astype(np.int32))
    if float(estimate.max()) < _SAFE:
        return (acc * m + np.left_shift(np.int64(1), e - 1)) >> e
    # Near or past int64: exact arithmetic, element by element, reproducing C++ where it is defined.
    out = np.empty(acc.shape, dtype=np.int64)
    for idx in np.ndindex(acc.shape):
        a, mm, ee = int(acc[idx]), int(m[idx]), int(e[idx])
        prod = a * mm
        total = prod + (1 << (ee - 1))
        if not (-_I64_MAX - 1 <= prod <= _I64_MAX and total <= _I64_MAX):
            raise OverflowError(f"rescale({a}, {mm}, {ee}) overflows int64 (undefined in the C++ runtime)")
        out[idx] = total >> ee
    return out


def rounding_shift_right(v, shift) -> np.ndarray:
    """(v + 2^(shift - 1)) >> shift in int64 (shift >= 1): rescale with multiplier 1."""
    v, k = np.broadcast_arrays(_as_i64(v), _as_i64(shift))
    return (v + np.left_shift(np.int64(1), k - 1)) >> k


def mean_rescale(multiplier, shift, count):
    """(m_d, e + b): b = smallest integer with 2^b >= count, m_d = ((m << b) + count // 2) // count (integer
    division of non-negative values, i.e. round half up of m * 2^b / count). count >= 1."""
    m, e, c = np.broadcast_arrays(_as_i64(multiplier), _as_i64(shift), _as_i64(count))
    if c.size and int(c.min()) < 1:
        raise ValueError("mean_rescale needs count >= 1")
    b = np.zeros(c.shape, dtype=np.int64)
    while True:  # at most 32 passes (count < 2^32)
        grow = np.left_shift(np.int64(1), b) < c
        if not grow.any():
            break
        b += grow
    m_d = (np.left_shift(m, b) + (c >> 1)) // c
    return m_d, e + b


def gcn_norm_q15(degree) -> np.ndarray:
    """round(2^15 / sqrt(degree)) = the largest n in [1, 32768] with (2n - 1)^2 <= 2^32 // degree, by integer
    bisection over [1, 32768] exactly like numerics.h (degree counts the self-loop, so degree >= 1)."""
    d = _as_i64(degree)
    if d.size and (int(d.min()) < 1 or int(d.max()) >= (1 << 32)):
        raise ValueError("gcn_norm_q15 degree outside [1, 2^32)")
    limit = np.int64(1 << 32) // np.maximum(d, 1)
    lo = np.ones(d.shape, dtype=np.int64)
    hi = np.full(d.shape, 32768, dtype=np.int64)
    while np.any(lo < hi):
        active = lo < hi
        mid = (lo + hi + 1) // 2
        odd = 2 * mid - 1
        ok = odd * odd <= limit
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid - 1, hi)
    return lo


def round_half_away_f32(v) -> np.ndarray:
    """C roundf on float32 values (halves away from zero), exact: trunc, then the float32 fraction v - trunc(v)
    (exact by Sterbenz) decides. Not np.round (half to even), and not floor(v + 0.5) in float32 (0.49999997f
    + 0.5f rounds to 1.0f)."""
    v = np.asarray(v, dtype=np.float32)
    t = np.trunc(v)
    frac = v - t
    return (t + np.where(np.abs(frac) >= np.float32(0.5), np.sign(v), np.float32(0))).astype(np.float64)


def quantize_float(x, scale, zero_point: int, bits: int) -> np.ndarray:
    """q = clamp(round_half_away(clamp(x / s, -1e6, 1e6)) + z, qmin, qmax), with x / s ONE binary32 division.
    x must be finite (the runtime rejects NaN / inf features). `scale` is one scale or one per column (the
    last axis of x: per-column input scales)."""
    x32 = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x32)):
        raise ValueError("features hold NaN or infinity (the runtime rejects them: QGNN_NON_FINITE_INPUT)")
    s32 = np.asarray(scale, dtype=np.float32)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        v = np.divide(x32, s32, dtype=np.float32)
    limit = np.float32(1.0e6)
    v = np.where(v < -limit, -limit, np.where(v > limit, limit, v)).astype(np.float32)
    r = round_half_away_f32(v).astype(np.int64)
    return clamp(r + int(zero_point), qmin(bits), qmax(bits))


def dequantize(q, scale, zero_point: int) -> np.ndarray:
    """real = scale * float(q - z): one binary32 multiplication."""
    diff = (_as_i64(q) - int(zero_point)).astype(np.float32)
    return np.multiply(np.float32(scale), diff, dtype=np.float32)
