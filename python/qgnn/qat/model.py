"""QATModel: a qgnn.nn.GraphModel trained through the runtime's exact integer arithmetic.

Forward pass (training and eval): the model's float parameters (BatchNorm folded with its running statistics)
and the observers' current ranges are quantized exactly as the C++ converter would (qgnn.qat.quantizer), and
qgnn.sim's integer step of each layer kind (qgnn.sim.layers, stage by stage) runs on the quantized values.
Next to it runs a float "surrogate" of each component computed from the (dequantized) quantized inputs: it
carries the gradient.
At every quantized component the value handed on is

    v = v_f * inside + (dequantize(q_int) - v_f * inside).detach()

i.e. exactly the runtime's dequantized value, with a straight-through gradient that is 1 where the float value
lies inside the clipping range [s (qmin - z), s (qmax - z)] and 0 outside. Weights are fake-quantized per output
channel (symmetric) with an identity STE. In eval mode the logits are bit for bit the dequantized logits that
qgnn.sim / qgnn-run compute from the model export_quantized writes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .. import nn as qnn
from .._atomic import PathLike
from ..export_model import _SKIPPED, layer_kind, to_desc
from ..model_file import (AGGREGATE_FIRST, GAT_CONV, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, ORDERED_KINDS,
                          ORDERS, SAGE_CONV, TRANSFORM_FIRST, DenseDesc, ModelDesc, QuantParams, write_model)
from ..sim.engine import input_scales as model_input_scales
from ..sim.layers import GraphBatch, step
from ..sim.numerics import dequantize, quantize_float
from .input_scales import MODES as INPUT_SCALE_MODES, input_column_scales
from .observers import ColumnRangeObserver, RangeObserver
from .quantizer import ComponentBits, LayerRanges, degenerate_range, quantize_desc

BitsSpec = Union[int, Dict]

DQ_PROBS = {8: (0.0, 0.1), 4: (0.1, 0.2)}  # Degree-Quant (p_min, p_max)


# ---------------------------------------------------------------------------------------------------
# Degree-Quant protective masks
# ---------------------------------------------------------------------------------------------------

def degree_cdf(degree: Tensor) -> Tensor:
    """Empirical CDF of the in-degree within the batch: the fraction of nodes whose degree is <= d_i."""
    d = degree.to(torch.float64)
    n = d.numel()
    if n == 0:
        return d
    sorted_d, _ = torch.sort(d)
    return torch.searchsorted(sorted_d, d, right=True).to(torch.float64) / n


def protection_probability(degree: Tensor, p_min: float, p_max: float) -> Tensor:
    """p_i = p_min + (p_max - p_min) * CDF(in-degree_i) (Degree-Quant, Tailor et al., ICLR 2021)."""
    return p_min + (p_max - p_min) * degree_cdf(degree)


def protection_mask(degree: Tensor, p_min: float, p_max: float, generator=None) -> Tensor:
    """Bernoulli(p_i) per node: True = kept in full precision in this forward pass."""
    p = protection_probability(degree, p_min, p_max)
    return torch.rand(p.shape, generator=generator, dtype=torch.float64) < p


def _stochastic_round(v_f: Tensor, scale, zero_point: int, bits: int, generator=None) -> np.ndarray:
    """q = clamp(floor(v / s + u) + z, qmin, qmax), u ~ U[0, 1) per element (binary32 division, as
    quantize_float): unbiased, E[q - z] = v / s inside the range. SQD's stochastic path only."""
    v = np.divide(v_f.detach().numpy().astype(np.float32), np.float32(scale), dtype=np.float32)
    v = np.clip(v, -1.0e6, 1.0e6).astype(np.float64)
    u = torch.rand(v.shape, generator=generator, dtype=torch.float64).numpy()
    q = np.floor(v + u).astype(np.int64) + int(zero_point)
    return np.clip(q, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)


# ---------------------------------------------------------------------------------------------------
# Differentiable folding (the gradient surrogate; the integer path uses qgnn.export's folding)
# ---------------------------------------------------------------------------------------------------

def _fold(lins: Sequence[torch.nn.Linear], bn: Optional[torch.nn.BatchNorm1d]) -> List[Tuple[Tensor, Optional[Tensor]]]:
    """[(W, b)] of Dense ops sharing one BatchNorm1d folded with its running statistics (frozen BN)."""
    out = []
    for k, lin in enumerate(lins):
        w, b = lin.weight, lin.bias
        if bn is not None:
            scale = (bn.weight if bn.weight is not None else 1.0) / torch.sqrt(bn.running_var + bn.eps)
            w = w * scale[:, None]
            b = b * scale if b is not None else None
            if k == 0:
                shift = (bn.bias if bn.bias is not None else 0.0) - bn.running_mean * scale
                b = shift if b is None else b + shift
        out.append((w, b))
    return out


