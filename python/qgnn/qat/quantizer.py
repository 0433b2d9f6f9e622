"""A Python port of the C++ converter's quantizer (converter/src/quantizer.cc, fixed_point.cc): float
ModelDesc + activation ranges -> quantized ModelDesc, with the same conventions, bounds and float rounding:

  * activations asymmetric per tensor (range widened to contain 0; an empty or all-zero range is degenerate:
    [0, 0] at the smallest activation scale 2^-24, reported by degenerate_range);
  * weights symmetric per output channel, int8 [-127, 127] / int4 [-7, 7], s_w = max|W_c| / qmax in
    float32, raised where the requant factor would fall below 2^-32 or the bias reach 2^30 steps;
  * biases int32 at s_in * s_w[c]; Dense requant s_in * s_w[c] / s_out (shift <= 62);
  * aggregation / pooling requant s_in / s_out (shift <= 40), lowering the output scale below 2^-10;
  * GIN self_weight_q16 = round((1 + eps) * 2^16); the logits stay 8-bit unless int8_logits=False;
  * transform-first GCNConv: messages at the aggregation bits, Dense without bias onto them, bias at the
    message scale, aggregation requant s_m / s_out (quantize_transform_first);
  * transform-first SAGEConv: messages and aggregation at the aggregation bits, neighbour Dense without bias
    onto the messages, aggregation requant s_m / s_a, bias at s_a, output requant s_a / s_out, root as
    aggregate-first (quantize_transform_first_sage);
  * GATConv: messages at the aggregation bits (scale raised for the bias), W as a bias-free Dense onto them,
    a_src / a_dst int8 at one scale, logits at the attention bits (scale lowered below 2^-32 negative factors), their
    requants, the exp table, output requant and bias at s_m / (256 H') (quantize_attention); the mean of H >= 2
    heads lowers Limits.max_degree to 2^22 / H - 1 (bound_mean_heads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..model_file import (AGGREGATING_KINDS, BATCH_NORM_FORMAT_VERSION, GAT_CONV, GAT_EXP_TABLE_SIZE,
                          GAT_MEAN_DEGREE_BUDGET, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, MODEL_INPUT, SAGE_CONV,
                          DenseDesc, LayerDesc, ModelDesc, QuantParams, Requant, input_of)

DENSE_SHIFT_MAX = 62
AGG_SHIFT_MAX = 40
_MARGIN = 1.0 + 1e-5
MIN_ACTIVATION_SCALE = 2.0 ** -24  # converter kMinActivationScale
_DENSE_FLOOR = (1.0 / 4294967296.0) * _MARGIN
_AGG_FLOOR = (1.0 / 1024.0) * _MARGIN
_BIAS_LIMIT = float((1 << 30) - 1)

Range = Tuple[float, float]  # (lo, hi); lo > hi = empty


@dataclass
class ComponentBits:
    """Bits of one layer's components (converter ComponentBits): every Dense weight, the aggregation, the
    output and GIN's hidden MLP activations, and a GATConv's attention logits."""

    weights: int = 8
    aggregation: int = 8
    output: int = 8
    attention: int = 8


@dataclass
class LayerRanges:
    aggregation: Range = (math.inf, -math.inf)
    hidden: List[Range] = field(default_factory=list)
    output: Range = (math.inf, -math.inf)
    message: Range = (math.inf, -math.inf)  # transform-first and GATConv: the messages x W^T (before the bias)
    attention: Range = (math.inf, -math.inf)  # GATConv: the logits of every edge and self-loop, after LeakyReLU


def _round_half_away(v: float) -> float:
    """C round / llround on a double (exact: v - floor(v) is exact)."""
    a = abs(v)
    f = math.floor(a)
    r = f + (1.0 if a - f >= 0.5 else 0.0)
    return math.copysign(r, v)


def qmin(bits: int) -> int:
    return -(1 << (bits - 1))


def qmax(bits: int) -> int:
    return (1 << (bits - 1)) - 1


def _widened(rng: Range) -> Range:
    """The range as the quantizer uses it: float32 bounds widened to contain 0; empty -> [0, 0]."""
    lo, hi = 0.0, 0.0
    if rng[0] <= rng[1]:
        if not (math.isfinite(rng[0]) and math.isfinite(rng[1])):
            raise ValueError("activation range is not finite")
        lo = min(float(np.float32(rng[0])), 0.0)  # ActivationRange holds floats
        hi = max(float(np.float32(rng[1])), 0.0)
    return lo, hi


def degenerate_range(rng: Range) -> bool:
    """True when the range holds no non-zero value (empty, or [0, 0] once widened to contain 0): everything
    but 0 saturates. The callers report it; it is never silently replaced by a made-up [0, 1]."""
    lo, hi = _widened(rng)
    return not hi > lo


def activation_quant_params(rng: Range, bits: int) -> QuantParams:
    """converter::activation_quant_params."""
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    lo, hi = _widened(rng)
    qlo, qhi = qmin(bits), qmax(bits)
    # A collapsed range - a dead channel's EMA, or a degenerate [0, 0] (no non-zero value observed) - must not
    # give a scale so small that the requant factors of the Dense ops writing it exceed 2^30: activation scales
    # are at least 2^-24. A degenerate range gets exactly that smallest scale (real 0 stays exact at qmin).
    scale = np.float32(max((hi - lo) / float(qhi - qlo), MIN_ACTIVATION_SCALE))
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError("activation range gives no usable scale")
    zp = _round_half_away(float(qlo) - lo / float(scale))
    return QuantParams(bits, scale, int(min(max(zp, qlo), qhi)))


def quantize_multiplier(real: float, max_shift: int) -> Tuple[int, int]:
    """converter::quantize_multiplier: real ~ m * 2^-e, m in [2^30, 2^31), e in [1, max_shift]."""
    if not (math.isfinite(real) and real > 0):
        raise ValueError(f"requant multiplier {real} is not finite and > 0")
    mant, exponent = math.frexp(real)
    m = int(_round_half_away(math.ldexp(mant, 31)))
    if m == 1 << 31:
        m, exponent = 1 << 30, exponent + 1
    shift = 31 - exponent
    if shift > max_shift:
        raise ValueError(f"requant multiplier {real} is below the representable minimum 2^{30 - max_shift}")
    if shift < 1:
        raise ValueError(f"requant multiplier {real} is above the representable maximum 2^30")
    return m, shift


def scalar_requant(s_in: np.float32, out_q: QuantParams) -> Requant:
    """Aggregation / pooling requant s_in / s_out; lowers out_q.scale (in place) below 2^-10."""
    if float(s_in) / float(out_q.scale) < _AGG_FLOOR:
        out_q.scale = np.float32(float(s_in) / _AGG_FLOOR)
    m, e = quantize_multiplier(float(s_in) / float(out_q.scale), AGG_SHIFT_MAX)
    return Requant(np.array([m], np.int64), np.array([e], np.int64))


def weight_scales(weight: np.ndarray, bias: Optional[np.ndarray], bits: int, s_in: np.float32,
                  s_out: np.float32) -> np.ndarray:
    """Per-channel s_w (float32) as converter quantize_dense picks them."""
    w = np.asarray(weight, dtype=np.float32)
    q_limit = np.float32(qmax(bits))
    requant_floor = _DENSE_FLOOR * float(s_out) / float(s_in)
    max_abs = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(w.shape[0], np.float32)
    bias_abs = np.zeros(w.shape[0]) if bias is None else np.abs(np.asarray(bias, np.float32).astype(np.float64))
    floor = np.maximum(requant_floor, _MARGIN * bias_abs / (float(s_in) * _BIAS_LIMIT))
    s_w = (max_abs / q_limit).astype(np.float32)
    low = ~(s_w.astype(np.float64) >= floor)
    s_w[low] = floor[low].astype(np.float32)
    return s_w


def quantize_weights(weight: np.ndarray, s_w: np.ndarray, bits: int) -> np.ndarray:
    """clamp(lround(w / s_w), -qmax, qmax): one float32 division, round half away from zero."""
    w = np.asarray(weight, dtype=np.float32)
    v = np.divide(w, s_w[:, None].astype(np.float32), dtype=np.float32)
    t = np.trunc(v)
    r = t + np.where(np.abs(v - t) >= np.float32(0.5), np.sign(v), np.float32(0))
    lim = qmax(bits)
    return np.clip(r.astype(np.int64), -lim, lim).astype(np.int8)


def quantize_dense(d: DenseDesc, bits: int, s_in: np.float32, s_out: np.float32, relu: bool,
                   name: str = "") -> DenseDesc:
    """converter quantize_dense."""
    s_w = weight_scales(d.weight, d.bias, bits, s_in, s_out)
    wq = quantize_weights(d.weight, s_w, bits)
    bias_scale = float(s_in) * s_w.astype(np.float64)
    bias_q = None
    if d.bias is not None:
        raw = np.asarray(d.bias, np.float32).astype(np.float64) / bias_scale
        bias_q = np.clip(np.array([_round_half_away(v) for v in raw]), -_BIAS_LIMIT, _BIAS_LIMIT).astype(np.int32)
    mults, shifts = zip(*[quantize_multiplier(bs / float(s_out), DENSE_SHIFT_MAX) for bs in bias_scale])
    return DenseDesc(wq, bias_q, relu, weight_bits=bits, weight_scales=s_w,
                     requant=Requant(np.array(mults, np.int64), np.array(shifts, np.int64)), name=name)


def gin_self_weight(eps: float) -> int:
    w = _round_half_away((1.0 + float(np.float32(eps))) * 65536.0)
    if not 0 <= w < (1 << 23):
        raise ValueError(f"GIN eps {eps} is outside [-1, 127)")
    return int(w)


def raise_for_bias(bias: Optional[np.ndarray], q: QuantParams) -> None:
    """Raises q.scale (in place) where round(bias / q.scale) would reach 2^30 steps, as weight_scales raises s_w
    for a Dense bias."""
    if bias is None:
        return
    b = np.asarray(bias, np.float32).astype(np.float64)
    floor = _MARGIN * float(np.abs(b).max(initial=0.0)) / _BIAS_LIMIT
    if not float(q.scale) >= floor:
        q.scale = np.float32(floor)


def scaled_bias(bias: Optional[np.ndarray], scale: np.float32) -> Optional[np.ndarray]:
    """INT32 round(b / scale), half away from zero, clamped to +-(2^30 - 1)."""
    if bias is None:
        return None
    raw = np.asarray(bias, np.float32).astype(np.float64) / float(scale)
    return np.clip(np.array([_round_half_away(v) for v in raw]), -_BIAS_LIMIT, _BIAS_LIMIT).astype(np.int32)


def message_bias(bias: Optional[np.ndarray], message: QuantParams) -> Optional[np.ndarray]:
    """A transform-first GCNConv's INT32 bias, round(b / s_m) at the message scale. Raises message.scale (in
    place) where a bias would reach 2^30 steps, as weight_scales raises s_w for a Dense bias."""
    if bias is None:
        return None
    raise_for_bias(bias, message)
    b = np.asarray(bias, np.float32).astype(np.float64)
    raw = b / float(message.scale)
    return np.clip(np.array([_round_half_away(v) for v in raw]), -_BIAS_LIMIT, _BIAS_LIMIT).astype(np.int32)


def quantize_transform_first(layer: LayerDesc, r: LayerRanges, bits: ComponentBits, ql: LayerDesc,
                             in_q: QuantParams) -> None:
    """A transform-first GCNConv (docs/quantization.md "Transform-first GCNConv"): the messages take the
    aggregation component's bits and the message range; the Dense without bias maps the input onto them
    (requant s_in * s_w[c] / s_m, weight scales as for a bias-free Dense), its bias goes to the message scale,
    and the aggregation requant maps s_m onto the output (s_m / s_out, shift <= 40)."""
    ql.order = layer.order
    ql.message = activation_quant_params(r.message, bits.aggregation)
    bias = message_bias(layer.dense.bias, ql.message)
    dense = quantize_dense(DenseDesc(layer.dense.weight, None), bits.weights, in_q.scale, ql.message.scale, False)
    dense.bias = bias
    ql.dense = dense
    ql.aggregation_requant = scalar_requant(ql.message.scale, ql.output)


def quantize_transform_first_sage(layer: LayerDesc, r: LayerRanges, bits: ComponentBits, ql: LayerDesc,
                                  in_q: QuantParams) -> None:
    """A transform-first SAGEConv (docs/quantization.md "Transform-first SAGEConv"): the messages and their
    aggregation take the aggregation component's bits and the message / aggregation ranges; the neighbour Dense
    without bias maps the input onto the messages (requant s_in * s_wn[c] / s_m); the mean rescales s_m / s_a
    (shift <= 40). The aggregation scale s_a is first raised where the neighbour bias would reach 2^30 steps
    at it, then scalar_requant may lower it (s_m / s_a below 2^-10); the bias is round(b / s_a) at the final
    s_a, clamped; output_requant = s_a / s_out (one entry, a Dense's rule: shift <= 62, an error outside). The
    root Dense is quantized as aggregate-first (s_in * s_wr[c] / s_out). The converter's
    quantize_transform_first_sage makes the same decisions in the same order."""
    ql.order = layer.order
    ql.message = activation_quant_params(r.message, bits.aggregation)
    ql.dense = quantize_dense(DenseDesc(layer.dense.weight, None), bits.weights, in_q.scale, ql.message.scale,
                              False)
    ql.aggregation = activation_quant_params(r.aggregation, bits.aggregation)
    raise_for_bias(layer.dense.bias, ql.aggregation)
    ql.aggregation_requant = scalar_requant(ql.message.scale, ql.aggregation)
    ql.dense.bias = scaled_bias(layer.dense.bias, ql.aggregation.scale)
    m, e = quantize_multiplier(float(ql.aggregation.scale) / float(ql.output.scale), DENSE_SHIFT_MAX)
    ql.output_requant = Requant(np.array([m], np.int64), np.array([e], np.int64))
    if layer.root is not None:
        ql.root = quantize_dense(layer.root, bits.weights, in_q.scale, ql.output.scale, layer.root.relu)


def dense_rule_requant(real: float) -> Requant:
    """converter dense_rule_requant: one entry, a Dense's rule (shift <= 62), the factor raised to 2^-32."""
    if not real >= _DENSE_FLOOR:
        real = _DENSE_FLOOR
    m, e = quantize_multiplier(real, DENSE_SHIFT_MAX)
    return Requant(np.array([m], np.int64), np.array([e], np.int64))


def gat_exp_table(logit_scale: float) -> np.ndarray:
    """converter gat_exp_table: T[k] = round(2^15 exp(-s_e k)) in double, halves away from zero."""
    return np.array([_round_half_away(32768.0 * math.exp(-float(logit_scale) * k))
                     for k in range(GAT_EXP_TABLE_SIZE)], dtype=np.uint16)


def gat_mean_max_degree(heads: int) -> int:
    """The in-degree bound of the mean of `heads` heads: H (deg + 1) <= 2^22."""
    return GAT_MEAN_DEGREE_BUDGET // heads - 1


def quantize_attention(layer: LayerDesc, r: LayerRanges, bits: ComponentBits, ql: LayerDesc,
                       in_q: QuantParams) -> None:
    """converter quantize_attention (docs/quantization.md, "GATConv"), the same decisions in the same order and
    float rounding: see the module docstring. H' = 1 (concat) or H (mean): the bias is added to the sum over
    heads before the rescale that divides by H."""
    ql.heads, ql.head_dim, ql.concat = layer.heads, layer.head_dim, layer.concat
    ql.message = activation_quant_params(r.message, bits.aggregation)
    ql.logit = activation_quant_params(r.attention, bits.attention)
    heads = 1.0 if layer.concat else float(layer.heads)
    bias = None if layer.output_bias is None else np.asarray(layer.output_bias, np.float32)
    largest = float(np.abs(bias.astype(np.float64)).max(initial=0.0)) if bias is not None else 0.0
    floor = _MARGIN * 256.0 * heads * largest / _BIAS_LIMIT
    if not float(ql.message.scale) >= floor:
        ql.message.scale = np.float32(floor)
    ql.dense = quantize_dense(DenseDesc(layer.dense.weight, None), bits.weights, in_q.scale, ql.message.scale,
                              False)
    s_m = float(ql.message.scale)
    a_src = np.asarray(layer.att_src, np.float32)
    a_dst = np.asarray(layer.att_dst, np.float32)
    max_abs = np.float32(max(np.abs(a_src).max(initial=0), np.abs(a_dst).max(initial=0)))
    att_scale = np.float32(max_abs / np.float32(127.0)) if max_abs > 0 else np.float32(1.0)
    ql.att_scale = att_scale
    ql.att_src = quantize_weights(a_src[None, :], np.array([att_scale], np.float32), 8)[0]
    ql.att_dst = quantize_weights(a_dst[None, :], np.array([att_scale], np.float32), 8)[0]
    term_scale = s_m * float(att_scale)
    ceiling = 0.2 * term_scale / _DENSE_FLOOR
    if not float(ql.logit.scale) <= ceiling:
        ql.logit.scale = np.float32(ceiling)
    s_e = float(ql.logit.scale)
    ql.logit_requant = dense_rule_requant(term_scale / s_e)
    ql.logit_negative_requant = dense_rule_requant(0.2 * term_scale / s_e)
    ql.exp_table = gat_exp_table(s_e)
    cols = layer.output_width(0)
    one = dense_rule_requant(s_m / (256.0 * heads * float(ql.output.scale)))
    ql.output_requant = Requant(np.repeat(one.multiplier, cols), np.repeat(one.shift, cols))
    if bias is not None:
        raw = bias.astype(np.float64) * 256.0 * heads / s_m
        ql.output_bias = np.clip(np.array([_round_half_away(v) for v in raw]), -_BIAS_LIMIT,
                                 _BIAS_LIMIT).astype(np.int32)


def quantize_layer(layer: LayerDesc, r: LayerRanges, bits: ComponentBits, output_bits: int,
                   in_q: QuantParams) -> LayerDesc:
    """converter Quantizer::quantize_layer."""
    out = activation_quant_params(r.output, output_bits)
    ql = LayerDesc(layer.kind, layer.name, layer.relu, output=out, reduce=layer.reduce)
    if layer.kind == GAT_CONV:
        quantize_attention(layer, r, bits, ql, in_q)
        return ql
    if layer.transform_first and layer.kind == SAGE_CONV:
        quantize_transform_first_sage(layer, r, bits, ql, in_q)
        return ql
    if layer.transform_first:
        quantize_transform_first(layer, r, bits, ql, in_q)
        return ql
    if layer.kind in AGGREGATING_KINDS:
        ql.aggregation = activation_quant_params(r.aggregation, bits.aggregation)
        ql.aggregation_requant = scalar_requant(in_q.scale, ql.aggregation)
    s_out = out.scale
    if layer.kind == LINEAR:
        ql.dense = quantize_dense(layer.dense, bits.weights, in_q.scale, s_out, layer.dense.relu)
    elif layer.kind == GCN_CONV:
        ql.dense = quantize_dense(layer.dense, bits.weights, ql.aggregation.scale, s_out, layer.dense.relu)
    elif layer.kind == SAGE_CONV:
        ql.dense = quantize_dense(layer.dense, bits.weights, ql.aggregation.scale, s_out, layer.dense.relu)
        if layer.root is not None:
            ql.root = quantize_dense(layer.root, bits.weights, in_q.scale, s_out, layer.root.relu)
    elif layer.kind == GIN_CONV:
        ql.self_weight_q16 = gin_self_weight(layer.eps)
        ql.eps = float(layer.eps)
        if len(r.hidden) + 1 != len(layer.mlp):
            raise ValueError("ranges do not match the GIN MLP")
        s_in = ql.aggregation.scale
        for k, d in enumerate(layer.mlp):
            last = k + 1 == len(layer.mlp)
            if not last:
                ql.hidden.append(activation_quant_params(r.hidden[k], bits.output))
            s_next = s_out if last else ql.hidden[k].scale
            ql.mlp.append(quantize_dense(d, bits.weights, s_in, s_next, d.relu))
            s_in = s_next
    elif layer.kind == GLOBAL_POOL:
        ql.requant = scalar_requant(in_q.scale, ql.output)
    return ql


def quantize_desc(desc: ModelDesc, input_range: Range, ranges: List[LayerRanges], input_bits: int,
                  layer_bits: List[ComponentBits], int8_logits: bool = True,
                  description: Optional[str] = None, producer: str = "qgnn.qat",
                  column_ranges: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                  input_scales: str = "auto") -> ModelDesc:
    """converter quantize_model: the whole model. column_ranges: (lo, hi) per input column; with them the
    input is quantized per column when qgnn.qat.input_scales.input_column_scales chooses so for
    `input_scales` (auto / tensor / column): the gains are folded into the Dense ops reading the input and
    `ranges` must then be those of that folded model (the normalised domain)."""
    from .input_scales import fold_input_gains, input_column_scales, input_foldable

    choice = None
    if column_ranges is not None:
        choice = input_column_scales(column_ranges[0], column_ranges[1], input_bits, input_scales,
                                     foldable=input_foldable(desc))
    if choice is not None:
        desc = fold_input_gains(desc, choice.fold)
        in_q = choice.quant
    else:
        in_q = activation_quant_params(input_range, input_bits)
    layers: List[LayerDesc] = []
    for i, layer in enumerate(desc.layers):
        last = i + 1 == len(desc.layers)
        b = layer_bits[i]
        # A layer rescales from what it reads: its producer's output quantization or the input's.
        source = input_of(desc, i)
        ql = quantize_layer(layer, ranges[i], b, 8 if last and int8_logits else b.output,
                            in_q if source == MODEL_INPUT else layers[source].output)
        ql.inputs = list(layer.inputs)
        layers.append(ql)
    limits = list(desc.limits)
    for layer in layers:  # converter bound_mean_heads
        if layer.kind == GAT_CONV and not layer.concat and layer.heads >= 2:
            bound = gat_mean_max_degree(layer.heads)
            if limits[2] == 0 or limits[2] > bound:
                limits[2] = bound
    desc_text = description if description is not None else (
        (desc.description + "; " if desc.description else "") + "quantization-aware trained by qgnn.qat")
    return ModelDesc(input_dim=desc.input_dim, layers=layers, name=desc.name, description=desc_text,
                     producer=producer, task=desc.task, class_names=list(desc.class_names), limits=tuple(limits),
                     # What qgnn.qat files have carried since format version 2 (its newest then), kept so they do
                     # not change; the writer raises it to 3 for listed inputs.
                     version=BATCH_NORM_FORMAT_VERSION, input_quant=in_q,
                     input_column_scales=choice.scales if choice is not None else None)
