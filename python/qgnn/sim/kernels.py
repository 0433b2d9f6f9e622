"""The reference kernels of kernels/reference/*.cc as whole-array numpy int64 operations.

Activations are int64 arrays of VALUES [rows, cols] (int4 values in [-8, 7]); packing int4 rows into bytes is
lossless and does not change any value, so the simulator never packs. Sums over neighbours are exact integer
sums, so their order does not matter (the runtime's twins rely on the same fact).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .numerics import clamp, gcn_norm_q15, mean_rescale, qmax, qmin, rescale, rounding_shift_right

# Columns per chunk when gathering neighbour rows (E x chunk int64 values at a time): bounds memory on wide
# inputs such as Cora's 1433 features.
_CHUNK_ELEMENTS = 1 << 22


def _column_chunks(cols: int, rows: int):
    step = max(1, _CHUNK_ELEMENTS // max(rows, 1))
    for start in range(0, cols, step):
        yield start, min(cols, start + step)


def segment_sum_gather(values: np.ndarray, row_ptr: np.ndarray, col_idx: np.ndarray) -> np.ndarray:
    """out[i] = sum_{e in [row_ptr[i], row_ptr[i+1])} values[col_idx[e]] (int64; empty rows give 0).

    A prefix sum over the gathered rows differenced at row_ptr: handles empty rows without the reduceat pitfall
    (np.add.reduceat returns values[start] for an empty segment instead of 0)."""
    rows = row_ptr.shape[0] - 1
    cols = values.shape[1]
    out = np.zeros((rows, cols), dtype=np.int64)
    if col_idx.size == 0 or cols == 0:
        return out
    for a, b in _column_chunks(cols, col_idx.size):
        gathered = values[col_idx, a:b]
        prefix = np.zeros((col_idx.size + 1, b - a), dtype=np.int64)
        np.cumsum(gathered, axis=0, out=prefix[1:])
        out[:, a:b] = prefix[row_ptr[1:]] - prefix[row_ptr[:-1]]
    return out


def segment_max_gather(values: np.ndarray, row_ptr: np.ndarray, col_idx: Optional[np.ndarray]) -> np.ndarray:
    """out[i] = max_{e in row i} values[col_idx[e]] for rows with at least one entry (col_idx None: values[e]
    itself, contiguous segments). Rows without entries get 0 (callers overwrite them).

    np.maximum.reduceat is applied to the non-empty rows' starts only: reduceat reduces [idx[k], idx[k+1]), and
    the empty rows between two non-empty ones own no entries, so each non-empty row's segment is exact; the last
    runs to the end (= row_ptr[-1])."""
    rows = row_ptr.shape[0] - 1
    cols = values.shape[1]
    out = np.zeros((rows, cols), dtype=np.int64)
    count = np.diff(row_ptr)
    nonempty = np.flatnonzero(count > 0)
    if nonempty.size == 0 or cols == 0:
        return out
    starts = row_ptr[nonempty]
    total = int(row_ptr[-1])
    for a, b in _column_chunks(cols, total):
        gathered = values[:total, a:b] if col_idx is None else values[col_idx, a:b]
        out[nonempty, a:b] = np.maximum.reduceat(gathered, starts, axis=0)
    return out


def requantize(acc, multiplier, shift, zero_point: int, bits: int, relu: bool = False) -> np.ndarray:
    """clamp(zo + rescale(acc, m, e), lo, qmax), lo = zo under a fused ReLU (max(qmin, zo) = zo)."""
    lo = max(qmin(bits), zero_point) if relu else qmin(bits)
    return clamp(zero_point + rescale(acc, multiplier, shift), lo, qmax(bits))


def aggregate(mode: str, x: np.ndarray, zx: int, row_ptr: np.ndarray, col_idx: np.ndarray, multiplier: int,
              shift: int, zo: int, out_bits: int, self_weight_q16: int = 0, bias: Optional[np.ndarray] = None,
              relu: bool = False) -> np.ndarray:
    """aggregate() of reference.h; mode "sum" (GIN self term when self_weight_q16 != 0), "mean", "max", "gcn".
    bias ("sum" and "gcn" only): per-column int32 added to acc (sum) or t (gcn) before the rescale, in the
    accumulator's units; relu: the clamp's lower bound is max(qmin, zo) (a transform-first GCNConv uses both)."""
    if bias is not None and mode not in ("sum", "gcn"):
        raise ValueError(f"an aggregation bias needs mode sum or gcn, not {mode!r}")
    n = x.shape[0]
    delta = x.astype(np.int64) - zx
    degree = np.diff(row_ptr).astype(np.int64)
    m = np.full((n, 1), multiplier, dtype=np.int64)
    e = np.full((n, 1), shift, dtype=np.int64)
    if mode == "sum":
        acc = segment_sum_gather(delta, row_ptr, col_idx)
        if self_weight_q16 != 0:
            # (x_i - zx) * w formed in int64, rounded >> 16 (half toward +inf), then added to the int32 sum.
            acc += rounding_shift_right(delta * np.int64(self_weight_q16), 16)
    elif mode == "mean":
        acc = segment_sum_gather(delta, row_ptr, col_idx)
        md, ed = mean_rescale(multiplier, shift, np.maximum(degree, 1))
        m, e = md[:, None], ed[:, None]
    elif mode == "max":
        acc = segment_max_gather(x.astype(np.int64), row_ptr, col_idx) - zx
    elif mode == "gcn":
        norm = gcn_norm_q15(degree + 1)  # every node: neighbours are looked up by id
        scaled = delta * norm[:, None]  # Q15 terms, |.| < 2^23
        acc64 = scaled + segment_sum_gather(scaled, row_ptr, col_idx)  # self-loop + neighbours, < 2^45
        acc = rounding_shift_right(acc64 * norm[:, None], 30)  # Q30 -> integer, product < 2^60
    else:
        raise ValueError(f"unknown aggregation mode {mode!r}")
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)[None, :]
    out = requantize(acc, m, e, zo, out_bits, relu)
    if mode in ("mean", "max"):
        out[degree == 0] = zo  # an empty neighbourhood is real 0
    return out


def dense_accumulator(x: np.ndarray, zx: int, weight: np.ndarray, bias: Optional[np.ndarray]) -> np.ndarray:
    """bias[c] + sum_k (x[i][k] - zx) * w[c][k], exact.

    Computed as a float64 matrix product: every term is an integer with |term| <= 255 * 128 and there are at
    most 2^15 of them, so every partial sum is an integer below 2^30 < 2^53 and the BLAS result is exact
    whatever its summation order or FMA use (numpy's int64 matmul has no BLAS and is ~50x slower)."""
    delta = x.astype(np.int64) - zx
    if weight.shape[1] > 32768:
        raise ValueError("more than 32768 input features: the float64 accumulation is no longer proven exact")
    acc = (delta.astype(np.float64) @ weight.astype(np.float64).T).astype(np.int64)
    if bias is not None:
        acc += bias.astype(np.int64)[None, :]
    return acc


def global_pool(mode: str, x: np.ndarray, zx: int, graph_ptr: np.ndarray, multiplier: int, shift: int,
                zo: int, out_bits: int) -> np.ndarray:
    """global_pool() of reference.h: one row per graph over nodes [graph_ptr[g], graph_ptr[g+1])."""
    count = np.diff(graph_ptr).astype(np.int64)
    g = count.shape[0]
    cols = x.shape[1]
    m = np.full((g, 1), multiplier, dtype=np.int64)
    e = np.full((g, 1), shift, dtype=np.int64)
    if mode in ("sum", "mean"):
        delta = x.astype(np.int64) - zx
        prefix = np.zeros((x.shape[0] + 1, cols), dtype=np.int64)
        np.cumsum(delta, axis=0, out=prefix[1:])
        acc = prefix[graph_ptr[1:]] - prefix[graph_ptr[:-1]]
        if mode == "mean":
            md, ed = mean_rescale(multiplier, shift, np.maximum(count, 1))
            m, e = md[:, None], ed[:, None]
    elif mode == "max":
        acc = segment_max_gather(x.astype(np.int64), graph_ptr, None) - zx
    else:
        raise ValueError(f"unknown pooling mode {mode!r}")
    out = requantize(acc, m, e, zo, out_bits)
    out[count == 0] = zo  # an empty graph pools to real 0
    return out


def argmax_first(q: np.ndarray) -> np.ndarray:
    """Index of the first maximum of each row; -1 for rows without columns."""
    q = np.asarray(q)
    if q.ndim != 2:
        raise ValueError("argmax_first takes a 2-D array")
    if q.shape[1] == 0:
        return np.full(q.shape[0], -1, dtype=np.int32)
    return np.argmax(q, axis=1).astype(np.int32)  # numpy returns the first occurrence of the maximum


def gat_rows(row_ptr: np.ndarray, col_idx: np.ndarray):
    """The attention rows J(i) = {i} ∪ N(i) as a CSR: (row starts [N + 1], sources [N + E], destinations
    [N + E]), each row's self-loop first, then its edges in CSR order. The kernel always adds the self-loop, on
    top of an explicit self-loop edge, so every row is non-empty."""
    n = row_ptr.shape[0] - 1
    degree = np.diff(row_ptr).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(degree + 1)]).astype(np.int64)
    source = np.empty(int(starts[-1]), dtype=np.int64)
    dest = np.repeat(np.arange(n, dtype=np.int64), degree + 1)
    self_pos = starts[:-1]
    is_edge = np.ones(source.shape[0], dtype=bool)
    is_edge[self_pos] = False
    source[self_pos] = np.arange(n, dtype=np.int64)
    source[is_edge] = col_idx.astype(np.int64)
    return starts, source, dest