@dataclass
class _Entry:
    """One layer of the desc and the modules that carry its parameters."""

    kind: str
    module: torch.nn.Module
    bn: Optional[torch.nn.BatchNorm1d] = None  # layer-level BatchNorm1d after the layer
    mlp: List[Tuple[torch.nn.Linear, Optional[torch.nn.BatchNorm1d]]] = field(default_factory=list)

    @property
    def transform_first(self) -> bool:
        """A GCNConv or SAGEConv running transform-first (its module's order, "auto" resolved by the auto
        rule)."""
        return self.kind in ORDERED_KINDS and self.module.resolved_order == TRANSFORM_FIRST

    def denses(self) -> List[Tuple[Tensor, Optional[Tensor]]]:
        m = self.module
        if self.kind == LINEAR:
            return _fold([m], self.bn)
        if self.kind in (GCN_CONV, GAT_CONV):  # GATConv: W without bias (export refuses a BatchNorm after it)
            return _fold([m.lin], self.bn)
        if self.kind == SAGE_CONV:
            return _fold([m.lin_neighbor] + ([m.lin_root] if m.lin_root is not None else []), self.bn)
        if self.kind == GIN_CONV:
            return [_fold([lin], bn)[0] for lin, bn in self.mlp]
        return []


def _entries(model: qnn.GraphModel) -> List[_Entry]:
    entries: List[_Entry] = []
    for m in model.layers:
        if isinstance(m, _SKIPPED) or isinstance(m, torch.nn.ReLU):
            continue
        kind = layer_kind(m)  # the kind qgnn.export writes it as
        if isinstance(m, torch.nn.BatchNorm1d):
            entries[-1].bn = m
        elif kind == GIN_CONV:
            e = _Entry(GIN_CONV, m)
            mods = list(m.mlp.children()) if isinstance(m.mlp, (torch.nn.Sequential, torch.nn.ModuleList)) else [m.mlp]
            for sub in mods:
                if isinstance(sub, torch.nn.Linear):
                    e.mlp.append((sub, None))
                elif isinstance(sub, torch.nn.BatchNorm1d):
                    e.mlp[-1] = (e.mlp[-1][0], sub)
            entries.append(e)
        elif kind is not None:
            entries.append(_Entry(kind, m))
        else:
            raise TypeError(f"qgnn.qat cannot wrap {type(m).__name__}")
    return entries


# ---------------------------------------------------------------------------------------------------
# Bits
# ---------------------------------------------------------------------------------------------------

def _component_bits(spec: BitsSpec, num_layers: int) -> Tuple[int, List[ComponentBits]]:
    """bits = 8 | 4 | {"input": 8, "weights": 4, "aggregation": 8, "attention": 8, "output": 8,
    "layers": {i: {...} or int}}.

    As qgnn-convert's SPEC (docs/converter.md "Bits"): a bare width or "default" sets weights and outputs only;
    unless named, the aggregations ("aggregation" or the layer names them; they include a transform-first
    layer's messages, and a transform-first SAGEConv's messages and their mean alike), a GATConv's attention
    logits ("attention" or the layer), the first layer's weights ("weights" or the layer) and the input
    ("input") stay 8 bits. QAT models are chains, so the first layer is the one that reads the model input."""
    if isinstance(spec, int):
        spec = {"default": spec}
    default = int(spec.get("default", 8))
    base = {k: int(spec.get(k, default)) for k in ("weights", "aggregation", "output", "attention")}
    out = []
    for i in range(num_layers):
        o = spec.get("layers", {}).get(i, {})
        o = {k: o for k in base} if isinstance(o, int) else o
        layer_base = dict(base)
        for k in ("aggregation", "attention"):
            if k not in spec:
                layer_base[k] = 8
        if i == 0 and "weights" not in spec:
            layer_base["weights"] = 8
        out.append(ComponentBits(**{k: int(o.get(k, layer_base[k])) for k in base}))
    input_bits = int(spec.get("input", 8))
    for b in [input_bits] + [b for cb in out for b in (cb.weights, cb.aggregation, cb.output, cb.attention)]:
        if b not in (4, 8):
            raise ValueError("bits must be 4 or 8")
    return input_bits, out


# ---------------------------------------------------------------------------------------------------
# The QAT model
# ---------------------------------------------------------------------------------------------------

