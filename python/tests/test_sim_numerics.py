"""qgnn.sim primitives against hand-computed values (docs/quantization.md examples) and naive loops that
transcribe kernels/reference/*.cc element by element. No tools needed."""

import math

import numpy as np
import pytest

from qgnn.quantized_model import pack_int4, unpack_int4
from qgnn.sim import kernels as K
from qgnn.sim.numerics import (
    clamp,
    dequantize,
    gcn_norm_q15,
    mean_rescale,
    quantize_float,
    rescale,
    round_half_away_f32,
    rounding_shift_right,
)

M_HALF, E_HALF = 1 << 30, 31  # factor 0.5
M_ONE, E_ONE = 1 << 30, 30  # factor 1


# ------------------------------------------------------------------------------------------ rescale


def test_rescale_rounds_halves_toward_plus_infinity():
    acc = np.array([5, -5, -7, -6, 4, -4, 3, -3, 1, -1, 0])
    assert rescale(acc, M_HALF, E_HALF).tolist() == [3, -2, -3, -3, 2, -2, 2, -1, 1, 0, 0]
    assert rescale(acc, M_HALF, E_HALF).dtype == np.int64
    # m = 1: rounding_shift_right
    assert rounding_shift_right([3, -3, 2, -2, 1, -1], 1).tolist() == [2, -1, 1, -1, 1, 0]
    assert rounding_shift_right(-32768 + 32768, 16).tolist() == 0


def test_rescale_broadcasts_per_channel():
    acc = np.array([[10, 10], [-10, -10]])
    out = rescale(acc, np.array([[M_ONE, M_HALF]]), np.array([[E_ONE, E_HALF]]))
    assert out.tolist() == [[10, 5], [-10, -5]]


def test_rescale_large_products_exact_and_overflow_detected():
    # Dense worst case: |acc| < 2^31, m < 2^31, shift 62: |acc * m| < 2^62 in int64.
    acc = np.array([(1 << 31) - 1, -(1 << 31)], dtype=np.int64)
    m = (1 << 31) - 1
    expect = [((a * m) + (1 << 61)) >> 62 for a in acc.tolist()]
    assert rescale(acc, m, 62).tolist() == expect
    # Between 2^62 and 2^63 C++ is still defined: the exact fallback reproduces it.
    a = (1 << 31) + 12345
    assert rescale([a], m, 40).tolist() == [(a * m + (1 << 39)) >> 40]
    # Past 2^63 the C++ expression overflows (undefined behaviour): refuse instead of wrapping.
    with pytest.raises(OverflowError):
        rescale([1 << 33], (1 << 31) - 1, 40)


# ------------------------------------------------------------------------------------------ mean rescale