def gat_attention_terms(m: np.ndarray, zm: int, heads: int, att_src: np.ndarray, att_dst: np.ndarray):
    """gat_attention_terms of reference.h: src[j][h] = sum_f a_src[h F + f] (m[j][h F + f] - zm), dst
    likewise (int64 [N, H] each; exact, |.| < 2^30)."""
    n = m.shape[0]
    delta = (m.astype(np.int64) - zm).reshape(n, heads, m.shape[1] // heads)
    a_src = np.asarray(att_src, np.int64).reshape(heads, -1)
    a_dst = np.asarray(att_dst, np.int64).reshape(heads, -1)
    return np.einsum("nhf,hf->nh", delta, a_src), np.einsum("nhf,hf->nh", delta, a_dst)


def gat_logits(src: np.ndarray, dst: np.ndarray, source: np.ndarray, dest: np.ndarray, zl: int,
               pos: Tuple[int, int], neg: Tuple[int, int], bits: int = 8) -> np.ndarray:
    """Logits [E', H] of the attention terms (source -> dest), 8 or 4 bits wide (clamped to [-128, 127] or
    [-8, 7]): LeakyReLU and the requantization in one rescale whose factor is chosen by the sign of src + dst."""
    acc = src[source] + dst[dest]
    nonneg = acc >= 0
    mult = np.where(nonneg, np.int64(pos[0]), np.int64(neg[0]))
    shift = np.where(nonneg, np.int64(pos[1]), np.int64(neg[1]))
    return clamp(zl + rescale(acc, mult, shift), qmin(bits), qmax(bits))


def gat_alpha(logits: np.ndarray, starts: np.ndarray, dest: np.ndarray, exp_table: np.ndarray) -> np.ndarray:
    """The integer softmax per row and head (docs/quantization.md, "GAT attention (kernels)" step 3): alpha
    [E', H] in [0, 255] ~ 256 t / S with t = T[e_max - e]."""
    if logits.shape[0] == 0:  # no nodes (an empty graph of a batch)
        return np.zeros(logits.shape, dtype=np.int64)
    emax = np.maximum.reduceat(logits, starts[:-1], axis=0)  # every row holds its self-loop: none empty
    table = np.asarray(exp_table, dtype=np.int64)
    t = table[emax[dest] - logits]
    total = np.add.reduceat(t, starts[:-1], axis=0)
    inv = np.where(total > 0, ((np.int64(1) << 47) + total // 2) // np.maximum(total, 1), 0)
    inv = np.minimum(inv, np.int64(0xFFFFFFFF))
    return np.minimum((t * inv[dest] + (np.int64(1) << 38)) >> 39, 255)


def gat_weighted_sum(alpha: np.ndarray, m: np.ndarray, zm: int, starts: np.ndarray, source: np.ndarray,
                     concat: bool) -> np.ndarray:
    """acc_h[f] = sum_{j in J(i)} alpha_ij^h (m[j][h F + f] - zm) per row (int64 [N, H F]); the mean of heads
    sums the heads into [N, F]."""
    heads = alpha.shape[1]
    n = starts.shape[0] - 1
    cols = m.shape[1]
    delta = (m.astype(np.int64) - zm).reshape(m.shape[0], heads, cols // heads)
    out = np.zeros((n, cols), dtype=np.int64)
    step = max(1, _CHUNK_ELEMENTS // max(cols, 1))
    # terms chunked by rows of the attention CSR (E' x H F int64 at once would be large on big graphs)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        a, b = int(starts[r0]), int(starts[r1])
        if b == a:
            continue
        terms = (alpha[a:b, :, None] * delta[source[a:b]]).reshape(b - a, cols)
        out[r0:r1] = np.add.reduceat(terms, starts[r0:r1] - a, axis=0)
    if concat:
        return out
    return out.reshape(n, heads, cols // heads).sum(axis=1)