class QATModel(torch.nn.Module):
    """Wraps a qgnn.nn.GraphModel (its parameters are trained in place). See qgnn.qat.prepare."""

    def __init__(self, model: qnn.GraphModel, bits: BitsSpec = 8, ranges: str = "pauta",
                 momentum: Optional[float] = 0.1, degree_quant: bool = False,
                 dq_probs: Optional[Tuple[float, float]] = None, percentiles: Optional[Tuple[float, float]] = None,
                 pauta_k: Optional[float] = None, int8_logits: bool = True, name: str = "model", seed: int = 0,
                 input_scales: str = "auto", order: str = "auto") -> None:
        super().__init__()
        self.model = model
        self.entries = _entries(model)
        # Layer order, set on every GCNConv and SAGEConv module so that the float model QAT trains, the float
        # file it writes and the quantized file all run it: "auto" is qgnn-convert's default rule (transform-first
        # when the layer narrows the features; a SAGEConv only with mean), whatever order a float file read with
        # qgnn.load had. A forced transform-first on a max SAGEConv is refused, as qgnn-convert refuses it: max
        # does not commute with W_n.
        if order != "auto" and order not in ORDERS:
            raise ValueError(f"unknown layer order {order!r} (auto, {', '.join(ORDERS)})")
        for i, e in enumerate(self.entries):
            if e.kind == SAGE_CONV and order == TRANSFORM_FIRST and e.module.reduce != "mean":
                raise ValueError(f"layer {i} is a max SAGEConv, which cannot run transform-first (max does not "
                                 "commute with its neighbour Dense); use order 'auto' or 'aggregate-first'")
            if e.kind in (GCN_CONV, SAGE_CONV):
                e.module.order = order
        if input_scales not in INPUT_SCALE_MODES:
            raise ValueError(f"unknown input scale mode {input_scales!r} (one of {', '.join(INPUT_SCALE_MODES)})")
        # Per-column scales fold into the first layer's Dense ops; a GlobalPool first has none.
        self.input_foldable = bool(self.entries) and self.entries[0].kind != GLOBAL_POOL
        if input_scales == "column" and not self.input_foldable:
            raise ValueError("input_scales='column' needs a Dense in the first layer (it reads the model input); "
                             "the first layer is a GlobalPool")
        self.input_scales = input_scales
        # "auto" is decided once, by the first quantized model built (after PTQ calibration: from the calibrated
        # ranges, the converter's one decision); training keeps the decision, so the EMA of a rare one-hot
        # column's range cannot switch the input quantization back and forth between batches.
        self.input_scales_mode = input_scales
        self.name = name
        n = len(self.entries)
        self.input_bits, self.layer_bits = _component_bits(bits, n)
        self.int8_logits = int8_logits
        self.degree_quant = degree_quant
        min_bits = min([self.input_bits] + [min(b.weights, b.aggregation, b.output) for b in self.layer_bits])
        self.dq_probs = dq_probs or DQ_PROBS[8 if min_bits >= 8 else 4]
        self.quant_enabled = True
        self.calibrating = False
        self._gen = torch.Generator().manual_seed(seed)
        # self-distillation hooks (qgnn.qat.distill): the quantized ModelDesc the last forward ran with, and (with
        # record_features) the value each layer handed on. Neither changes what forward computes.
        self.record_features = False
        self.last_quantized: Optional[ModelDesc] = None
        self.last_features: Optional[List[Tensor]] = None
        # Diagnostics (activation_sqnr): when a dict, every quantization point of a forward adds its float
        # surrogate's energy and its quantization error energy, [signal, noise], under its observer's name.
        self.sqnr_stats: Optional[Dict[str, List[float]]] = None

        def obs(b: int) -> RangeObserver:
            return RangeObserver(ranges, b, momentum, percentiles, pauta_k)

        self.input_obs = obs(self.input_bits)
        # Per-column input ranges (docs/qat.md "Per-column input scales"), unless per-tensor is forced; and the
        # first layer's aggregation range on the raw (unscaled) input, which export_float stores because the
        # per-tensor range of the normalised aggregation would not fit the float model it writes.
        self.input_col_obs: Optional[ColumnRangeObserver] = None
        self.raw_aggregation_obs: Optional[RangeObserver] = None
        # Input ranges are calibrated once and then frozen (input_frozen): the input is data, it does not move
        # while QAT trains the weights, and an EMA over batches would shrink the range of a rare value.
        self.input_frozen = False
        # Every other range frozen too (qgnn.train's default after PTQ calibration, QATConfig.range_updates):
        # training then no longer moves any quantization grid, and the weights adapt to one fixed grid.
        self.ranges_frozen = False
        self.input_col_obs = ColumnRangeObserver(ranges, self.input_bits, momentum, percentiles, pauta_k)
        if input_scales != "tensor":
            first = self.entries[0] if self.entries else None
            # A transform-first first layer aggregates messages x W^T, the same in either input domain.
            if first is not None and first.kind in (GCN_CONV, SAGE_CONV, GIN_CONV) and not first.transform_first:
                self.raw_aggregation_obs = obs(self.layer_bits[0].aggregation)
        self.obs: List[Dict] = []
        for i, e in enumerate(self.entries):
            b = self.layer_bits[i]
            out_bits = 8 if (i + 1 == n and int8_logits) else b.output
            # A transform-first GCNConv quantizes its messages where the others quantize their aggregation; a
            # transform-first SAGEConv quantizes both (the mean of its messages), at the same bits. A GATConv
            # quantizes its messages (the `agg` bits) and its attention logits (the `att` bits).
            self.obs.append({
                "aggregation": obs(b.aggregation) if e.kind in (GCN_CONV, SAGE_CONV, GIN_CONV)
                and not (e.transform_first and e.kind == GCN_CONV) else None,
                "message": obs(b.aggregation) if e.transform_first or e.kind == GAT_CONV else None,
                "attention": obs(b.attention) if e.kind == GAT_CONV else None,
                "hidden": [obs(b.output) for _ in range(len(e.mlp) - 1)] if e.kind == GIN_CONV else [],
                "output": obs(out_bits),
            })

    # -- quantized model from the current parameters and ranges ------------------------------------
    def observers(self) -> List[RangeObserver]:
        """Every observer: the per-tensor ones of named_observers, then the per-column input one and the
        raw aggregation one when present."""
        extra = [o for o in (self.input_col_obs, self.raw_aggregation_obs) if o is not None]
        return [o for _, o in self.named_observers()] + extra

    def named_observers(self) -> List[Tuple[str, RangeObserver]]:
        """(name, observer) of every activation: "input", "layer I (kind) aggregation | hidden K | output"."""
        out = [("input", self.input_obs)]
        for i, (e, o) in enumerate(zip(self.entries, self.obs)):
            where = f"layer {i} ({e.kind})"
            if o["message"] is not None:  # computed before the aggregation (transform-first)
                out.append((f"{where} message", o["message"]))
            if o["attention"] is not None:
                out.append((f"{where} attention logits", o["attention"]))
            if o["aggregation"] is not None:
                out.append((f"{where} aggregation", o["aggregation"]))
            out += [(f"{where} hidden {k}", h) for k, h in enumerate(o["hidden"])]
            out.append((f"{where} output", o["output"]))
        return out

    def degenerate_activations(self) -> List[str]:
        """Names of the activations whose range holds no non-zero value ([0, 0] or nothing observed): they
        quantize at the smallest scale 2^-24 and saturate everything but 0."""
        return [name for name, o in self.named_observers() if degenerate_range(o.range())]

    @torch.no_grad()
    def observe_input(self, x: Tensor) -> None:
        """Record a batch of input features (the per-tensor and per-column input observers only); nothing once
        the input ranges are frozen."""
        if self.input_frozen:
            return
        self.input_obs.update(x)
        if self.input_col_obs is not None:
            self.input_col_obs.update(x)

    def column_ranges(self) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """The per-column input ranges (lo, hi), None when per-tensor is forced or nothing was observed."""
        if self.input_col_obs is None or self.input_col_obs.empty:
            return None
        return self.input_col_obs.range()

    def input_fold(self, qm: Optional[ModelDesc] = None) -> Optional[np.ndarray]:
        """The per-column factors column_scales[k] / s_in (float64 [K]) the input is divided by and the first
        layer's weights multiplied by, None when the input has one scale: those of `qm` (the quantized model a
        forward runs), else the current choice from the observers (float passes)."""
        if qm is not None:
            if qm.input_column_scales is None:
                return None
            return np.asarray(qm.input_column_scales, np.float64) / float(qm.input_quant.scale)
        cols = self.column_ranges()
        if cols is None:
            return None
        choice = input_column_scales(cols[0], cols[1], self.input_bits, self.input_scales_mode,
                                     self.input_foldable)
        return None if choice is None else choice.fold

    def stored_ranges(self) -> Tuple[Tuple[float, float], List[LayerRanges]]:
        """The observers' current ranges in the model's activation layout: the input, and per layer the
        aggregation ((inf, -inf) where there is none), GIN's hidden MLP outputs and the output."""
        none = (np.inf, -np.inf)
        ranges = [LayerRanges(o["aggregation"].range() if o["aggregation"] is not None else none,
                              [h.range() for h in o["hidden"]], o["output"].range(),
                              o["message"].range() if o["message"] is not None else none,
                              o["attention"].range() if o["attention"] is not None else none) for o in self.obs]
        lo, hi = self.input_obs.range()
        cols, ind = self.column_ranges(), self.input_col_obs.discrete
        if cols is not None and ind is not None and np.any(ind) and lo <= hi:
            # One input scale widened to contain every indicator column's min-max (a rare category must not be
            # clipped away), as the converter's InputColumnChoice::indicator_range.
            lo = min(lo, float(np.asarray(cols[0], np.float32)[ind].min()))
            hi = max(hi, float(np.asarray(cols[1], np.float32)[ind].max()))
        return (lo, hi), ranges

    def float_desc(self, fold_batchnorm: bool = True, ranges_source: Optional[str] = None,
                   **desc_kwargs) -> ModelDesc:
        """The float model (qgnn.export's description) carrying the observers' ranges as stored ranges, so
        that `qgnn-convert FLOAT --calib ...` can quantize with the ranges QAT trained for."""
        if any(o.empty for o in self.observers()):
            raise ValueError("the QAT observers hold no ranges yet (calibrate or train first)")
        desc = to_desc(self.model, name=desc_kwargs.pop("name", self.name), fold_batchnorm=fold_batchnorm,
                       **desc_kwargs)
        input_range, ranges = self.stored_ranges()
        desc.input_range = input_range
        for layer, r, o in zip(desc.layers, ranges, self.obs):
            layer.output_range = r.output
            layer.aggregation_range = r.aggregation if o["aggregation"] is not None else None
            layer.message_range = r.message if o["message"] is not None else None
            layer.logit_range = r.attention if o["attention"] is not None else None
            layer.hidden_ranges = list(r.hidden)
        if self.raw_aggregation_obs is not None:
            # The written float model takes the raw input: its first aggregation's range is the raw one (the
            # per-column ranges themselves are not stored, see docs/qat.md).
            desc.layers[0].aggregation_range = self.raw_aggregation_obs.range()
        if ranges_source is None:
            bits = sorted({self.input_bits} | {b for c in self.layer_bits for b in (c.aggregation, c.output)})
            ranges_source = (f"qgnn.qat {self.input_obs.method} observers, "
                             f"{'/'.join(str(b) for b in bits)}-bit activations")
        desc.ranges_source = ranges_source
        return desc

    def quantized_model(self, **desc_kwargs) -> ModelDesc:
        desc = to_desc(self.model, name=desc_kwargs.pop("name", self.name), **desc_kwargs)
        input_range, ranges = self.stored_ranges()
        column_ranges = self.column_ranges()
        qm = quantize_desc(desc, input_range, ranges, self.input_bits, self.layer_bits, self.int8_logits,
                           column_ranges=column_ranges, input_scales=self.input_scales_mode)
        if self.input_scales_mode == "auto" and column_ranges is not None:
            self.input_scales_mode = "column" if qm.input_column_scales is not None else "tensor"
        return qm

    # -- forward ------------------------------------------------------------------------------------
    def forward(self, x: Tensor, row_ptr, col_idx=None, graph_ptr=None) -> Tensor:
        graph = row_ptr if isinstance(row_ptr, qnn.Graph) else qnn.Graph(row_ptr, col_idx, graph_ptr)
        x = torch.as_tensor(x, dtype=torch.float32)
        observe = self.training or self.calibrating
        if observe and self.quant_enabled and any(o.empty for o in self.observers()):
            self.calibrate_float(x, graph)  # first batch: initialise the ranges from the float model
        # Frozen ranges: training batches quantize with the calibrated grid and record nothing (an explicit
        # calibration pass still records).
        observe = observe and (self.calibrating or not self.ranges_frozen)
        qm = self.quantized_model() if self.quant_enabled else None
        self.last_quantized = qm
        feats: Optional[List[Tensor]] = [] if self.record_features else None
        self.last_features = feats
        return self._run(x, graph, qm, observe, feats=feats)

    @torch.no_grad()
    def calibrate_float(self, x: Tensor, graph: qnn.Graph) -> None:
        """One float (unquantized) pass recording the ranges of every activation."""
        self.quant_enabled = False
        try:
            self._run(x, graph, None, True)
        finally:
            self.quant_enabled = True

    def _run(self, x: Tensor, graph: qnn.Graph, qm: Optional[ModelDesc], observe: bool,
             stoch: Optional[Tuple[float, bool]] = None, feats: Optional[List[Tensor]] = None) -> Tensor:
        """stoch = (p_fp, stochastic_rounding): SQD's stochastic path (qgnn.qat.distill), training only: each
        quantized point is kept in full precision with probability p_fp, else (optionally) rounded
        stochastically. feats: receives the value each layer hands on."""
        batch = GraphBatch(graph.row_ptr.numpy().astype(np.int64), graph.col_idx.numpy().astype(np.int64),
                           graph.graph_ptr.numpy().astype(np.int64))
        masking = self.degree_quant and self.training and qm is not None
        point_names = {id(o): name for name, o in self.named_observers()} if self.sqnr_stats is not None else {}
        p_min, p_max = self.dq_probs

        def mask_for(rows: int) -> Optional[Tensor]:
            if not masking or rows != graph.num_nodes:
                return None
            return protection_mask(graph.degree, p_min, p_max, self._gen)

        def point(v_f: Tensor, obs: RangeObserver, qp: Optional[QuantParams], q_int, mask) -> Tuple[Tensor, object]:
            """Observe v_f (obs None: observed elsewhere); hand on the integer result (dequantized, STE) or, for
            protected nodes, v_f."""
            if observe and obs is not None:
                obs.update(v_f)
            if qp is None:
                return v_f, None
            s, z = qp.scale, qp.zero_point
            if stoch is not None:
                if float(torch.rand((), generator=self._gen, dtype=torch.float64)) < stoch[0]:
                    full = torch.ones(v_f.shape[0], dtype=torch.bool)
                    mask = full if mask is None else mask | full
                elif stoch[1]:
                    q_int = _stochastic_round(v_f, s, z, qp.bits, self._gen)
            deq = torch.from_numpy(dequantize(q_int, s, z))
            if self.sqnr_stats is not None:
                name = "input" if obs is None else point_names[id(obs)]  # the input is observed apart
                vf = v_f.detach().to(torch.float64)
                acc = self.sqnr_stats.setdefault(name, [0.0, 0.0])
                acc[0] += float((vf * vf).sum())
                acc[1] += float(((vf - deq.to(torch.float64)) ** 2).sum())
            lo = float(np.float32(s) * np.float32(qp.qmin - z))
            hi = float(np.float32(s) * np.float32(qp.qmax - z))
            inside = ((v_f >= lo) & (v_f <= hi)).to(v_f.dtype)
            v = v_f * inside + (deq - v_f * inside).detach()
            if mask is not None and bool(mask.any()):
                v = torch.where(mask[:, None], v_f, v)
                qf = quantize_float(v_f.detach().numpy(), s, z, qp.bits)
                q_int = np.where(mask.numpy()[:, None], qf, q_int)
            return v, q_int

        def wq(w: Tensor, b: Optional[Tensor], d: Optional[DenseDesc], s_in) -> Tuple[Tensor, Optional[Tensor]]:
            """Fake-quantized weights / bias (identity STE) of a Dense, as the integer Dense uses them."""
            if d is None:
                return w, b
            w_deq = torch.from_numpy(d.weight.astype(np.float32) * d.weight_scales[:, None])
            w = w + (w_deq - w).detach()
            if b is not None:
                bq = d.bias if d.bias is not None else np.zeros(w.shape[0], np.int32)
                b_deq = torch.from_numpy((bq.astype(np.float64) * float(s_in) *
                                          d.weight_scales.astype(np.float64)).astype(np.float32))
                b = b + (b_deq - b).detach()
            return w, b

        def lin(v: Tensor, wb: Tuple[Tensor, Optional[Tensor]]) -> Tensor:
            y = v @ wb[0].t()
            return y + wb[1] if wb[1] is not None else y

        if qm is None:
            desc = to_desc(self.model)
            relus = [l.relu for l in desc.layers]
            hidden_relus = [[d.relu for d in l.mlp[:-1]] for l in desc.layers]
        else:
            relus = [l.relu for l in qm.layers]
            hidden_relus = [[d.relu for d in l.mlp[:-1]] for l in qm.layers]
        # input: with per-column scales the rest of the model runs in the normalised domain x[:, k] / fold[k]
        # (what s_in * (q - z) represents) with the first layer's weights multiplied by fold: the same float
        # model, and the quantized model's exact numerics.
        q = zx = in_q = None
        if observe:
            self.observe_input(x)
        fold = self.input_fold(qm)
        gain = torch.from_numpy(fold.astype(np.float32)) if fold is not None else None
        if qm is not None:
            in_q = qm.input_quant
            q = quantize_float(x.detach().numpy(), model_input_scales(qm), in_q.zero_point, in_q.bits)
            zx = in_q.zero_point
        v, q = point(x if gain is None else x / gain, None, in_q, q, mask_for(x.shape[0]))
        cur_q = in_q
        for i, e in enumerate(self.entries):
            o = self.obs[i]
            ql = qm.layers[i] if qm is not None else None
            mask = mask_for(v.shape[0])
            denses = e.denses()
            if i == 0 and gain is not None:  # every Dense reading the input or its aggregation: all but GIN's later
                folded = 1 if e.kind == GIN_CONV else len(denses)
                denses = [(w * gain[None, :], b) if k < folded else (w, b) for k, (w, b) in enumerate(denses)]
            st = step(e.kind)  # the integer stages, as qgnn.sim runs them
            if e.kind == GLOBAL_POOL:
                p_f = qnn.global_pool(v, graph, e.module.reduce)
                qo = None
                if ql is not None:
                    qo = st.pool(ql, q, zx, batch)
                v, q = point(p_f, o["output"], ql.output if ql else None, qo, None)
            elif e.kind == LINEAR:
                d = ql.dense if ql else None
                y_f = lin(v, wq(*denses[0], d, cur_q.scale if cur_q else None))
                y_f = torch.relu(y_f) if relus[i] else y_f
                qo = None
                if ql is not None:
                    qo = st.dense(ql, 0, q, zx, q, zx)
                v, q = point(y_f, o["output"], ql.output if ql else None, qo, mask)
            elif e.kind == GAT_CONV:
                v, q = self._gat(e, o, ql, denses[0][0], v, q, zx, graph, batch, point, wq, mask, relus[i])
            elif e.transform_first and e.kind == SAGE_CONV:
                # messages x W_n^T (fake-quantized weights, no bias), their mean, then the bias (at the
                # aggregation scale, as the integer output stage adds it), the root term and the activation
                d = ql.dense if ql else None
                w_f, b_f = wq(denses[0][0], None, d, None)[0], denses[0][1]
                m_f = v @ w_f.t()
                qm_int = st.message(ql, q, zx) if ql is not None else None
                vm, qm_int = point(m_f, o["message"], ql.message if ql else None, qm_int, mask)
                a_f = qnn.aggregate(vm, graph, "mean")
                qa = st.aggregate(ql, qm_int, ql.message.zero_point, batch) if ql is not None else None
                va, qa = point(a_f, o["aggregation"], ql.aggregation if ql else None, qa, mask)
                y_f = va
                if b_f is not None:
                    if d is not None:
                        bq = d.bias if d.bias is not None else np.zeros(w_f.shape[0], np.int32)
                        b_deq = torch.from_numpy((bq.astype(np.float64) *
                                                  float(ql.aggregation.scale)).astype(np.float32))
                        b_f = b_f + (b_deq - b_f).detach()
                    y_f = y_f + b_f
                if len(denses) > 1:
                    y_f = y_f + lin(v, wq(*denses[1], ql.root if ql else None, cur_q.scale if cur_q else None))
                y_f = torch.relu(y_f) if relus[i] else y_f
                qo = st.dense(ql, 0, qa, ql.aggregation.zero_point, q, zx) if ql is not None else None
                v, q = point(y_f, o["output"], ql.output if ql else None, qo, mask)
            elif e.transform_first:
                # messages x W^T (fake-quantized weights, no bias), aggregated, then bias (at the message
                # scale, as the integer layer adds it) and activation
                d = ql.dense if ql else None
                w_f, b_f = wq(denses[0][0], None, d, None)[0], denses[0][1]
                m_f = v @ w_f.t()
                qm_int = st.message(ql, q, zx) if ql is not None else None
                vm, qm_int = point(m_f, o["message"], ql.message if ql else None, qm_int, mask)
                y_f = qnn.gcn_aggregate(vm, graph)
                if b_f is not None:
                    if d is not None:
                        bq = d.bias if d.bias is not None else np.zeros(w_f.shape[0], np.int32)
                        b_deq = torch.from_numpy((bq.astype(np.float64) * float(ql.message.scale)).astype(np.float32))
                        b_f = b_f + (b_deq - b_f).detach()
                    y_f = y_f + b_f
                y_f = torch.relu(y_f) if relus[i] else y_f
                qo = st.aggregate(ql, qm_int, ql.message.zero_point, batch) if ql is not None else None
                v, q = point(y_f, o["output"], ql.output if ql else None, qo, mask)
            else:
                # aggregation
                def float_aggregate(h: Tensor) -> Tensor:
                    if e.kind == GCN_CONV:
                        return qnn.gcn_aggregate(h, graph)
                    if e.kind == SAGE_CONV:
                        return qnn.aggregate(h, graph, e.module.reduce)
                    return (1 + e.module.eps) * h + qnn.aggregate(h, graph, "sum")

                a_f = float_aggregate(v)
                if i == 0 and observe and self.raw_aggregation_obs is not None:
                    with torch.no_grad():
                        self.raw_aggregation_obs.update(a_f if gain is None else float_aggregate(x))
                qa = st.aggregate(ql, q, zx, batch) if ql is not None else None
                agg_q = ql.aggregation if ql else None
                va, qa = point(a_f, o["aggregation"], agg_q, qa, mask)
                relu = relus[i]
                if e.kind in (GCN_CONV, SAGE_CONV):
                    d = ql.dense if ql else None
                    y_f = lin(va, wq(*denses[0], d, agg_q.scale if agg_q else None))
                    if e.kind == SAGE_CONV and len(denses) > 1:
                        r = ql.root if ql else None
                        y_f = y_f + lin(v, wq(*denses[1], r, cur_q.scale if cur_q else None))
                    y_f = torch.relu(y_f) if relu else y_f
                    qo = None
                    if ql is not None:
                        qo = st.dense(ql, 0, qa, agg_q.zero_point, q, zx)  # SAGE: + the root term on q
                    v, q = point(y_f, o["output"], ql.output if ql else None, qo, mask)
                else:  # GIN MLP
                    h, hq, hqp = va, qa, agg_q
                    hidden_relu = hidden_relus[i]
                    for k, wb in enumerate(denses):
                        last = k + 1 == len(denses)
                        d = ql.mlp[k] if ql else None
                        y_f = lin(h, wq(*wb, d, hqp.scale if hqp else None))
                        r = relu if last else hidden_relu[k]
                        y_f = torch.relu(y_f) if r else y_f
                        nq = (ql.output if last else ql.hidden[k]) if ql else None
                        qo = None
                        if ql is not None:
                            qo = st.dense(ql, k, hq, hqp.zero_point, q, zx)
                        h, hq = point(y_f, o["output"] if last else o["hidden"][k], nq, qo, mask)
                        hqp = nq
                    v, q = h, hq
            if ql is not None:
                cur_q, zx = ql.output, ql.output.zero_point
            if feats is not None:
                feats.append(v)
        return v

    def _gat(self, e: _Entry, o: Dict, ql, w: Tensor, v: Tensor, q, zx, graph: qnn.Graph, batch: GraphBatch,
             point, wq, mask, relu: bool):
        """GATConv: messages v W^T (fake-quantized W, no bias), their attention logits (fake-quantized a_src,
        a_dst at their one scale), the integer table softmax's alpha / 256 handed on with the float softmax's
        gradient, the weighted message sum, the bias (at s_m / (256 H'), as the integer layer adds it) and the
        activation. Every value handed on is the integer step's (qgnn.sim.layers.GATConvStep) dequantized."""
        mod, st = e.module, step(GAT_CONV)
        m_f = v @ wq(w, None, ql.dense if ql else None, None)[0].t()
        q_m = st.message(ql, q, zx) if ql is not None else None
        vm, q_m = point(m_f, o["message"], ql.message if ql else None, q_m, mask)
        a_src, a_dst, bias = mod.att_src, mod.att_dst, mod.bias
        att = None
        if ql is not None:
            s_a = np.float32(ql.att_scale)
            a_src = a_src + (torch.from_numpy((ql.att_src.astype(np.float32) * s_a).reshape(a_src.shape))
                             - a_src).detach()
            a_dst = a_dst + (torch.from_numpy((ql.att_dst.astype(np.float32) * s_a).reshape(a_dst.shape))
                             - a_dst).detach()
            if bias is not None:
                heads = 1 if mod.concat else mod.heads
                b_deq = ql.output_bias.astype(np.float64) * float(ql.message.scale) / (256.0 * heads)
                bias = bias + (torch.from_numpy(b_deq.astype(np.float32)) - bias).detach()
            att = st.attention(ql, q_m, batch)
        # the logits (edge rows, no Degree-Quant mask): observed, and handed on as the integer logits
        e_f, _ = point(qnn.gat_logits(vm, a_src, a_dst, graph), o["attention"], ql.logit if ql else None,
                       att.logits if att is not None else None, None)
        alpha = qnn.segment_softmax(e_f, qnn.gat_edges(graph)[1], graph.num_nodes)
        if att is not None:  # the runtime's alpha (unsigned 8-bit, 256 = 1), the float softmax's gradient
            alpha = alpha + (torch.from_numpy(att.alpha.astype(np.float32) / np.float32(256.0)) - alpha).detach()
        y_f = qnn.gat_combine(alpha, vm, bias, graph, mod.concat, relu)
        qo = st.combine(ql, att, q_m) if ql is not None else None
        return point(y_f, o["output"], ql.output if ql else None, qo, mask)

    # -- helpers ----------------------------------------------------------------------------------
    def predict(self, x, graph) -> Tensor:
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self(torch.as_tensor(x, dtype=torch.float32), graph).argmax(dim=1)
        finally:
            self.train(was)


