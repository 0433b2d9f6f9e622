"""The integer step of each layer kind, the one implementation qgnn.sim and qgnn.qat both run.

A quantized layer is a fixed sequence of integer stages, each ending in a quantized activation:

  Linear      Dense(x)                                    -> output
  GCNConv     aggregate "gcn"       -> aggregation;  Dense(agg)                     -> output
   transform-first: Dense(x) without bias -> message;  aggregate "gcn" + bias, ReLU  -> output
  SAGEConv    aggregate mean / max  -> aggregation;  Dense(agg) + root Dense(x)     -> output
   transform-first: Dense(x) without bias -> message;  aggregate mean -> aggregation;
                    identity Dense(agg) + bias + root Dense(x)                        -> output
  GINConv     aggregate sum + self  -> aggregation;  Dense_0 -> hidden[0] ... Dense_last -> output
  GATConv     Dense(x) without bias -> message;  attention terms, int8 logits, table softmax (alpha),
              alpha-weighted message sum (heads concatenated or summed) + bias, ReLU       -> output
  GlobalPool  pool sum / mean / max                                                 -> output

`run` chains the stages as the runtime does (qgnn.sim.run). QAT calls the stages one by one (`aggregate`,
`dense`, `message`, `pool`, GATConv's `attention` and `combine`), because between two stages it may replace an activation (Degree-Quant's protected nodes,
SQD's stochastic rounding) and it pairs every stage with a float surrogate for the gradient; the integer
arithmetic of a stage is the same code either way. Activations are int64 value arrays (qgnn.sim.kernels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np

from ..model_file import (GAT_CONV, GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, SAGE_CONV, DenseDesc, LayerDesc,
                          QuantParams, Requant)
from . import kernels as K
from .numerics import qmax, qmin


@dataclass(frozen=True)
class GraphBatch:
    """The CSR of one batch as int64 arrays (row i lists the in-neighbours of node i; graph_ptr cuts graphs)."""

    row_ptr: np.ndarray
    col_idx: np.ndarray
    graph_ptr: np.ndarray


def dense(d: DenseDesc, x: np.ndarray, zx: int, relu: bool, out: QuantParams, root: Optional[DenseDesc] = None,
          root_x: Optional[np.ndarray] = None, root_zx: int = 0) -> np.ndarray:
    """dense() of reference.h onto `out`, with SAGE's root term (the root Dense on the layer input, rescaled on
    its own and added to the rescaled neighbour term before the saturation)."""
    acc = K.dense_accumulator(x, zx, d.weight, d.bias)
    value = out.zero_point + K.rescale(acc, d.requant.multiplier[None, :], d.requant.shift[None, :])
    if root is not None:
        root_acc = K.dense_accumulator(root_x, root_zx, root.weight, root.bias)
        value = value + K.rescale(root_acc, root.requant.multiplier[None, :], root.requant.shift[None, :])
    lo = max(qmin(out.bits), out.zero_point) if relu else qmin(out.bits)
    return K.clamp(value, lo, qmax(out.bits))


# Called after each intermediate stage (aggregation, GIN hidden outputs) with its activation; the layer
# output is what `run` returns.
StageHook = Optional[Callable[[np.ndarray], None]]


class LayerStep:
    """The stages of one layer kind (see the module docstring): an optional aggregation, then Dense stages;
    stage 0 reads the aggregation (Linear: the layer input), stage k > 0 the output of stage k - 1."""

    kind = ""
    aggregates = False  # message passing: an aggregation stage before the Dense stages

    def denses(self, layer: LayerDesc) -> List[DenseDesc]:
        return [layer.dense]

    def dense_output(self, layer: LayerDesc, k: int) -> QuantParams:
        """The quantization Dense stage k writes."""
        return layer.output

    def dense_relu(self, layer: LayerDesc, k: int) -> bool:
        return layer.relu

    def aggregation_mode(self, layer: LayerDesc) -> str:
        """The qgnn.sim.kernels.aggregate mode."""
        raise ValueError(f"{self.kind or 'this'} layer has no aggregation")

    def aggregate(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch) -> np.ndarray:
        rq, q = layer.aggregation_requant, layer.aggregation
        return K.aggregate(self.aggregation_mode(layer), x, zx, g.row_ptr, g.col_idx,
                           int(rq.multiplier[0]), int(rq.shift[0]), q.zero_point, q.bits,
                           self_weight_q16=layer.self_weight_q16 if self.kind == GIN_CONV else 0)

    def message(self, layer: LayerDesc, x: np.ndarray, zx: int) -> np.ndarray:
        """Transform-first stage 1 (GCNConv, SAGEConv): m = clamp(z_m + rescale(sum_k (x_k - zx) w[c][k],
        dense.requant[c])), no bias (it is added after the aggregation) and no activation."""
        d, q = layer.dense, layer.message
        acc = K.dense_accumulator(x, zx, d.weight, None)
        return K.requantize(acc, d.requant.multiplier[None, :], d.requant.shift[None, :], q.zero_point, q.bits)

    def dense(self, layer: LayerDesc, k: int, a: np.ndarray, za: int, x: np.ndarray, zx: int) -> np.ndarray:
        """Dense stage k on `a` (zero point `za`: the aggregation or the previous stage); `x`, `zx`: the layer
        input (SAGE's root term)."""
        return dense(self.denses(layer)[k], a, za, self.dense_relu(layer, k), self.dense_output(layer, k))

    def run(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch, hook: StageHook = None) -> np.ndarray:
        cur, cz = x, zx
        if self.aggregates:
            cur, cz = self.aggregate(layer, x, zx, g), layer.aggregation.zero_point
            if hook is not None:
                hook(cur)
        n = len(self.denses(layer))
        for k in range(n):
            cur = self.dense(layer, k, cur, cz, x, zx)
            cz = self.dense_output(layer, k).zero_point
            if hook is not None and k + 1 < n:
                hook(cur)
        return cur


class LinearStep(LayerStep):
    kind = LINEAR


class GCNConvStep(LayerStep):
    """Aggregate-first: the base class's stages. Transform-first (layer.transform_first): `message`, the Dense
    without its bias onto layer.message, then `aggregate`, the GCN aggregation of the messages with the Dense's
    bias (at the message scale) and the layer's ReLU onto the output; no Dense stage follows."""

    kind = GCN_CONV
    aggregates = True

    def aggregation_mode(self, layer: LayerDesc) -> str:
        return "gcn"

    def aggregate(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch) -> np.ndarray:
        if not layer.transform_first:
            return super().aggregate(layer, x, zx, g)
        rq, out = layer.aggregation_requant, layer.output
        return K.aggregate("gcn", x, zx, g.row_ptr, g.col_idx, int(rq.multiplier[0]), int(rq.shift[0]),
                           out.zero_point, out.bits, bias=layer.dense.bias, relu=layer.relu)

    def run(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch, hook: StageHook = None) -> np.ndarray:
        if not layer.transform_first:
            return super().run(layer, x, zx, g, hook)
        m = self.message(layer, x, zx)
        if hook is not None:
            hook(m)
        return self.aggregate(layer, m, layer.message.zero_point, g)


class SAGEConvStep(LayerStep):
    """Aggregate-first: the base class's stages. Transform-first (layer.transform_first, MEAN): `message`, the
    neighbour Dense without its bias onto layer.message; `aggregate`, the mean of the messages onto
    layer.aggregation (aggregation_requant ~ s_m / s_a); then the output stage, the dense with a second input
    whose main weights are the identity: the neighbour bias (at s_a) plus the aggregation, rescaled by
    output_requant, plus the root term on the layer input (docs/quantization.md "Transform-first SAGEConv")."""

    kind = SAGE_CONV
    aggregates = True

    def aggregation_mode(self, layer: LayerDesc) -> str:
        return layer.reduce  # mean / max (transform-first: mean)

    def dense(self, layer: LayerDesc, k: int, a: np.ndarray, za: int, x: np.ndarray, zx: int) -> np.ndarray:
        if layer.transform_first:
            return dense(self.identity(layer), a, za, layer.relu, layer.output, root=layer.root, root_x=x,
                         root_zx=zx)
        return dense(layer.dense, a, za, layer.relu, layer.output, root=layer.root, root_x=x, root_zx=zx)

    @staticmethod
    def identity(layer: LayerDesc) -> DenseDesc:
        """The output stage's main Dense: identity weights, the neighbour bias, output_requant for every
        channel (it has one entry)."""
        c = layer.dense.out_features
        rq = layer.output_requant
        return DenseDesc(np.eye(c, dtype=np.int8), layer.dense.bias, weight_bits=8,
                         requant=Requant(np.repeat(rq.multiplier[:1], c), np.repeat(rq.shift[:1], c)))

    def run(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch, hook: StageHook = None) -> np.ndarray:
        if not layer.transform_first:
            return super().run(layer, x, zx, g, hook)
        m = self.message(layer, x, zx)
        if hook is not None:
            hook(m)
        a = self.aggregate(layer, m, layer.message.zero_point, g)
        if hook is not None:
            hook(a)
        return self.dense(layer, 0, a, layer.aggregation.zero_point, x, zx)


class GINConvStep(LayerStep):
    kind = GIN_CONV
    aggregates = True

    def aggregation_mode(self, layer: LayerDesc) -> str:
        return "sum"  # plus the self term (1 + eps) x_i: self_weight_q16

    def denses(self, layer: LayerDesc) -> List[DenseDesc]:
        return layer.mlp

    def dense_output(self, layer: LayerDesc, k: int) -> QuantParams:
        return layer.output if k + 1 == len(layer.mlp) else layer.hidden[k]

    def dense_relu(self, layer: LayerDesc, k: int) -> bool:
        return layer.relu if k + 1 == len(layer.mlp) else layer.mlp[k].relu  # hidden: the Dense's own activation


class GlobalPoolStep(LayerStep):
    kind = GLOBAL_POOL

    def denses(self, layer: LayerDesc) -> List[DenseDesc]:
        return []

    def pool(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch) -> np.ndarray:
        rq, out = layer.requant, layer.output
        return K.global_pool(layer.reduce, x, zx, g.graph_ptr, int(rq.multiplier[0]), int(rq.shift[0]),
                             out.zero_point, out.bits)

    def run(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch, hook: StageHook = None) -> np.ndarray:
        return self.pool(layer, x, zx, g)


@dataclass(frozen=True)
class Attention:
    """GATConv's integer attention of one batch: the attention CSR (kernels.gat_rows: each row's self-loop,
    then its edges), the logits (8 or 4 bits) and the uint8 alpha, [E', H] each."""

    starts: np.ndarray
    source: np.ndarray
    dest: np.ndarray
    logits: np.ndarray
    alpha: np.ndarray


class GATConvStep(LayerStep):
    """`message`: the Dense without bias onto layer.message (as transform-first); `attention`: the terms
    a_src · m_j, a_dst · m_i, the int8 logits and the table softmax; `combine`: the alpha-weighted message sum
    per head, concatenated or summed over heads, plus the bias, rescaled per column onto the output with the
    layer's ReLU (docs/quantization.md, "GAT attention (kernels)")."""

    kind = GAT_CONV

    def denses(self, layer: LayerDesc) -> List[DenseDesc]:
        return []  # the Dense writes the messages (`message`), there is no Dense stage after the aggregation

    def attention(self, layer: LayerDesc, m: np.ndarray, g: GraphBatch,
                  logits: Optional[np.ndarray] = None) -> Attention:
        """logits: replaces the integer logits (QAT's protected values), else computed from m."""
        starts, source, dest = K.gat_rows(g.row_ptr, g.col_idx)
        if logits is None:
            src, dst = K.gat_attention_terms(m, layer.message.zero_point, layer.heads, layer.att_src, layer.att_dst)
            pos, neg = layer.logit_requant, layer.logit_negative_requant
            logits = K.gat_logits(src, dst, source, dest, layer.logit.zero_point,
                                  (int(pos.multiplier[0]), int(pos.shift[0])),
                                  (int(neg.multiplier[0]), int(neg.shift[0])), layer.logit.bits)
        alpha = K.gat_alpha(logits, starts, dest, layer.exp_table)
        return Attention(starts, source, dest, logits, alpha)

    def combine(self, layer: LayerDesc, att: Attention, m: np.ndarray) -> np.ndarray:
        acc = K.gat_weighted_sum(att.alpha, m, layer.message.zero_point, att.starts, att.source, layer.concat)
        if layer.output_bias is not None:
            acc = acc + np.asarray(layer.output_bias, dtype=np.int64)[None, :]
        rq, out = layer.output_requant, layer.output
        return K.requantize(acc, rq.multiplier[None, :], rq.shift[None, :], out.zero_point, out.bits, layer.relu)

    def run(self, layer: LayerDesc, x: np.ndarray, zx: int, g: GraphBatch, hook: StageHook = None) -> np.ndarray:
        m = self.message(layer, x, zx)
        if hook is not None:
            hook(m)
        return self.combine(layer, self.attention(layer, m, g), m)


STEPS: Dict[str, LayerStep] = {s.kind: s for s in (LinearStep(), GCNConvStep(), SAGEConvStep(), GINConvStep(),
                                                   GATConvStep(), GlobalPoolStep())}


def step(kind: str) -> LayerStep:
    try:
        return STEPS[kind]
    except KeyError:
        raise ValueError(f"unknown layer kind {kind!r}") from None