def test_mean_rescale_examples_from_the_doc():
    md, ed = mean_rescale(M_ONE, E_ONE, 6)
    assert (int(md), int(ed)) == (1431655765, 33)
    assert rescale(3, md, ed) == 0  # mean exactly 0.5, yet 0: m_d is itself rounded down
    md, ed = mean_rescale(M_HALF, E_HALF, 3)
    assert (int(md), int(ed)) == (1431655765, 33)
    assert rescale(7, md, ed) == 1
    md, ed = mean_rescale(M_ONE, E_ONE, 1)
    assert (int(md), int(ed)) == (M_ONE, E_ONE)  # degree 1: b = 0


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 1000, 1 << 22, (1 << 22) - 1])
def test_mean_rescale_against_formula(count):
    m, e = 1234567891, 37
    b = (count - 1).bit_length()
    md, ed = mean_rescale(m, e, np.array([count]))
    assert int(md[0]) == ((m << b) + count // 2) // count and int(ed[0]) == e + b
    if count & (count - 1) == 0:
        assert int(md[0]) == m  # power-of-two degree: exact


# ------------------------------------------------------------------------------------------ GCN norm


def test_gcn_norm_q15_values():
    d = np.array([1, 2, 3, 4, (1 << 22) + 1, (1 << 32) - 1])
    assert gcn_norm_q15(d).tolist() == [32768, 23170, 18919, 16384, 16, 1]


def test_gcn_norm_q15_is_round_half_up_of_2_15_over_sqrt():
    d = np.arange(1, 20001)
    got = gcn_norm_q15(d)
    # n = round(2^15 / sqrt(d)) half up, exactly: the largest n with (2n - 1)^2 d <= 2^32.
    ref = []
    for di in d.tolist():
        n = max(1, (math.isqrt((1 << 32) // di) + 1) // 2)
        while (2 * (n + 1) - 1) ** 2 * di <= 1 << 32:
            n += 1
        while n > 1 and (2 * n - 1) ** 2 * di > 1 << 32:
            n -= 1
        ref.append(n)
    assert got.tolist() == ref


# ------------------------------------------------------------------------------------------ quantize_float


def test_quantize_float_examples_from_the_doc():
    x = np.array([0.75, -0.75, 1e30, -1e30, np.nextafter(np.float32(0.25), np.float32(0))], dtype=np.float32)
    assert quantize_float(x, 0.5, -3, 8).tolist() == [-1, -5, 127, -128, -3]


def test_round_half_away_from_zero_not_to_even():
    v = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 2.4999998, 1e6, -1e6],
                 dtype=np.float32)
    assert round_half_away_f32(v).tolist() == [1, 2, 3, -1, -2, -3, 0, 0, 2, 1e6, -1e6]
    # The two shortcuts that are wrong: numpy's half-to-even and floor(v + 0.5) in float32.
    assert np.round(np.float32(2.5)) == 2
    assert np.floor(np.float32(0.49999997) + np.float32(0.5)) == 1


def test_quantize_float_saturates_and_clamps_int4():
    x = np.array([100.0, -100.0, 3.5, -3.5, 7.49, -8.5, 1e38], dtype=np.float32)
    assert quantize_float(x, 1.0, 0, 4).tolist() == [7, -8, 4, -4, 7, -8, 7]
    assert quantize_float(np.float32(0.0), 1.0, 5, 4).tolist() == 5
    with pytest.raises(ValueError):
        quantize_float(np.array([np.nan], np.float32), 1.0, 0, 8)


def test_quantize_float_uses_one_binary32_division():
    """Find x, s (float32) whose exact quotient lies just below a half but whose float32 quotient IS the half:
    C (x / s in float) rounds that half away from zero; a float64 division would not."""
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(20000):
        k = int(rng.integers(1, 200))
        s = np.float32(rng.uniform(0.01, 3.0))
        x = np.float32((k + 0.5) * float(s))
        for cand in (x, np.nextafter(x, np.float32(0)), np.nextafter(x, np.float32(np.inf))):
            q32 = np.float32(cand) / s
            q64 = float(cand) / float(s)
            if q32 == np.float32(k + 0.5) and q64 < k + 0.5:
                assert quantize_float(np.array([cand]), s, 0, 8).tolist() == [min(127, k + 1)]
                assert quantize_float(np.array([-cand]), s, 0, 8).tolist() == [max(-128, -(k + 1))]
                assert int(np.floor(q64 + 0.5)) == k  # what a float64 reimplementation would get
                found += 1
        if found >= 3:
            break
    assert found >= 3
    # float64 features are converted to float32 first, as the C API takes float.
    x64 = np.array([0.30000000000000004])
    assert quantize_float(x64, 0.1, 0, 8).tolist() == quantize_float(x64.astype(np.float32), 0.1, 0, 8).tolist()


def test_dequantize_is_one_float32_multiplication():
    q = np.array([-128, 0, 127])
    out = dequantize(q, 0.1, -3)
    assert out.dtype == np.float32
    assert out.tolist() == [np.float32(0.1) * np.float32(v) for v in (-125, 3, 130)]


# ------------------------------------------------------------------------------------------ int4 packing


def test_int4_packing_low_nibble_first():
    assert pack_int4([1, -2, 7]) == bytes([0xE1, 0x07])
    assert unpack_int4(np.frombuffer(bytes([0xE1, 0x07]), np.uint8), 3).tolist() == [1, -2, 7]
    # A [2][3] weight tensor packed contiguously: row 1 starts in the high nibble of byte 1.
    w = np.array([[1, -2, 7], [-8, 3, -1]])
    packed = pack_int4(w)
    assert packed == bytes([0xE1, 0x87, 0xF3])
    assert unpack_int4(np.frombuffer(packed, np.uint8), 6).reshape(2, 3).tolist() == w.tolist()
    # An odd total leaves the last high nibble 0; every nibble sign-extends.
    assert pack_int4([-1]) == bytes([0x0F])
    allv = np.arange(-8, 8)
    assert unpack_int4(np.frombuffer(pack_int4(allv), np.uint8), 16).tolist() == allv.tolist()
    with pytest.raises(ValueError):
        pack_int4([8])


def test_saturation_and_fused_relu():
    assert clamp([-300, 300, 5], -128, 127).tolist() == [-128, 127, 5]
    # zo + rescale, clamped at zo under a fused ReLU; int4 range [-8, 7].
    assert K.requantize(np.array([-20, 20, 3]), M_ONE, E_ONE, -2, 4).tolist() == [-8, 7, 1]
    assert K.requantize(np.array([-20, 20, 3]), M_ONE, E_ONE, -2, 4, relu=True).tolist() == [-2, 7, 1]
    assert K.requantize(np.array([-1000]), M_ONE, E_ONE, -128, 8, relu=True).tolist() == [-128]


# ------------------------------------------------------------------------------------------ kernels


def test_gcn_examples_from_the_doc():
    # Two-node graph 0 -> 1, input s = 0.1, z = -3, factor-1 aggregation requant, z_agg = 0.
    x = quantize_float(np.array([[1.0], [2.0]], np.float32), 0.1, -3, 8)
    assert x.ravel().tolist() == [7, 17]
    out = K.aggregate("gcn", x, -3, np.array([0, 0, 1]), np.array([0]), M_ONE, E_ONE, 0, 8)
    assert out.ravel().tolist() == [10, 17]
    # Node with one in-neighbour of in-degree 0, deltas 10 and 20: acc64 = 887060, t = 19.
    x = np.array([[20], [10]])  # node 0 is j, node 1 is i
    out = K.aggregate("gcn", x, 0, np.array([0, 0, 1]), np.array([0]), M_ONE, E_ONE, 0, 8)
    assert out[1, 0] == 19 == (887060 * 23170 + (1 << 29)) >> 30


def test_gin_self_term_rounding():
    # w = 32768 (eps = -0.5): delta -1 contributes 0, delta 1 contributes 1; no neighbours.
    x = np.array([[-1], [1], [3], [-3]])
    rp = np.zeros(5, np.int64)
    out = K.aggregate("sum", x, 0, rp, np.zeros(0, np.int64), M_ONE, E_ONE, 0, 8, self_weight_q16=32768)
    assert out.ravel().tolist() == [0, 1, 2, -1]
    out = K.aggregate("sum", x, 0, rp, np.zeros(0, np.int64), M_ONE, E_ONE, 0, 8, self_weight_q16=0)
    assert out.ravel().tolist() == [0, 0, 0, 0]


def test_sage_two_rescales_then_sum():
    from qgnn.quantized_model import QDense, QuantParams, Requant
    from qgnn.sim.layers import dense

    rq = Requant(np.array([M_HALF]), np.array([E_HALF]))
    neighbor = QDense(np.array([[1]], np.int8), 8, np.ones(1, np.float32), np.array([7], np.int32), rq, False)
    root = QDense(np.array([[1]], np.int8), 8, np.ones(1, np.float32), np.array([-3], np.int32), rq, False)
    zero = np.zeros((1, 1), np.int64)
    out = QuantParams(8, np.float32(1.0), 0)
    assert dense(neighbor, zero, 0, False, out, root=root, root_x=zero, root_zx=0).tolist() == [[3]]


def test_dense_float64_accumulation_is_exact_at_the_bounds():
    rng = np.random.default_rng(1)
    x = np.full((2, 32768), 127)
    x[1] = -128
    w = np.full((3, 32768), -128, dtype=np.int8)
    w[1] = 127
    w[2] = rng.integers(-128, 128, 32768)
    acc = K.dense_accumulator(x, -128, w, np.array([(1 << 30) - 1, 0, -5], np.int32))
    ref = (x.astype(np.int64) + 128) @ w.astype(np.int64).T + np.array([(1 << 30) - 1, 0, -5])
    assert acc.tolist() == ref.tolist()
    assert acc[0, 0] == (1 << 30) - 1 - 255 * 128 * 32768


def _random_csr(rng, n, max_deg, allow_empty=True):
    deg = rng.integers(0 if allow_empty else 1, max_deg + 1, n)
    deg[rng.random(n) < 0.3] = 0
    rp = np.concatenate([[0], np.cumsum(deg)]).astype(np.int64)
    col = rng.integers(0, n, int(rp[-1])).astype(np.int64)
    return rp, col


def _naive_aggregate(mode, x, zx, rp, col, m, e, zo, bits, w16):
    """A transcription of kernels/reference/aggregate.cc with Python ints."""
    def resc(a, mm, ee):
        return (a * mm + (1 << (ee - 1))) >> ee

    n, f = x.shape
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    norm = [int(v) for v in gcn_norm_q15(np.diff(rp) + 1)]
    out = np.zeros((n, f), np.int64)
    for i in range(n):
        deg = int(rp[i + 1] - rp[i])
        nb = [int(j) for j in col[rp[i]:rp[i + 1]]]
        if deg == 0 and mode in ("mean", "max"):
            out[i] = zo
            continue
        mm, ee = m, e
        if mode == "mean":
            b = 0
            while (1 << b) < deg:
                b += 1
            mm, ee = ((m << b) + (deg >> 1)) // deg, e + b
        for k in range(f):
            if mode in ("sum", "mean"):
                acc = sum(int(x[j, k]) - zx for j in nb)
                if mode == "sum" and w16:
                    acc += ((int(x[i, k]) - zx) * w16 + (1 << 15)) >> 16
            elif mode == "max":
                acc = max(int(x[j, k]) for j in nb) - zx
            else:
                a64 = (int(x[i, k]) - zx) * norm[i] + sum((int(x[j, k]) - zx) * norm[j] for j in nb)
                acc = (a64 * norm[i] + (1 << 29)) >> 30
            out[i, k] = min(max(zo + resc(acc, mm, ee), lo), hi)
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max", "gcn"])
@pytest.mark.parametrize("bits", [8, 4])
def test_aggregate_against_naive_loops(mode, bits):
    rng = np.random.default_rng(hash((mode, bits)) % 1000)
    n, f = 23, 5
    rp, col = _random_csr(rng, n, 9)
    lo, hi = (-128, 127) if bits == 8 else (-8, 7)
    x = rng.integers(lo, hi + 1, (n, f))
    zx, zo = int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))
    m, e = int(rng.integers(1 << 30, 1 << 31)), int(rng.integers(28, 36))
    w16 = 98304 if mode == "sum" else 0  # eps = 0.5
    got = K.aggregate(mode, x, zx, rp, col, m, e, zo, bits, self_weight_q16=w16)
    assert got.tolist() == _naive_aggregate(mode, x, zx, rp, col, m, e, zo, bits, w16).tolist()


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_global_pool_against_naive_loops_with_empty_graphs(mode):
    rng = np.random.default_rng(7)
    counts = np.array([3, 0, 1, 5, 0, 0, 2])
    gp = np.concatenate([[0], np.cumsum(counts)])
    x = rng.integers(-128, 128, (int(gp[-1]), 4))
    zx, zo, m, e = 5, -7, 1500000000, 33
    got = K.global_pool(mode, x, zx, gp, m, e, zo, 8)
    for g in range(len(counts)):
        rows = x[gp[g]:gp[g + 1]].astype(np.int64)
        if len(rows) == 0:
            assert got[g].tolist() == [zo] * 4
            continue
        for k in range(4):
            mm, ee = m, e
            if mode == "max":
                acc = int(rows[:, k].max()) - zx
            else:
                acc = int((rows[:, k] - zx).sum())
                if mode == "mean":
                    c = len(rows)
                    b = (c - 1).bit_length()
                    mm, ee = ((m << b) + c // 2) // c, e + b
            assert got[g, k] == min(max(zo + ((acc * mm + (1 << (ee - 1))) >> ee), -128), 127)


def test_segment_ops_handle_empty_rows():
    # reduceat's pitfall: an empty segment yields values[start], not the identity.
    vals = np.array([[1], [2], [3]])
    assert np.add.reduceat(vals, [0, 1, 1], axis=0)[1, 0] == 2  # row 1 is empty, reduceat says 2
    rp = np.array([0, 1, 1, 3, 3])
    col = np.array([2, 0, 1])
    assert K.segment_sum_gather(vals, rp, col).ravel().tolist() == [3, 0, 3, 0]
    assert K.segment_max_gather(vals, rp, col).ravel()[[0, 2]].tolist() == [3, 2]
    # Chunked columns give the same result as one pass.
    rng = np.random.default_rng(3)
    rp, col = _random_csr(rng, 50, 6)
    big = rng.integers(-128, 128, (50, 300))
    old = K._CHUNK_ELEMENTS
    try:
        whole = K.segment_sum_gather(big, rp, col), K.segment_max_gather(big, rp, col)
        K._CHUNK_ELEMENTS = 64
        chunked = K.segment_sum_gather(big, rp, col), K.segment_max_gather(big, rp, col)
    finally:
        K._CHUNK_ELEMENTS = old
    assert all((a == b).all() for a, b in zip(whole, chunked))


def test_argmax_first_maximum():
    assert K.argmax_first(np.array([[1, 3, 3], [-8, -8, -8], [7, 0, 7]])).tolist() == [1, 0, 0]
    assert K.argmax_first(np.zeros((2, 0))).tolist() == [-1, -1]