DEFAULT_RANGES = "pauta"  # qgnn-convert's default too: one range method unless the user picks another


def prepare(model: qnn.GraphModel, bits: BitsSpec = 8, ranges: Optional[str] = None,
            degree_quant: bool = False, **kwargs) -> QATModel:
    """Wrap a qgnn.nn.GraphModel for quantization-aware training.

    bits: 8, 4, or {"input", "weights", "aggregation", "output", "default", "layers": {i: {...} | int}}
    ranges: "minmax" | "percentile" | "pauta" (default "pauta", qgnn-convert's default; degree_quant does not
      change it)
    degree_quant: Degree-Quant protective masking during training.
    kwargs: momentum (EMA, None = absolute), dq_probs, percentiles, pauta_k, int8_logits, name, seed,
    input_scales ("auto" | "tensor" | "column": per-column input scales, docs/qat.md), order ("auto" |
    "aggregate-first" | "transform-first": the layer order, set on every GCNConv and SAGEConv module; a forced
    transform-first on a max SAGEConv raises ValueError)."""
    if ranges is None:
        ranges = DEFAULT_RANGES
    return QATModel(model, bits=bits, ranges=ranges, degree_quant=degree_quant, **kwargs)


def export_float(qat_model: QATModel, path: PathLike, *, fold_batchnorm: bool = True,
                 ranges_source: Optional[str] = None, **desc_kwargs) -> ModelDesc:
    """Write the QAT model's float weights as a float .qgnn (atomically) with the observers' final ranges
    stored in it (QATModel.float_desc); returns the written description. Keyword arguments as
    qgnn.export_model.to_desc (name, description, task, class_names, limits)."""
    desc = qat_model.float_desc(fold_batchnorm=fold_batchnorm, ranges_source=ranges_source, **desc_kwargs)
    write_model(desc, path)
    return desc


def export_quantized(qat_model: QATModel, path: PathLike, **desc_kwargs) -> ModelDesc:
    """Write the quantized .qgnn the QAT model's eval forward computes (atomically); returns it.
    Keyword arguments as qgnn.export_model.to_desc (name, description, task, class_names, limits)."""
    description = desc_kwargs.pop("description", None)
    qm = qat_model.quantized_model(**desc_kwargs)
    for name in qat_model.degenerate_activations():
        print(f"warning: {path}: {name} has a degenerate range (no non-zero value observed): quantized at the "
              "smallest scale 2^-24, every non-zero value saturates", file=sys.stderr)
    if description is not None:
        qm.description = description
    write_model(qm, path)
    return qm
