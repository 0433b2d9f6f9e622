"""Per-column input scales (issue 13; docs/quantization.md "Per-column input scales"): the choice between one
input scale and one scale per feature column, and the folding of the per-column gains into the Dense weights
that read the model input. The C++ converter makes the same choice with the same arithmetic; qgnn.qat's
quantize_desc calls this module.

Why: raw continuous attributes (hundreds) next to one-hot columns share one input scale, so the 0/1 columns
round away. With per-column scales, column k is quantized with column_scales[k] = s_in * g_k; the Dense ops that
read the input (directly or through their layer's aggregation) hold W[:, k] * g_k, so every integer step after
the input quantization is unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..model_file import GAT_CONV, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, MODEL_INPUT, SAGE_CONV, DenseDesc, LayerDesc, \
    ModelDesc, QuantParams, input_of
from .quantizer import activation_quant_params

MODES = ("auto", "tensor", "column")
# "auto" takes per-column scales when a live column spans less than 1/16 of the whole input range: per tensor it
# would keep fewer than bits - 4 bits.
AUTO_SPAN_FRACTION = 1.0 / 16.0


@dataclass
class ColumnScales:
    """A per-column input quantization: real value of column k = scales[k] * (q - quant.zero_point)."""

    r: float  # the normalised common range is [-r, 1]
    gains: np.ndarray  # float64 [K]: g_k, the column's range unit (dead columns: the largest live gain)
    quant: QuantParams  # (s_in, z) of [-r, 1]: the reference quantization every later step uses
    scales: np.ndarray  # float32 [K]: column_scales[k] = float32(s_in * g_k)
    fold: np.ndarray  # float64 [K]: double(scales[k]) / double(s_in), the factor folded into the weights


def input_foldable(desc: ModelDesc) -> bool:
    """Per-column scales need every layer that reads the model input to have a Dense that absorbs the gains:
    a GlobalPool reading the input pools the unscaled columns into one tensor with one scale."""
    return all(layer.kind != GLOBAL_POOL for i, layer in enumerate(desc.layers) if input_of(desc, i) == MODEL_INPUT)


def _widened(lo, hi) -> tuple:
    """Per-column ranges as float32 (as the converter's ActivationRange holds them) widened to contain 0, in
    float64; a column never observed (lo > hi) is [0, 0], i.e. dead."""
    lo = np.asarray(lo, dtype=np.float64).reshape(-1)
    hi = np.asarray(hi, dtype=np.float64).reshape(-1)
    if lo.shape != hi.shape:
        raise ValueError(f"per-column ranges: {lo.size} lows and {hi.size} highs")
    empty = ~(lo <= hi)
    lo, hi = np.where(empty, 0.0, lo), np.where(empty, 0.0, hi)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("a per-column input range is not finite")
    lo = np.minimum(lo.astype(np.float32).astype(np.float64), 0.0)
    hi = np.maximum(hi.astype(np.float32).astype(np.float64), 0.0)
    return lo, hi


def _gains(lo: np.ndarray, hi: np.ndarray, r: float) -> np.ndarray:
    """g_k(r) = max(hi_k, -lo_k / r) for columns with lo_k < 0, hi_k otherwise (r = 0 only when no lo_k < 0)."""
    if r == 0.0:
        return hi.copy()
    return np.where(lo < 0, np.maximum(hi, -lo / r), hi)


def choose_r(lo: np.ndarray, hi: np.ndarray) -> float:
    """The r of the normalised range [-r, 1] for live columns [lo_k, hi_k] (each containing 0, hi_k > lo_k):
    0 when no column goes negative; otherwise, of the candidates 1 and every -lo_k / hi_k > 0, the one
    maximising sum_k log f_k(r), f_k(r) = (hi_k - lo_k) / (g_k(r) (1 + r)) the fraction of the integer range
    column k uses; ties go to the smaller r. The sum runs over the columns in order (as the converter's loop;
    numpy's log may differ from libm's by an ulp, which could only matter at an exact tie)."""
    if not np.any(lo < 0):
        return 0.0
    mixed = (lo < 0) & (hi > 0)
    candidates = np.unique(np.concatenate([[1.0], -lo[mixed] / hi[mixed]]))  # ascending, distinct
    best_r, best = 0.0, -math.inf
    width = hi - lo
    for r in candidates:  # at most K + 1 candidates, each a vectorised pass over the columns
        f = width / (_gains(lo, hi, float(r)) * (1.0 + r))
        score = float(np.cumsum(np.log(f))[-1])  # sequential sum: the converter's order
        if score > best:  # strict: among equal scores the first (smallest r) stays
            best_r, best = float(r), score
    return best_r


def input_column_scales(lo, hi, bits: int, mode: str = "auto", foldable: bool = True) -> Optional[ColumnScales]:
    """The input quantization choice of the converter and qgnn.qat: None = one input scale (per tensor, from
    the tensor range as before), else the per-column scales.

    lo, hi: each column's range from the activation's range method (any order of magnitude; widened to contain
    0 here). mode: "auto" (per-column when some live column spans less than 1/16 of the input range), "tensor",
    "column". foldable: whether every layer reading the input has a Dense to absorb the gains (input_foldable);
    when not, "auto" keeps per-tensor and "column" fails."""
    if mode not in MODES:
        raise ValueError(f"unknown input scale mode {mode!r} (one of {', '.join(MODES)})")
    if mode == "tensor":
        return None
    lo, hi = _widened(lo, hi)
    live = hi > lo
    if not np.any(live):
        if mode == "column":
            raise ValueError("per-column input scales: every input column is 0")
        return None  # nothing to scale: every column was 0 in calibration
    span = float(hi[live].max() - lo[live].min())
    if mode == "auto" and not np.any((hi - lo)[live] < span * AUTO_SPAN_FRACTION):
        return None
    if not foldable:
        if mode == "column":
            raise ValueError("per-column input scales (--input-scales column) need a Dense in every layer that "
                             "reads the model input; a GlobalPool reads it here")
        return None
    r = choose_r(lo[live], hi[live])
    live_gains = _gains(lo[live], hi[live], r)
    gains = np.full(lo.shape, float(live_gains.max()))  # dead columns: the widest live unit
    gains[live] = live_gains
    quant = activation_quant_params((-r, 1.0), bits)
    s_in = float(quant.scale)
    with np.errstate(over="ignore", invalid="ignore"):
        scales = (s_in * gains).astype(np.float32)
    bad = np.flatnonzero(~(np.isfinite(scales) & (scales > 0)))
    if bad.size:
        k = int(bad[0])
        raise ValueError(f"input column {k}: scale {s_in} * {gains[k]} is not a finite float32 > 0 (its range "
                         f"[{lo[k]}, {hi[k]}] cannot be quantized per column)")
    return ColumnScales(r, gains, quant, scales, scales.astype(np.float64) / s_in)


def _fold_dense(d: DenseDesc, fold: np.ndarray) -> DenseDesc:
    """W'[j, k] = float32(W[j, k] * fold[k]) (double product, one rounding)."""
    w = (np.asarray(d.weight, np.float32).astype(np.float64) * fold[None, :]).astype(np.float32)
    return dataclasses.replace(d, weight=w)


def fold_input_gains(desc: ModelDesc, fold: np.ndarray) -> ModelDesc:
    """The float model with the per-column factors folded into every Dense that reads the model input directly
    (Linear, SAGE root) or through its layer's aggregation (GCN, SAGE neighbour, GIN's first MLP Dense): on
    features x[:, k] / fold[k] it computes what the original computes on x. `desc` is not modified."""
    fold = np.asarray(fold, dtype=np.float64).reshape(-1)
    if fold.shape[0] != desc.input_dim:
        raise ValueError(f"{fold.size} column factors for {desc.input_dim} input features")
    layers = list(desc.layers)
    for i, layer in enumerate(desc.layers):
        if input_of(desc, i) != MODEL_INPUT:
            continue
        if layer.kind == GLOBAL_POOL:
            raise ValueError(f"layer {i} (GlobalPool) reads the model input: per-column scales cannot be folded")
        new: LayerDesc = dataclasses.replace(layer)
        if layer.kind in (LINEAR, GCN_CONV, SAGE_CONV, GAT_CONV):  # GATConv: its W, before the attention
            new.dense = _fold_dense(layer.dense, fold)
        if layer.kind == SAGE_CONV and layer.root is not None:
            new.root = _fold_dense(layer.root, fold)
        if layer.kind == GIN_CONV:
            new.mlp = [_fold_dense(layer.mlp[0], fold)] + list(layer.mlp[1:])
        layers[i] = new
    return dataclasses.replace(desc, layers=layers)
