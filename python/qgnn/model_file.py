"""Models in the .qgnn format (schema/qgnn.fbs), float and quantized: one description, one reader, one writer.

A model is a ModelDesc: its layers (LayerDesc: the kind, the Dense ops, the kind's options) and, for a
quantized model, the quantization of every activation (QuantParams) and the fixed-point factors (Requant).
The description mirrors the C++ converter's ModelDesc (converter/include/qgnn/converter/model_builder.h),
including the converter metadata of float models: unfolded BatchNorm after a Dense and stored activation
ranges (e.g. the ranges QAT ended with; all activations or none).

A float model (`input_quant` None) has float32 weights and biases; `check_model` checks it. A quantized model
(written by qgnn-convert or qgnn.qat) has int8 / int4 weights (unpacked here to int8 values; int4 tensors are
packed contiguously over the whole [out][in] tensor, element 2k in the low nibble of byte k, sign-extended),
per-channel weight scales, int32 biases and requant factors. The reader checks the fields of a quantized
model that the integer arithmetic depends on as the runtime's verifier does (bits, zero points, scales,
multiplier and shift ranges, bias bound, self_weight_q16, dimension chain, a transform-first GCNConv's message
quantization present and aggregation absent, a transform-first SAGEConv's message, aggregation and output
requant present), so that qgnn.sim never computes
on a model the runtime would reject. It is not a full reimplementation of the runtime's verifier
(runtime/src/model_verifier.cc): structural FlatBuffers checks are left to the generated bindings.

    read_model(path)            a float model (qgnn.load builds the qgnn.nn model from it)
    read_quantized_model(path)  a quantized model (qgnn.sim runs it)
    from_bytes(buf) / to_bytes(desc) / write_model(desc, path): either
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import flatbuffers
import numpy as np

from . import _fb
from ._atomic import PathLike, write_bytes_atomic
from ._fb import FormatError
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION
from .schema import qgnn_generated as fbm

QGNN_IDENTIFIER = b"QGNN"
QGNN_FORMAT_VERSION = 6  # newest version read (include/qgnn/qgnn.h)
BASE_FORMAT_VERSION = 1  # what files are written as, unless they carry an unfolded BatchNorm or list inputs
BATCH_NORM_FORMAT_VERSION = 2
DATAFLOW_FORMAT_VERSION = 3  # files whose layers list their inputs (LayerDesc.inputs)
COLUMN_SCALES_FORMAT_VERSION = 4  # files with per-column input scales (ModelDesc.input_column_scales)
TRANSFORM_FIRST_FORMAT_VERSION = 5  # files with a transform-first GCNConv (LayerDesc.order)
SAGE_TRANSFORM_FIRST_FORMAT_VERSION = 6  # files with a transform-first SAGEConv (SAGEConvOptions.order)
MODEL_INPUT = -1  # LayerDesc.inputs entry naming the model input
PRODUCER = "qgnn-python 0.1"

# Layer kinds: the names of the schema's LayerOptions union members without "Options", the one spelling
# shared with the C++ runtime (kLinear, kGcnConv, ...) and converter; KIND_OPTIONS maps them to the union.
LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV, GLOBAL_POOL = "Linear", "GCNConv", "SAGEConv", "GINConv", "GlobalPool"
GAT_CONV = "GATConv"
KINDS = (LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV, GLOBAL_POOL, GAT_CONV)
KIND_OPTIONS = {kind: getattr(fbm.LayerOptions, kind + "Options") for kind in KINDS}
_OPTIONS_KIND = {v: k for k, v in KIND_OPTIONS.items()}
AGGREGATING_KINDS = (GCN_CONV, SAGE_CONV, GIN_CONV)  # kinds with a message-passing aggregation
Range = Tuple[float, float]  # stored activation range (min, max)
REDUCES = {"sum": fbm.Reduce.SUM, "mean": fbm.Reduce.MEAN, "max": fbm.Reduce.MAX}
_REDUCE_NAMES = {v: k for k, v in REDUCES.items()}
# The order of a GCNConv or a SAGEConv (schema LayerOrder), spelled as the tools' --order option spells it.
AGGREGATE_FIRST, TRANSFORM_FIRST = "aggregate-first", "transform-first"
ORDERS = {AGGREGATE_FIRST: fbm.LayerOrder.AGGREGATE_FIRST, TRANSFORM_FIRST: fbm.LayerOrder.TRANSFORM_FIRST}
_ORDER_NAMES = {v: k for k, v in ORDERS.items()}
ORDERED_KINDS = (GCN_CONV, SAGE_CONV)  # kinds with an order (SAGEConv: transform-first with MEAN only)


def auto_order(in_features: int, out_features: int, reduce: str = "mean") -> str:
    """The order the converter and qgnn.qat pick for a GCNConv or a SAGEConv unless told otherwise:
    transform-first when the (neighbour) Dense narrows the features (it then aggregates out_features columns
    instead of in_features and keeps only narrow tensors), aggregate-first otherwise; a SAGEConv with MAX always
    aggregates first, since max does not commute with W_n (docs/quantization.md, "Transform-first GCNConv" and
    "Transform-first SAGEConv"). `reduce` is a SAGEConv's; a GCNConv passes the default."""
    if reduce != "mean":
        return AGGREGATE_FIRST
    return TRANSFORM_FIRST if out_features < in_features else AGGREGATE_FIRST

# Runtime caps the integer arithmetic relies on (docs/format.md "Verification" and "Limits").
MAX_FEATURES = 32768
BIAS_LIMIT = 1 << 30
MULTIPLIER_MIN, MULTIPLIER_MAX = 1 << 30, (1 << 31) - 1
DENSE_SHIFT_MAX = 62
SINGLE_SHIFT_MAX = 40  # aggregation and pooling (MEAN adds up to 22)
SELF_WEIGHT_LIMIT = 1 << 23
MAX_DEGREE = 1 << 22
# GATConv (docs/quantization.md, "GAT attention (kernels)"): LeakyReLU's slope, which the quantized
# logit_negative_requant folds in; the exp table's length and first entry (exp(0) in Q15); the mean of heads'
# bounds (H <= 64 and H (in-degree + 1) <= 2^22 keep the int32 sum over heads below 2^30).
GAT_NEGATIVE_SLOPE = np.float32(0.2)
GAT_EXP_TABLE_SIZE = 256
GAT_EXP_ONE = 32768
GAT_MAX_MEAN_HEADS = 64
GAT_MEAN_DEGREE_BUDGET = 1 << 22
FLOAT_WEIGHT_BITS = 32  # DenseDesc.weight_bits of a float model's Dense
_TYPE_BITS = {fbm.TensorType.INT8: 8, fbm.TensorType.INT4: 4, fbm.TensorType.INT32: 32,
              fbm.TensorType.FLOAT32: 32}
_WEIGHT_TYPES = {FLOAT_WEIGHT_BITS: fbm.TensorType.FLOAT32, 8: fbm.TensorType.INT8, 4: fbm.TensorType.INT4}


@dataclass
class QuantParams:
    """real = scale * (q - zero_point), q in [qmin(bits), qmax(bits)]."""

    bits: int
    scale: np.float32
    zero_point: int

    @property
    def qmin(self) -> int:
        return -(1 << (self.bits - 1))

    @property
    def qmax(self) -> int:
        return (1 << (self.bits - 1)) - 1


@dataclass
class Requant:
    """Fixed-point rescale factors multiplier * 2^-shift, one per output channel (or exactly one)."""

    multiplier: np.ndarray  # int64 [n]
    shift: np.ndarray  # int64 [n]


@dataclass
class BatchNormDesc:
    """Unfolded BatchNorm after a Dense (schema BatchNorm, float models): applied after the bias and before
    the activation, y = (acc - mean) / sqrt(var + eps) * gamma + beta, per output channel."""

    mean: np.ndarray  # float32 [out_features]
    var: np.ndarray  # float32 [out_features], >= 0
    gamma: np.ndarray  # float32 [out_features]
    beta: np.ndarray  # float32 [out_features]
    eps: float = 1e-5  # > 0

    def __post_init__(self) -> None:
        for name in ("mean", "var", "gamma", "beta"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float32).reshape(-1))
        self.eps = float(np.float32(self.eps))

    def scale_shift(self) -> Tuple[np.ndarray, np.ndarray]:
        """(s, t) in float64 with BN(acc) = s * acc + t: s = gamma / sqrt(var + eps), t = beta - mean * s."""
        s = self.gamma.astype(np.float64) / np.sqrt(self.var.astype(np.float64) + np.float64(self.eps))
        return s, self.beta.astype(np.float64) - self.mean.astype(np.float64) * s


@dataclass
class DenseDesc:
    """y = x W^T + b; `relu` is the activation fused after a hidden Dense of a GIN MLP; `batch_norm` (float
    models) runs after the bias and before the activation (on a SAGE neighbour Dense: on the whole sum).

    Quantized: acc = bias + sum_k (x_k - zx) * weight[c, k]; out = rescale(acc, requant[c])."""

    weight: np.ndarray  # float32 [out, in]; quantized: int8 values [out, in] (int4 tensors unpacked to [-8, 7])
    bias: Optional[np.ndarray] = None  # float32 [out]; quantized: int32 [out]
    relu: bool = False
    batch_norm: Optional[BatchNormDesc] = None  # float models
    weight_bits: int = FLOAT_WEIGHT_BITS  # the weight tensor's type: 32 (FLOAT32), 8 (INT8) or 4 (INT4)
    weight_scales: Optional[np.ndarray] = None  # quantized: float32 [out]
    requant: Optional[Requant] = None  # quantized
    name: str = ""  # the weight tensor's name; "" = derived from the layer's name when written

    def __post_init__(self) -> None:
        if self.weight_bits == FLOAT_WEIGHT_BITS:
            self.weight = np.ascontiguousarray(self.weight, dtype=np.float32)
            if self.bias is not None:
                self.bias = np.ascontiguousarray(self.bias, dtype=np.float32)

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])


@dataclass
class LayerDesc:
    kind: str  # one of KINDS
    name: str = ""
    relu: bool = False  # activation fused at the end of the layer (ignored by GlobalPool)
    dense: Optional[DenseDesc] = None  # Linear, GCNConv; SAGEConv's neighbour Dense (W_n, with the bias)
    root: Optional[DenseDesc] = None  # SAGEConv's root Dense (W_r); None: no root term
    mlp: List[DenseDesc] = field(default_factory=list)  # GINConv
    reduce: str = "sum"  # SAGEConv: mean/max; GlobalPool: sum/mean/max
    eps: float = 0.0  # GINConv (documentation only in a quantized model: self_weight_q16 is what runs)
    # Stored ranges (schema Range), all activations of the model or none: the output (after the activation),
    # the aggregation (GCNConv/SAGEConv/GINConv) and GINConv's hidden MLP outputs (len(mlp) - 1).
    output_range: Optional[Range] = None
    aggregation_range: Optional[Range] = None
    hidden_ranges: List[Range] = field(default_factory=list)
    # Quantized models: the quantization of the output, of the aggregation and of GINConv's hidden MLP
    # outputs; the aggregation's requant (one entry), GINConv's self weight round((1 + eps) 2^16), and
    # GlobalPool's requant (one entry).
    output: Optional[QuantParams] = None
    aggregation: Optional[QuantParams] = None
    aggregation_requant: Optional[Requant] = None
    hidden: List[QuantParams] = field(default_factory=list)
    self_weight_q16: int = 0
    requant: Optional[Requant] = None
    # Explicit dataflow (schema Layer.inputs): the outputs this layer reads, by layer index (each earlier than
    # this layer), MODEL_INPUT for the model input. Empty: the previous layer's output (the model input for the
    # first layer). Every kind reads one input, so a list is a skip connection; see input_of.
    inputs: List[int] = field(default_factory=list)
    # GCNConv (format version 5) and SAGEConv with MEAN (format version 6): AGGREGATE_FIRST or TRANSFORM_FIRST.
    # Transform-first runs the (neighbour) Dense without its bias on every node first (the messages
    # m = x W^T), aggregates m, then adds the bias and applies the activation; quantized, the messages have their
    # own quantization `message` (the Dense writes it). GCNConv: its bias is at the message scale and
    # `aggregation` is None. SAGEConv: the messages are mean-aggregated onto `aggregation` (its stored
    # aggregation range is that of the aggregated messages), the neighbour bias is at the aggregation scale, and
    # `output_requant` (one entry) rescales aggregation + bias onto the output, the root term added as in
    # aggregate-first. message_range: the stored range of m (before the bias), in either order, optional (not
    # part of the all-or-nothing rule of the other ranges).
    order: str = AGGREGATE_FIRST
    message: Optional[QuantParams] = None
    message_range: Optional[Range] = None
    output_requant: Optional[Requant] = None  # quantized transform-first SAGEConv; GATConv (one per column)
    # GATConv (docs/quantization.md, "GATConv"): `dense` is W of every head ([heads * head_dim, in], no bias),
    # `message` / `message_range` its messages; the heads concatenated (heads * head_dim outputs) or averaged
    # (head_dim outputs). Float: att_src / att_dst float32 [heads * head_dim], output_bias float32 [outputs].
    # Quantized: att_src / att_dst int8 at the one scale att_scale, output_bias int32 at the accumulator's scale
    # (message.scale / 256, mean of H heads: / (256 H)), the logits' quantization (8 bits), their requants
    # (one entry each; the negative one has LeakyReLU's 0.2 folded in), the exp table (uint16 [256], Q15) and
    # output_requant. logit_range: the stored range of the logits (after LeakyReLU).
    heads: int = 1
    head_dim: int = 0
    concat: bool = True
    att_src: Optional[np.ndarray] = None
    att_dst: Optional[np.ndarray] = None
    att_scale: float = 1.0
    output_bias: Optional[np.ndarray] = None
    logit: Optional[QuantParams] = None
    logit_requant: Optional[Requant] = None
    logit_negative_requant: Optional[Requant] = None
    exp_table: Optional[np.ndarray] = None
    logit_range: Optional[Range] = None

    @property
    def transform_first(self) -> bool:
        return self.kind in ORDERED_KINDS and self.order == TRANSFORM_FIRST

    @property
    def has_aggregation(self) -> bool:
        """A message-passing layer with an aggregation component (quantized: `aggregation`; stored range:
        `aggregation_range`): every one but a transform-first GCNConv, which aggregates onto its output."""
        return self.kind in AGGREGATING_KINDS and not (self.kind == GCN_CONV and self.transform_first)

    def denses(self) -> List[DenseDesc]:
        if self.kind == GIN_CONV:
            return list(self.mlp)
        return [d for d in (self.dense, self.root) if d is not None]

    def output_width(self, input_width: int) -> int:
        """The width of the layer's output for an input of `input_width` columns (unchecked)."""
        if self.kind == GLOBAL_POOL:
            return input_width
        if self.kind == GAT_CONV:
            return self.head_dim * (self.heads if self.concat else 1)
        last = self.mlp[-1] if self.kind == GIN_CONV else self.dense
        return last.out_features if last is not None else input_width


@dataclass
class ModelDesc:
    input_dim: int
    layers: List[LayerDesc]
    name: str = "model"
    description: str = ""
    producer: str = PRODUCER
    task: int = GRAPH_CLASSIFICATION
    class_names: List[str] = field(default_factory=list)
    limits: Tuple[int, int, int, int] = (0, 0, 0, 0)  # max_nodes, max_edges, max_degree, max_graphs (0 = cap)
    version: int = BASE_FORMAT_VERSION
    input_range: Optional[Range] = None  # stored range of the input features
    ranges_source: str = ""  # where the stored ranges come from, e.g. "qgnn.qat minmax observers"
    input_quant: Optional[QuantParams] = None  # the input quantization; None: a float model
    input_int8: bool = False  # quantized: InputSpec.type == INT8, features arrive already quantized
    # Quantized, optional (InputSpec.column_scales): float32 [input_dim], feature k is quantized with scale
    # input_column_scales[k] and input_quant.zero_point; input_quant.scale stays the reference scale s_in
    # (docs/quantization.md "Per-column input scales"). None: every column uses input_quant.scale.
    input_column_scales: Optional[np.ndarray] = None

    @property
    def quantized(self) -> bool:
        return self.input_quant is not None

    @property
    def output_quant(self) -> QuantParams:
        return self.layers[-1].output

    @property
    def num_classes(self) -> int:
        """The output width: the last layer's (unchecked; output_dim() checks a float model first)."""
        dims = [self.input_dim]  # dims[j + 1]: the width of output j
        for i, layer in enumerate(self.layers):
            dims.append(layer.output_width(dims[input_of(self, i) + 1]))
        return dims[-1]

    def output_dim(self) -> int:
        return check_model(self)

    def has_stored_ranges(self) -> bool:
        return self.input_range is not None or any(
            l.output_range is not None or l.aggregation_range is not None or l.message_range is not None
            or l.logit_range is not None or l.hidden_ranges for l in self.layers)


def _layer_input(layer: LayerDesc, i: int) -> int:
    return int(layer.inputs[0]) if len(layer.inputs) else i - 1


def input_of(m: ModelDesc, i: int) -> int:
    """The output layer i reads: its one listed input, or the previous layer's (MODEL_INPUT for layer 0) when
    it lists none. Every pass (checks, reader, simulator, quantizer) routes a layer's input through this."""
    return _layer_input(m.layers[i], i)


def _inputs_error(layer: LayerDesc, i: int) -> Optional[str]:
    """What is wrong with layer i's listed inputs, None if nothing: they must be one (every kind reads one
    input), an earlier layer's output or the model input. The runtime refuses more with QGNN_SHAPE_MISMATCH
    and an index outside [-1, i - 1] with QGNN_INDEX_OUT_OF_RANGE."""
    if len(layer.inputs) > 1:
        return f"{layer.kind} reads 1 input, {len(layer.inputs)} listed"
    for j in layer.inputs:
        if not MODEL_INPUT <= int(j) < i:
            return f"input {int(j)} is neither the model input (-1) nor an earlier layer"
    return None


# ---------------------------------------------------------------------------------------------------
# int4 packing
# ---------------------------------------------------------------------------------------------------

def unpack_int4(packed: np.ndarray, count: int) -> np.ndarray:
    """`count` sign-extended int4 values from bytes packed low nibble first (element 2k in bits 0-3 of byte k,
    element 2k+1 in bits 4-7), as int8."""
    packed = np.asarray(packed, dtype=np.uint8).reshape(-1)
    if packed.size * 2 < count:
        raise ValueError(f"{packed.size} bytes cannot hold {count} int4 values")
    nibbles = np.empty(packed.size * 2, dtype=np.int16)
    nibbles[0::2] = packed & 0x0F
    nibbles[1::2] = packed >> 4
    nibbles = nibbles[:count]
    return np.where(nibbles >= 8, nibbles - 16, nibbles).astype(np.int8)


def pack_int4(values: np.ndarray) -> bytes:
    """Inverse of unpack_int4 over a flat sequence; values must be in [-8, 7]; an odd count leaves the last high
    nibble 0."""
    v = np.asarray(values).reshape(-1).astype(np.int64)
    if v.size and (v.min() < -8 or v.max() > 7):
        raise ValueError("int4 values must lie in [-8, 7]")
    nib = (v & 0x0F).astype(np.uint8)
    if nib.size % 2:
        nib = np.concatenate([nib, np.zeros(1, np.uint8)])
    return (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()


# ---------------------------------------------------------------------------------------------------
# Checks of a float description (a quantized one is checked by the reader, see to_bytes)
# ---------------------------------------------------------------------------------------------------

def _check_batch_norm(bn: BatchNormDesc, out: int, where: str, fail) -> None:
    for name in ("mean", "var", "gamma", "beta"):
        v = getattr(bn, name)
        if v.shape != (out,):
            fail(f"{where}: batch_norm {name} has {v.size} values, expected {out}")
        if not np.all(np.isfinite(v)):
            fail(f"{where}: batch_norm {name} has a non-finite value")
    if np.any(bn.var < 0):
        fail(f"{where}: batch_norm var has a negative value")
    if not (math.isfinite(bn.eps) and bn.eps > 0):
        fail(f"{where}: batch_norm eps {bn.eps} is not > 0")


def _check_ranges(m: "ModelDesc", fail) -> None:
    """All or nothing (a converter quantizing with them needs one per activation); finite, min <= max."""
    if not m.has_stored_ranges():
        return

    def check(r: Optional[Range], what: str) -> None:
        if r is None:
            fail(f"{what} range is missing (a model stores the ranges of every activation or of none)")
        if len(r) != 2 or not (math.isfinite(r[0]) and math.isfinite(r[1])) or r[0] > r[1]:
            fail(f"{what} range {tuple(r)} is not finite with min <= max")

    check(m.input_range, "input")
    for i, layer in enumerate(m.layers):
        where = f"layer {i} ({layer.name or layer.kind})"
        check(layer.output_range, f"{where}: output")
        # A layer stores the ranges of what its order computes: transform-first never aggregates its input, so
        # its message range is the one it needs (a GCNConv may store the other order's aggregation range too; a
        # SAGEConv's aggregation range is that of its aggregated messages, which it needs).
        if layer.transform_first:
            check(layer.message_range, f"{where}: message")
            if layer.aggregation_range is not None or layer.kind == SAGE_CONV:
                check(layer.aggregation_range, f"{where}: aggregation")
        elif layer.kind in (GCN_CONV, SAGE_CONV, GIN_CONV):
            check(layer.aggregation_range, f"{where}: aggregation")
        elif layer.aggregation_range is not None:
            fail(f"{where}: an aggregation range on a layer without aggregation")
        if layer.message_range is not None and not layer.transform_first:
            check(layer.message_range, f"{where}: message")
        if layer.kind == GAT_CONV:  # the messages and the logits are quantized from their ranges too
            check(layer.message_range, f"{where}: message")
            check(layer.logit_range, f"{where}: logit")
        elif layer.logit_range is not None:
            fail(f"{where}: a logit range on a layer without attention")
        hidden = len(layer.mlp) - 1 if layer.kind == GIN_CONV else 0
        if len(layer.hidden_ranges) != hidden:
            fail(f"{where}: {len(layer.hidden_ranges)} hidden ranges, expected {hidden}")
        for k, r in enumerate(layer.hidden_ranges):
            check(r, f"{where}: hidden[{k}]")


def _check_gat(layer: LayerDesc, fail, where: str) -> None:
    """A float GATConv's own fields (as the runtime's Init checks them)."""
    if layer.heads < 1 or layer.head_dim < 1:
        fail(f"{where}: GATConv has {layer.heads} heads of {layer.head_dim} features (both >= 1)")
    cols = layer.heads * layer.head_dim
    if cols > MAX_FEATURES:
        fail(f"{where}: GATConv has {cols} message features (at most {MAX_FEATURES})")
    if not layer.concat and layer.heads > GAT_MAX_MEAN_HEADS:
        fail(f"{where}: the mean of {layer.heads} heads (at most {GAT_MAX_MEAN_HEADS})")
    d = layer.dense
    if d.weight.ndim != 2 or d.out_features != cols:
        fail(f"{where}: dense weight {d.weight.shape} does not have heads x head_dim = {cols} outputs")
    if d.bias is not None or d.batch_norm is not None:
        fail(f"{where}: a GATConv's dense has no bias or BatchNorm (its bias is output_bias, added after the "
             "attention)")
    for name in ("att_src", "att_dst"):
        a = getattr(layer, name)
        if a is None or np.asarray(a).shape != (cols,):
            fail(f"{where}: {name} must have heads x head_dim = {cols} values")
        if not np.all(np.isfinite(a)):
            fail(f"{where}: {name} has a non-finite value")
    out = layer.output_width(0)
    if layer.output_bias is not None:
        if np.asarray(layer.output_bias).shape != (out,):
            fail(f"{where}: output_bias must have {out} values")
        if not np.all(np.isfinite(layer.output_bias)):
            fail(f"{where}: output_bias has a non-finite value")


def check_model(m: ModelDesc) -> int:
    """Check the description's consistency (dims and rows from each layer's input, kinds, shapes); return the
    output width (the last layer's)."""

    def fail(msg: str) -> None:
        raise FormatError(f"model {m.name!r}: {msg}")

    if m.task not in (GRAPH_CLASSIFICATION, NODE_CLASSIFICATION):
        fail(f"unknown task {m.task}")
    if m.input_dim <= 0:
        fail("input_dim must be > 0")
    # outputs[j + 1]: (width, pooled) of output j, the model input first. Pooled outputs have one row per graph.
    outputs = [(m.input_dim, False)]
    any_pool = False
    for i, layer in enumerate(m.layers):
        where = f"layer {i} ({layer.name or layer.kind})"
        error = _inputs_error(layer, i)
        if error:
            fail(f"{where}: {error}")
        dim, pooled = outputs[input_of(m, i) + 1]
        if layer.kind == GLOBAL_POOL:
            if layer.reduce not in REDUCES:
                fail(f"{where}: pooling reduce {layer.reduce!r} is not sum/mean/max")
            if pooled:
                fail(f"{where}: a second global pooling (its input has one row per graph)")
            outputs.append((dim, True))
            any_pool = True
            continue
        if layer.kind not in (LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV, GAT_CONV):
            fail(f"{where}: unknown kind {layer.kind!r}")
        if pooled and layer.kind != LINEAR:
            fail(f"{where}: only Linear layers may follow the global pooling")
        if layer.kind == GIN_CONV and not layer.mlp:
            fail(f"{where}: a GINConv needs at least one Dense in its MLP")
        if layer.kind in (LINEAR, GCN_CONV, SAGE_CONV, GAT_CONV) and layer.dense is None:
            fail(f"{where}: missing Dense")
        if layer.order not in ORDERS:
            fail(f"{where}: unknown order {layer.order!r} (one of {', '.join(ORDERS)})")
        if layer.kind not in ORDERED_KINDS and layer.order != AGGREGATE_FIRST:
            fail(f"{where}: only a GCNConv or a SAGEConv has an order")
        if layer.kind not in ORDERED_KINDS + (GAT_CONV,) and layer.message_range is not None:
            fail(f"{where}: only a GCNConv, a SAGEConv or a GATConv has a message range")
        if layer.kind == GAT_CONV:
            _check_gat(layer, fail, where)
        if layer.kind == SAGE_CONV and layer.reduce not in ("mean", "max"):
            fail(f"{where}: SAGEConv reduce must be mean or max, got {layer.reduce!r}")
        if layer.transform_first and layer.kind == SAGE_CONV and layer.reduce != "mean":
            fail(f"{where}: a transform-first SAGEConv needs reduce mean (max does not commute with W_n)")
        if layer.transform_first and layer.dense is not None and layer.dense.batch_norm is not None:
            # BatchNorm's shift does not commute with the aggregation (qgnn-convert refuses it too).
            fail(f"{where}: transform-first with an unfolded BatchNorm (fold it first)")
        chain = layer.mlp if layer.kind == GIN_CONV else [layer.dense]
        for d in chain:
            if d.weight.ndim != 2 or d.in_features != dim:
                fail(f"{where}: weight shape {d.weight.shape} does not take {dim} inputs")
            if d.bias is not None and d.bias.shape != (d.out_features,):
                fail(f"{where}: bias shape {d.bias.shape} for {d.out_features} outputs")
            dim = d.out_features
        dim = layer.output_width(dim)
        if layer.root is not None:
            r = layer.root
            if r.weight.shape != layer.dense.weight.shape:
                fail(f"{where}: root weight {r.weight.shape} != neighbour weight {layer.dense.weight.shape}")
            if r.bias is not None and r.bias.shape != (r.out_features,):
                fail(f"{where}: root bias shape {r.bias.shape}")
        for d in layer.denses():
            if not (np.all(np.isfinite(d.weight)) and (d.bias is None or np.all(np.isfinite(d.bias)))):
                fail(f"{where}: non-finite parameters")
            if d.batch_norm is not None:
                _check_batch_norm(d.batch_norm, d.out_features, where, fail)
        if layer.root is not None and layer.root.batch_norm is not None:
            fail(f"{where}: a BatchNorm on the SAGE root Dense (the neighbour Dense carries the layer's)")
        outputs.append((dim, pooled))
    # The model's output is the last layer's.
    dim, pooled = outputs[-1]
    if m.task == GRAPH_CLASSIFICATION and not pooled:
        fail("a graph classification model needs a global pooling layer (before its last layer's output)")
    if m.task == NODE_CLASSIFICATION and any_pool:
        fail("a node classification model cannot contain a global pooling layer")
    if m.class_names and len(m.class_names) != dim:
        fail(f"{len(m.class_names)} class names for {dim} outputs")
    _check_ranges(m, fail)
    return dim




# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------

class _Writer:
    """Builds the tables of one model (float or quantized) bottom-up: the FlatBuffers builder needs every
    child (tensor, Requant, QuantParams, vector) finished before the table that refers to it. The order of
    the builder calls fixes the bytes: keep it (files are compared byte for byte across versions)."""

    def __init__(self, builder: flatbuffers.Builder, quantized: bool) -> None:
        self.b = builder
        self.quantized = quantized
        self.tensors: List[int] = []
        self.buffers: List[int] = []

    def tensor(self, name: str, ttype: int, shape, data: bytes, scales: Optional[np.ndarray] = None) -> int:
        """A tensor in its own 16-byte aligned buffer; returns its index."""
        b = self.b
        buf_data = _fb.create_aligned_bytes(b, data, 16)
        fbm.BufferStart(b)
        fbm.BufferAddData(b, buf_data)
        self.buffers.append(fbm.BufferEnd(b))
        name_off = _fb.create_string(b, name)
        shape_off = _fb.create_array(b, list(shape), np.uint32)
        scales_off = _fb.create_array(b, scales, np.float32) if scales is not None else None
        fbm.TensorStart(b)
        fbm.TensorAddName(b, name_off)
        fbm.TensorAddType(b, ttype)
        fbm.TensorAddShape(b, shape_off)
        fbm.TensorAddBuffer(b, len(self.buffers) - 1)
        if scales_off is not None:
            fbm.TensorAddScales(b, scales_off)
        self.tensors.append(fbm.TensorEnd(b))
        return len(self.tensors) - 1

    def requant(self, r: Requant) -> int:
        b = self.b
        mult = _fb.create_array(b, r.multiplier, np.int32)
        shift = _fb.create_array(b, r.shift, np.int32)
        fbm.RequantStart(b)
        fbm.RequantAddMultiplier(b, mult)
        fbm.RequantAddShift(b, shift)
        return fbm.RequantEnd(b)

    def quant(self, q: QuantParams) -> int:
        b = self.b
        fbm.QuantParamsStart(b)
        fbm.QuantParamsAddBits(b, int(q.bits))
        fbm.QuantParamsAddScale(b, float(q.scale))
        fbm.QuantParamsAddZeroPoint(b, int(q.zero_point))
        return fbm.QuantParamsEnd(b)

    def batch_norm(self, bn: BatchNormDesc) -> int:
        b = self.b
        vectors = [_fb.create_array(b, getattr(bn, n), np.float32) for n in ("mean", "var", "gamma", "beta")]
        fbm.BatchNormStart(b)
        fbm.BatchNormAddMean(b, vectors[0])
        fbm.BatchNormAddVar(b, vectors[1])
        fbm.BatchNormAddGamma(b, vectors[2])
        fbm.BatchNormAddBeta(b, vectors[3])
        fbm.BatchNormAddEps(b, bn.eps)
        return fbm.BatchNormEnd(b)

    def dense(self, prefix: str, d: DenseDesc) -> int:
        if not self.quantized:  # every tensor FLOAT32
            w = np.ascontiguousarray(d.weight, dtype="<f4")
            data, ttype, scales = w.tobytes(), fbm.TensorType.FLOAT32, None
        elif d.weight_bits == 4:
            w = np.asarray(d.weight)
            data, ttype, scales = pack_int4(w), fbm.TensorType.INT4, d.weight_scales
        else:
            w = np.asarray(d.weight)
            data, ttype, scales = np.ascontiguousarray(w, dtype=np.int8).tobytes(), fbm.TensorType.INT8, d.weight_scales
        wi = self.tensor(d.name or prefix + ".weight", ttype, w.shape, data, scales)
        bi = -1
        if d.bias is not None:
            bias = np.ascontiguousarray(d.bias, dtype="<i4" if self.quantized else "<f4")
            bi = self.tensor(prefix + ".bias", fbm.TensorType.INT32 if self.quantized else fbm.TensorType.FLOAT32,
                             bias.shape, bias.tobytes())
        bn = self.batch_norm(d.batch_norm) if d.batch_norm is not None else None
        rq = self.requant(d.requant) if self.quantized else None
        b = self.b
        fbm.DenseStart(b)
        fbm.DenseAddWeight(b, wi)
        fbm.DenseAddBias(b, bi)
        if rq is not None:
            fbm.DenseAddRequant(b, rq)
        fbm.DenseAddActivation(b, fbm.Activation.RELU if d.relu else fbm.Activation.NONE)
        if bn is not None:
            fbm.DenseAddBatchNorm(b, bn)
        return fbm.DenseEnd(b)

    def gat(self, prefix: str, layer: LayerDesc) -> int:
        """GATConvOptions: the Dense, then a_src, a_dst and the bias as tensors ([1, H F] INT8 at their one
        scale, or FLOAT32; the bias INT32 or FLOAT32), then the quantized fields (the C++ writer's order)."""
        b, q = self.b, self.quantized
        dense = self.dense(prefix, layer.dense)
        cols = layer.heads * layer.head_dim
        if q:
            scales = np.array([layer.att_scale], np.float32)
            att = [self.tensor(f"{prefix}.{n}", fbm.TensorType.INT8, (1, cols),
                               np.ascontiguousarray(getattr(layer, n), dtype=np.int8).tobytes(), scales)
                   for n in ("att_src", "att_dst")]
        else:
            att = [self.tensor(f"{prefix}.{n}", fbm.TensorType.FLOAT32, (1, cols),
                               np.ascontiguousarray(getattr(layer, n), dtype="<f4").tobytes())
                   for n in ("att_src", "att_dst")]
        bias = -1
        if layer.output_bias is not None:
            data = np.ascontiguousarray(layer.output_bias, dtype="<i4" if q else "<f4")
            bias = self.tensor(prefix + ".bias", fbm.TensorType.INT32 if q else fbm.TensorType.FLOAT32,
                               data.shape, data.tobytes())
        if q:
            message, logit = self.quant(layer.message), self.quant(layer.logit)
            logit_rq, logit_neg_rq = self.requant(layer.logit_requant), self.requant(layer.logit_negative_requant)
            exp_table = _fb.create_array(b, layer.exp_table, np.uint16)
            output_rq = self.requant(layer.output_requant)
        fbm.GATConvOptionsStart(b)
        fbm.GATConvOptionsAddHeads(b, int(layer.heads))
        fbm.GATConvOptionsAddHeadDim(b, int(layer.head_dim))
        fbm.GATConvOptionsAddConcat(b, bool(layer.concat))
        fbm.GATConvOptionsAddNegativeSlope(b, float(GAT_NEGATIVE_SLOPE))
        fbm.GATConvOptionsAddDense(b, dense)
        fbm.GATConvOptionsAddAttSrc(b, att[0])
        fbm.GATConvOptionsAddAttDst(b, att[1])
        fbm.GATConvOptionsAddBias(b, bias)
        if q:
            fbm.GATConvOptionsAddMessage(b, message)
            fbm.GATConvOptionsAddLogit(b, logit)
            fbm.GATConvOptionsAddLogitRequant(b, logit_rq)
            fbm.GATConvOptionsAddLogitNegativeRequant(b, logit_neg_rq)
            fbm.GATConvOptionsAddExpTable(b, exp_table)
            fbm.GATConvOptionsAddOutputRequant(b, output_rq)
        if layer.message_range is not None:
            fbm.GATConvOptionsAddMessageRange(b, fbm.CreateRange(b, *layer.message_range))
        if layer.logit_range is not None:
            fbm.GATConvOptionsAddLogitRange(b, fbm.CreateRange(b, *layer.logit_range))
        return fbm.GATConvOptionsEnd(b)

    def layer(self, index: int, layer: LayerDesc) -> int:
        b, q = self.b, self.quantized
        prefix = layer.name or f"layer{index}"
        if layer.kind == LINEAR:
            dense = self.dense(prefix, layer.dense)
            fbm.LinearOptionsStart(b)
            fbm.LinearOptionsAddDense(b, dense)
            opts = fbm.LinearOptionsEnd(b)
        elif layer.kind == GCN_CONV:
            dense = self.dense(prefix, layer.dense)
            arq = self.requant(layer.aggregation_requant) if q else None
            if layer.order not in ORDERS:
                raise FormatError(f"layer {index}: unknown order {layer.order!r} (one of {', '.join(ORDERS)})")
            message = self.quant(layer.message) if q and layer.message is not None else None
            fbm.GCNConvOptionsStart(b)
            fbm.GCNConvOptionsAddDense(b, dense)
            if arq is not None:
                fbm.GCNConvOptionsAddAggregationRequant(b, arq)
            fbm.GCNConvOptionsAddOrder(b, ORDERS[layer.order])  # the default (aggregate-first) is not written
            if message is not None:
                fbm.GCNConvOptionsAddMessage(b, message)
            if layer.message_range is not None:
                fbm.GCNConvOptionsAddMessageRange(b, fbm.CreateRange(b, *layer.message_range))
            opts = fbm.GCNConvOptionsEnd(b)
        elif layer.kind == SAGE_CONV:
            neighbor = self.dense(prefix + ".neighbor", layer.dense)
            root = self.dense(prefix + ".root", layer.root) if layer.root is not None else None
            arq = self.requant(layer.aggregation_requant) if q else None
            if layer.order not in ORDERS:
                raise FormatError(f"layer {index}: unknown order {layer.order!r} (one of {', '.join(ORDERS)})")
            # Created only when present, so that aggregate-first files keep their bytes.
            message = self.quant(layer.message) if q and layer.message is not None else None
            orq = self.requant(layer.output_requant) if q and layer.output_requant is not None else None
            fbm.SAGEConvOptionsStart(b)
            fbm.SAGEConvOptionsAddReduce(b, REDUCES[layer.reduce])
            fbm.SAGEConvOptionsAddNeighbor(b, neighbor)
            if root is not None:
                fbm.SAGEConvOptionsAddRoot(b, root)
            if arq is not None:
                fbm.SAGEConvOptionsAddAggregationRequant(b, arq)
            fbm.SAGEConvOptionsAddOrder(b, ORDERS[layer.order])  # the default (aggregate-first) is not written
            if message is not None:
                fbm.SAGEConvOptionsAddMessage(b, message)
            if layer.message_range is not None:
                fbm.SAGEConvOptionsAddMessageRange(b, fbm.CreateRange(b, *layer.message_range))
            if orq is not None:
                fbm.SAGEConvOptionsAddOutputRequant(b, orq)
            opts = fbm.SAGEConvOptionsEnd(b)
        elif layer.kind == GIN_CONV:
            denses = [self.dense(f"{prefix}.mlp.{k}", d) for k, d in enumerate(layer.mlp)]
            mlp = _fb.create_offset_vector(b, denses)
            hidden_ranges = create_range_vector(b, layer.hidden_ranges) if layer.hidden_ranges else None
            hidden = _fb.create_offset_vector(b, [self.quant(h) for h in layer.hidden]) if q else None
            arq = self.requant(layer.aggregation_requant) if q else None
            fbm.GINConvOptionsStart(b)
            fbm.GINConvOptionsAddEps(b, float(layer.eps))
            if q:
                fbm.GINConvOptionsAddSelfWeightQ16(b, int(layer.self_weight_q16))
            fbm.GINConvOptionsAddMlp(b, mlp)
            if q:
                fbm.GINConvOptionsAddHidden(b, hidden)
                fbm.GINConvOptionsAddAggregationRequant(b, arq)
            if hidden_ranges is not None:
                fbm.GINConvOptionsAddHiddenRanges(b, hidden_ranges)
            opts = fbm.GINConvOptionsEnd(b)
        elif layer.kind == GAT_CONV:
            opts = self.gat(prefix, layer)
        elif layer.kind == GLOBAL_POOL:
            rq = self.requant(layer.requant) if q else None
            fbm.GlobalPoolOptionsStart(b)
            fbm.GlobalPoolOptionsAddReduce(b, REDUCES[layer.reduce])
            if rq is not None:
                fbm.GlobalPoolOptionsAddRequant(b, rq)
            opts = fbm.GlobalPoolOptionsEnd(b)
        else:
            raise FormatError(f"layer {index}: unknown kind {layer.kind!r}")
        output = self.quant(layer.output) if q else None
        aggregation = self.quant(layer.aggregation) if q and layer.aggregation is not None else None
        name = _fb.create_string(b, layer.name) if layer.name else None
        # Absent when empty, so files without listed inputs keep their bytes.
        inputs = _fb.create_array(b, layer.inputs, np.int32) if len(layer.inputs) else None
        fbm.LayerStart(b)
        if name is not None:
            fbm.LayerAddName(b, name)
        fbm.LayerAddOptionsType(b, KIND_OPTIONS[layer.kind])
        fbm.LayerAddOptions(b, opts)
        fbm.LayerAddActivation(b, fbm.Activation.RELU if layer.relu else fbm.Activation.NONE)
        if output is not None:
            fbm.LayerAddOutput(b, output)
        if aggregation is not None:
            fbm.LayerAddAggregation(b, aggregation)
        # Structs are written inline, right before the slot that refers to them.
        if layer.output_range is not None:
            fbm.LayerAddOutputRange(b, fbm.CreateRange(b, *layer.output_range))
        if layer.aggregation_range is not None:
            fbm.LayerAddAggregationRange(b, fbm.CreateRange(b, *layer.aggregation_range))
        if inputs is not None:
            fbm.LayerAddInputs(b, inputs)
        return fbm.LayerEnd(b)


def create_range_vector(b: flatbuffers.Builder, ranges: List[Range]) -> int:
    """A [Range] vector (structs inline, 8 bytes each)."""
    fbm.GINConvOptionsStartHiddenRangesVector(b, len(ranges))
    for lo, hi in reversed(ranges):
        fbm.CreateRange(b, lo, hi)
    return b.EndVector()


def _file_version(m: ModelDesc) -> int:
    """Files carry the oldest version whose runtimes compute them correctly, so older runtimes reject them
    (docs/format.md, "Versions"): an unfolded BatchNorm changes what a runtime that does not know the field
    computes (BATCH_NORM_FORMAT_VERSION); listed inputs would be run as a chain (DATAFLOW_FORMAT_VERSION);
    ignored column scales would quantize every feature with the reference scale (COLUMN_SCALES_FORMAT_VERSION);
    an ignored order would aggregate a transform-first layer's input first (TRANSFORM_FIRST_FORMAT_VERSION for a
    GCNConv, SAGE_TRANSFORM_FIRST_FORMAT_VERSION for a SAGEConv, whose order version 5 runtimes ignore; a stored
    message range alone changes nothing and raises no version)."""
    version = m.version
    if any(d.batch_norm is not None for layer in m.layers for d in layer.denses()):
        version = max(version, BATCH_NORM_FORMAT_VERSION)
    if any(len(layer.inputs) for layer in m.layers):
        version = max(version, DATAFLOW_FORMAT_VERSION)
    if m.input_column_scales is not None:
        version = max(version, COLUMN_SCALES_FORMAT_VERSION)
    if any(layer.transform_first for layer in m.layers):
        version = max(version, TRANSFORM_FIRST_FORMAT_VERSION)  # an older runtime would aggregate first
    if any(layer.transform_first and layer.kind == SAGE_CONV for layer in m.layers):
        version = max(version, SAGE_TRANSFORM_FIRST_FORMAT_VERSION)
    return version


def column_scales_error(scales, feature_dim: int, quantized: bool) -> Optional[str]:
    """What is wrong with InputSpec.column_scales, None if nothing: quantized models only, exactly feature_dim
    entries, each finite and > 0 (a zero or NaN scale would divide the feature into garbage)."""
    if scales is None:
        return None
    if not quantized:
        return "column_scales on a float model (quantized models only)"
    v = np.asarray(scales)
    if v.ndim != 1 or v.shape[0] != feature_dim:
        return f"column_scales has {v.size} entries, expected feature_dim = {feature_dim}"
    v32 = v.astype(np.float32)
    bad = np.flatnonzero(~(np.isfinite(v32) & (v32 > 0)))
    if bad.size:
        return f"column_scales[{int(bad[0])}] = {v32[bad[0]]} is not finite and > 0"
    return None


def to_bytes(m: ModelDesc) -> bytes:
    """Serialize a model description into .qgnn bytes (identifier "QGNN"), every tensor in its own 16-byte
    aligned buffer. A float model is checked first (check_model); a quantized one by reading the result back,
    since its checks (those of the runtime's verifier) are the reader's."""
    quantized = m.quantized
    if not quantized:
        check_model(m)
    b = flatbuffers.Builder(4096)
    w = _Writer(b, quantized)
    layers = [w.layer(i, layer) for i, layer in enumerate(m.layers)]
    input_quant = w.quant(m.input_quant) if quantized else None
    error = column_scales_error(m.input_column_scales, m.input_dim, quantized)
    if error:
        raise FormatError(f"model {m.name!r}: input {error}")
    column_scales = (_fb.create_array(b, np.asarray(m.input_column_scales, np.float32), np.float32)
                     if m.input_column_scales is not None else None)
    fbm.InputSpecStart(b)
    fbm.InputSpecAddFeatureDim(b, m.input_dim)
    fbm.InputSpecAddType(b, fbm.TensorType.INT8 if m.input_int8 else fbm.TensorType.FLOAT32)
    if input_quant is not None:
        fbm.InputSpecAddQuant(b, input_quant)
    if m.input_range is not None:
        fbm.InputSpecAddRange(b, fbm.CreateRange(b, *m.input_range))
    if column_scales is not None:
        fbm.InputSpecAddColumnScales(b, column_scales)
    input_spec = fbm.InputSpecEnd(b)
    layers_vec = _fb.create_offset_vector(b, layers)
    tensors_vec = _fb.create_offset_vector(b, w.tensors)
    buffers_vec = _fb.create_offset_vector(b, w.buffers)
    name = _fb.create_string(b, m.name)
    description = _fb.create_string(b, m.description)
    producer = _fb.create_string(b, m.producer)
    class_names = _fb.create_string_vector(b, m.class_names)
    ranges_source = _fb.create_string(b, m.ranges_source) if m.ranges_source else None
    fbm.LimitsStart(b)
    for adder, value in zip(("MaxNodes", "MaxEdges", "MaxDegree", "MaxGraphs"), m.limits):
        getattr(fbm, "LimitsAdd" + adder)(b, int(value))
    limits = fbm.LimitsEnd(b)
    fbm.ModelStart(b)
    fbm.ModelAddVersion(b, _file_version(m))
    fbm.ModelAddName(b, name)
    fbm.ModelAddDescription(b, description)
    fbm.ModelAddProducer(b, producer)
    fbm.ModelAddTask(b, m.task)
    fbm.ModelAddClassNames(b, class_names)
    fbm.ModelAddQuantized(b, quantized)
    fbm.ModelAddInput(b, input_spec)
    fbm.ModelAddLayers(b, layers_vec)
    fbm.ModelAddTensors(b, tensors_vec)
    fbm.ModelAddBuffers(b, buffers_vec)
    fbm.ModelAddLimits(b, limits)
    if ranges_source is not None:
        fbm.ModelAddRangesSource(b, ranges_source)
    b.Finish(fbm.ModelEnd(b), file_identifier=QGNN_IDENTIFIER)
    data = bytes(b.Output())
    if quantized:
        from_bytes(data, "written model")
    return data


def write_model(m: ModelDesc, path: PathLike) -> None:
    """Check and write a model (float or quantized) atomically."""
    write_bytes_atomic(path, to_bytes(m))


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------

def _root(buf: bytes, what: str) -> "fbm.Model":
    _fb.check_identifier(buf, QGNN_IDENTIFIER, what)
    return fbm.Model.GetRootAs(buf, 0)


def read_model_info(path: PathLike) -> Dict[str, object]:
    """Header fields of any .qgnn file, float or quantized."""
    buf = Path(path).read_bytes()
    try:
        m = _root(buf, str(path))
        inp = m.Input()
        return {
            "version": m.Version(),
            "name": _fb.read_string(m.Name()),
            "description": _fb.read_string(m.Description()),
            "producer": _fb.read_string(m.Producer()),
            "task": m.Task(),
            "class_names": _fb.read_string_vector(m, "ClassNames"),
            "quantized": bool(m.Quantized()),
            "input_dim": inp.FeatureDim() if inp is not None else 0,
            "num_layers": m.LayersLength(),
            "tensor_types": [m.Tensors(i).Type() for i in range(m.TensorsLength())],
        }
    except FormatError:
        raise
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{path}: corrupt FlatBuffer ({exc})") from exc


def _range(r: Optional["fbm.Range"]) -> Optional[Range]:
    return None if r is None else (float(r.Min()), float(r.Max()))


def _options(layer: "fbm.Layer", cls):
    table = layer.Options()
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


class _Reader:
    """Reads one model. A float model is checked afterwards as a whole (check_model); a quantized one is
    checked field by field while it is read, with the runtime verifier's rules the integer arithmetic needs."""

    def __init__(self, m: "fbm.Model", what: str) -> None:
        self.m = m
        self.what = what
        self.quantized = bool(m.Quantized())

    def fail(self, where: str, msg: str) -> None:
        raise FormatError(f"{self.what}: {where}: {msg}")

    def _tensor(self, index: int, where: str):
        m = self.m
        if index < 0 or index >= m.TensorsLength():
            self.fail(where, f"tensor index {index} out of range ({m.TensorsLength()} tensors)")
        t = m.Tensors(index)
        if t.Buffer() >= m.BuffersLength():
            self.fail(where, f"tensor {index}: buffer index {t.Buffer()} out of range")
        shape = tuple(int(s) for s in _fb.read_array(t, "Shape", np.uint32))
        if t.Type() not in _TYPE_BITS:
            self.fail(where, f"tensor {index}: unknown element type {t.Type()}")
        if not self.quantized and t.Type() != fbm.TensorType.FLOAT32:
            self.fail(where, f"tensor {index} is not FLOAT32 (a float model)")
        raw = _fb.read_array(m.Buffers(t.Buffer()), "Data", np.uint8)
        count = 1
        for s in shape:
            count *= s
        if not shape:
            count = 0
        expected = (count * _TYPE_BITS[t.Type()] + 7) // 8
        if raw.size != expected:
            self.fail(where, f"tensor {index}: {raw.size} bytes, expected {expected} for shape {shape}")
        return t, shape, count, raw

    def dense(self, d: Optional["fbm.Dense"], where: str, in_dim: int) -> Optional[DenseDesc]:
        if d is None:
            if self.quantized:
                self.fail(where, "Dense is missing")
            return None  # check_model names what is missing
        if d.Activation() not in (fbm.Activation.NONE, fbm.Activation.RELU):
            self.fail(where, f"unknown activation {d.Activation()}")
        relu = d.Activation() == fbm.Activation.RELU
        t, shape, count, raw = self._tensor(d.Weight(), where + " weight")
        if not self.quantized:
            bias = None
            if d.Bias() >= 0:
                bias = self._tensor(d.Bias(), where + " bias")
                bias = bias[3].view("<f4").astype(np.float32).reshape(bias[1])
            fb_bn = d.BatchNorm()
            bn = None
            if fb_bn is not None:
                bn = BatchNormDesc(*(_fb.read_array(fb_bn, n, np.float32) for n in ("Mean", "Var", "Gamma", "Beta")),
                                   eps=fb_bn.Eps())
            return DenseDesc(raw.view("<f4").astype(np.float32).reshape(shape), bias, relu, bn,
                             name=_fb.read_string(t.Name()))
        if t.Type() not in (fbm.TensorType.INT8, fbm.TensorType.INT4):
            self.fail(where, f"weight tensor type {t.Type()} is not INT8/INT4")
        if len(shape) != 2 or shape[0] < 1 or shape[0] > MAX_FEATURES or shape[1] > MAX_FEATURES:
            self.fail(where, f"weight shape {shape} is not [out <= {MAX_FEATURES}, in <= {MAX_FEATURES}]")
        if shape[1] != in_dim:
            self.fail(where, f"weight takes {shape[1]} inputs, the layer input has {in_dim}")
        out_f = shape[0]
        if t.Type() == fbm.TensorType.INT8:
            weight, bits = raw.view(np.int8).reshape(shape).copy(), 8
        else:
            weight, bits = unpack_int4(raw, count).reshape(shape), 4
        scales = _fb.read_array(t, "Scales", np.float32)
        if scales.shape != (out_f,) or not np.all(np.isfinite(scales)) or not np.all(scales > 0):
            self.fail(where, f"weight needs {out_f} finite scales > 0, has {scales.size}")
        bias = None
        if d.Bias() >= 0:
            bt, bshape, _, braw = self._tensor(d.Bias(), where + " bias")
            if bt.Type() != fbm.TensorType.INT32 or bshape != (out_f,):
                self.fail(where, f"bias must be INT32 [{out_f}], is type {bt.Type()} shape {bshape}")
            bias = braw.view("<i4").astype(np.int32)
            if bias.size and int(np.abs(bias.astype(np.int64)).max()) >= BIAS_LIMIT:
                self.fail(where, "|bias| >= 2^30")
        requant = self.requant(d.Requant(), where + " requant", out_f, DENSE_SHIFT_MAX)
        return DenseDesc(weight, bias, relu, weight_bits=bits, weight_scales=scales, requant=requant,
                         name=_fb.read_string(t.Name()))

    def requant(self, r: Optional["fbm.Requant"], where: str, count: int, max_shift: int) -> Requant:
        if r is None:
            self.fail(where, "missing")
        mult = _fb.read_array(r, "Multiplier", np.int32).astype(np.int64)
        shift = _fb.read_array(r, "Shift", np.int32).astype(np.int64)
        if mult.size != count or shift.size != count:
            self.fail(where, f"{mult.size} multipliers / {shift.size} shifts, expected {count}")
        if np.any(mult < MULTIPLIER_MIN) or np.any(mult > MULTIPLIER_MAX):
            self.fail(where, "multiplier outside [2^30, 2^31 - 1]")
        if np.any(shift < 1) or np.any(shift > max_shift):
            self.fail(where, f"shift outside [1, {max_shift}]")
        return Requant(mult, shift)

    def quant(self, q: Optional["fbm.QuantParams"], where: str) -> QuantParams:
        if q is None:
            self.fail(where, "QuantParams missing")
        bits = int(q.Bits())
        if bits not in (4, 8):
            self.fail(where, f"bits = {bits} (4 or 8)")
        qp = QuantParams(bits, np.float32(q.Scale()), int(q.ZeroPoint()))
        if not (qp.qmin <= qp.zero_point <= qp.qmax):
            self.fail(where, f"zero point {qp.zero_point} outside the {bits}-bit range")
        if not (np.isfinite(qp.scale) and qp.scale > 0):
            self.fail(where, f"scale {qp.scale} is not finite and > 0")
        return qp

    def order(self, o, layer: LayerDesc, where: str) -> None:
        """A GCNConv's or SAGEConv's order, message range and (quantized transform-first) message
        quantization; a SAGEConv's output requant."""
        order = _ORDER_NAMES.get(o.Order())
        if order is None:
            self.fail(where, f"unknown {layer.kind} order {o.Order()}")
        layer.order = order
        layer.message_range = _range(o.MessageRange())
        needs = TRANSFORM_FIRST_FORMAT_VERSION if layer.kind == GCN_CONV else SAGE_TRANSFORM_FIRST_FORMAT_VERSION
        if order == TRANSFORM_FIRST and self.m.Version() < needs:
            self.fail(where, f"transform-first {layer.kind} in a version {self.m.Version()} file (needs version "
                             f"{needs})")
        if layer.kind == SAGE_CONV and order == TRANSFORM_FIRST and o.Reduce() != fbm.Reduce.MEAN:
            self.fail(where, "a transform-first SAGEConv needs reduce MEAN (max does not commute with W_n)")
        if layer.kind == SAGE_CONV and self.quantized and order == TRANSFORM_FIRST:
            layer.output_requant = self.requant(o.OutputRequant(), where + " output_requant", 1, DENSE_SHIFT_MAX)
        if self.quantized and order == TRANSFORM_FIRST:
            layer.message = self.quant(o.Message(), where + " message")
        elif self.quantized and o.Message() is not None:
            layer.message = self.quant(o.Message(), where + " message")  # unused by aggregate-first; kept

    def attention_vector(self, index: int, name: str, where: str, cols: int) -> Tuple[np.ndarray, float]:
        """a_src or a_dst: [1, H F], FLOAT32, or INT8 with one finite scale > 0 (quantized); (values, scale)."""
        if index < 0:
            self.fail(where, f"{name} tensor is missing")
        t, shape, _, raw = self._tensor(index, f"{where} {name}")
        if shape != (1, cols):
            self.fail(where, f"{name} has shape {shape}, expected (1, {cols})")
        if not self.quantized:
            return raw.view("<f4").astype(np.float32).reshape(-1), 1.0
        if t.Type() != fbm.TensorType.INT8:
            self.fail(where, f"{name} tensor type {t.Type()} is not INT8")
        scales = _fb.read_array(t, "Scales", np.float32)
        if scales.shape != (1,) or not (np.isfinite(scales[0]) and scales[0] > 0):
            self.fail(where, f"{name} needs one finite scale > 0, has {scales.size}")
        return raw.view(np.int8).copy(), float(scales[0])

    def gat(self, o: "fbm.GATConvOptions", layer: LayerDesc, fl: "fbm.Layer", where: str, dim: int) -> None:
        """GATConvOptions, with the checks of the runtime's Init (runtime/src/ops/gat_conv.cc)."""
        q = self.quantized
        layer.heads, layer.head_dim, layer.concat = int(o.Heads()), int(o.HeadDim()), bool(o.Concat())
        if layer.heads < 1 or layer.head_dim < 1:
            self.fail(where, f"GATConv has {layer.heads} heads of {layer.head_dim} features (both >= 1)")
        cols = layer.heads * layer.head_dim
        if cols > MAX_FEATURES:
            self.fail(where, f"GATConv has {cols} message features (at most {MAX_FEATURES})")
        if np.float32(o.NegativeSlope()) != GAT_NEGATIVE_SLOPE:
            self.fail(where, f"GATConv negative_slope {o.NegativeSlope()} is not 0.2")
        if not layer.concat and layer.heads > GAT_MAX_MEAN_HEADS:
            self.fail(where, f"the mean of {layer.heads} heads (at most {GAT_MAX_MEAN_HEADS})")
        layer.dense = self.dense(o.Dense(), where + " dense", dim)
        if q and layer.dense.out_features != cols:
            self.fail(where, f"dense has {layer.dense.out_features} output features, expected heads x head_dim "
                             f"= {cols}")
        if q and layer.dense.bias is not None:
            self.fail(where, "dense has a bias (a GATConv's bias is GATConvOptions.bias)")
        (layer.att_src, src_scale), (layer.att_dst, dst_scale) = (
            self.attention_vector(o.AttSrc(), "att_src", where, cols),
            self.attention_vector(o.AttDst(), "att_dst", where, cols))
        if q and src_scale != dst_scale:
            self.fail(where, f"att_src scale {src_scale} and att_dst scale {dst_scale} differ (they must share one)")
        layer.att_scale = src_scale
        out = layer.output_width(dim)
        if o.Bias() >= 0:
            t, shape, _, raw = self._tensor(o.Bias(), where + " bias")
            if shape != (out,):
                self.fail(where, f"bias has shape {shape}, expected ({out},)")
            if q:
                if t.Type() != fbm.TensorType.INT32:
                    self.fail(where, f"bias tensor type {t.Type()} is not INT32")
                layer.output_bias = raw.view("<i4").astype(np.int32)
                if int(np.abs(layer.output_bias.astype(np.int64)).max()) >= BIAS_LIMIT:
                    self.fail(where, "|bias| >= 2^30")
            else:
                layer.output_bias = raw.view("<f4").astype(np.float32)
        layer.message_range, layer.logit_range = _range(o.MessageRange()), _range(o.LogitRange())
        if not q:
            if (o.Message() is not None or o.Logit() is not None or o.LogitRequant() is not None
                    or o.LogitNegativeRequant() is not None or not o.ExpTableIsNone()
                    or o.OutputRequant() is not None):
                self.fail(where, "float GATConv has quantization fields")
            return
        if fl.Aggregation() is not None:
            self.fail(where, "GATConv has Layer.aggregation (its intermediate components are message and logit)")
        layer.message = self.quant(o.Message(), where + " message")
        layer.logit = self.quant(o.Logit(), where + " logit")  # 8 or 4 bits (4: exp table entries 0..15)
        layer.logit_requant = self.requant(o.LogitRequant(), where + " logit_requant", 1, DENSE_SHIFT_MAX)
        layer.logit_negative_requant = self.requant(o.LogitNegativeRequant(), where + " logit_negative_requant", 1,
                                                    DENSE_SHIFT_MAX)
        table = _fb.read_array(o, "ExpTable", np.uint16) if not o.ExpTableIsNone() else None
        if table is None:
            self.fail(where, "exp_table is missing")
        if table.shape != (GAT_EXP_TABLE_SIZE,):
            self.fail(where, f"exp_table has {table.size} entries, expected {GAT_EXP_TABLE_SIZE}")
        if int(table[0]) != GAT_EXP_ONE:
            self.fail(where, f"exp_table[0] = {int(table[0])}, expected {GAT_EXP_ONE} (exp(0) in Q15)")
        if np.any(np.diff(table.astype(np.int64)) > 0):
            self.fail(where, "exp_table increases (an exp of non-positive arguments never does)")
        layer.exp_table = table.astype(np.uint16)
        layer.output_requant = self.requant(o.OutputRequant(), where + " output_requant", out, DENSE_SHIFT_MAX)

    def layer(self, i: int, outputs: List[Tuple[int, bool]]) -> LayerDesc:
        """Layer i. `outputs[j + 1]` is (width, pooled) of output j, the model input first: the layer takes its
        input's width (checked for quantized models); pooled: its input has one row per graph."""
        fl, q = self.m.Layers(i), self.quantized
        name = _fb.read_string(fl.Name())
        where = f"layer {i} ({name})" if name else f"layer {i}"
        kind = _OPTIONS_KIND.get(fl.OptionsType())
        if kind is None:
            self.fail(where, f"unknown layer options type {fl.OptionsType()}")
        if fl.Activation() not in (fbm.Activation.NONE, fbm.Activation.RELU):
            self.fail(where, f"unknown activation {fl.Activation()}")
        if fl.Options() is None:
            self.fail(where, "options missing")
        layer = LayerDesc(kind, name, fl.Activation() == fbm.Activation.RELU,
                          output_range=_range(fl.OutputRange()), aggregation_range=_range(fl.AggregationRange()),
                          inputs=[int(j) for j in _fb.read_array(fl, "Inputs", np.int32)])
        error = _inputs_error(layer, i)
        if error:
            self.fail(where, error)
        dim, pooled = outputs[_layer_input(layer, i) + 1]
        if q:
            layer.output = self.quant(fl.Output(), where + " output")
            if pooled and kind != LINEAR:
                self.fail(where, "only Linear layers may follow the global pooling")
        o = _options(fl, getattr(fbm, kind + "Options"))
        if kind in ORDERED_KINDS:
            self.order(o, layer, where)
        if q and layer.has_aggregation:
            layer.aggregation = self.quant(fl.Aggregation(), where + " aggregation")
        if q and kind in AGGREGATING_KINDS:
            layer.aggregation_requant = self.requant(o.AggregationRequant(), where + " aggregation_requant", 1,
                                                     SINGLE_SHIFT_MAX)
        if q and layer.transform_first and not layer.has_aggregation and fl.Aggregation() is not None:
            self.fail(where, "a transform-first GCNConv has no aggregation quantization (its message is "
                             "aggregated onto the output)")
        if kind in (LINEAR, GCN_CONV):
            layer.dense = self.dense(o.Dense(), where + " dense", dim)
        elif kind == SAGE_CONV:
            if q and o.Reduce() not in (fbm.Reduce.MEAN, fbm.Reduce.MAX):
                self.fail(where, f"SAGEConv reduce {o.Reduce()} is not MEAN or MAX")
            layer.reduce = _REDUCE_NAMES.get(o.Reduce(), "?")
            layer.dense = self.dense(o.Neighbor(), where + " neighbor", dim)
            layer.root = self.dense(o.Root(), where + " root", dim) if o.Root() is not None else None
            if q and layer.root is not None and layer.root.out_features != layer.dense.out_features:
                self.fail(where, "root and neighbor output features differ")
        elif kind == GAT_CONV:
            self.gat(o, layer, fl, where, dim)
        elif kind == GIN_CONV:
            if q and o.MlpLength() < 1:
                self.fail(where, "GINConv has an empty mlp")
            for k in range(o.MlpLength()):
                d = self.dense(o.Mlp(k), f"{where} mlp[{k}]", dim)
                layer.mlp.append(d)
                dim = d.out_features if d is not None else dim
            layer.eps = float(o.Eps())
            layer.hidden_ranges = [_range(o.HiddenRanges(k)) for k in range(o.HiddenRangesLength())]
            if q:
                if o.HiddenLength() != o.MlpLength() - 1:
                    self.fail(where, f"{o.HiddenLength()} hidden quantizations for {o.MlpLength()} Dense ops")
                layer.hidden = [self.quant(o.Hidden(k), f"{where} hidden[{k}]") for k in range(o.HiddenLength())]
                layer.self_weight_q16 = int(o.SelfWeightQ16())
                if layer.self_weight_q16 < 0 or layer.self_weight_q16 >= SELF_WEIGHT_LIMIT:
                    self.fail(where, f"self_weight_q16 = {layer.self_weight_q16} outside [0, 2^23)")
        else:  # GLOBAL_POOL
            if q and o.Reduce() not in _REDUCE_NAMES:
                self.fail(where, f"GlobalPool reduce {o.Reduce()} is not supported")
            if q and pooled:
                self.fail(where, "a second global pooling")
            layer.reduce = _REDUCE_NAMES.get(o.Reduce(), "?")
            if q:
                layer.requant = self.requant(o.Requant(), where + " requant", 1, SINGLE_SHIFT_MAX)
        return layer

    def check_mean_heads(self, layers: List[LayerDesc], declared_degree: int) -> None:
        """The mean of H > 1 quantized GAT heads sums H int32 accumulators, which holds for H (in-degree + 1)
        <= 2^22 only: the model's Limits.max_degree must be that low (docs/quantization.md)."""
        degree = MAX_DEGREE if declared_degree == 0 or declared_degree > MAX_DEGREE else declared_degree
        for i, layer in enumerate(layers):
            if layer.kind == GAT_CONV and not layer.concat and layer.heads > 1 and \
                    layer.heads * (degree + 1) > GAT_MEAN_DEGREE_BUDGET:
                self.fail(f"layer {i}", f"the mean of {layer.heads} heads needs Limits.max_degree <= "
                                        f"{GAT_MEAN_DEGREE_BUDGET // layer.heads - 1} (the model allows {degree})")

    def model(self) -> ModelDesc:
        m, what, q = self.m, self.what, self.quantized
        if m.Version() < 1 or m.Version() > QGNN_FORMAT_VERSION:
            raise FormatError(f"{what}: unsupported format version {m.Version()}")
        inp = m.Input()
        input_dim = int(inp.FeatureDim()) if inp is not None else 0
        input_quant = None
        if q:
            if m.Task() not in (GRAPH_CLASSIFICATION, NODE_CLASSIFICATION):
                raise FormatError(f"{what}: unknown task {m.Task()}")
            if inp is None:
                raise FormatError(f"{what}: input spec missing")
            if input_dim < 1 or input_dim > MAX_FEATURES:
                raise FormatError(f"{what}: input feature_dim {input_dim} outside [1, {MAX_FEATURES}]")
            if inp.Type() not in (fbm.TensorType.FLOAT32, fbm.TensorType.INT8):
                raise FormatError(f"{what}: input type {inp.Type()} is not FLOAT32 or INT8")
            input_quant = self.quant(inp.Quant(), "input.quant")
            if m.LayersLength() < 1:
                raise FormatError(f"{what}: no layers")
        column_scales = None
        if inp is not None and not inp.ColumnScalesIsNone() and inp.ColumnScalesLength() > 0:
            column_scales = _fb.read_array(inp, "ColumnScales", np.float32).astype(np.float32)
            error = column_scales_error(column_scales, input_dim, q)
            if error:
                raise FormatError(f"{what}: input {error}")
        layers: List[LayerDesc] = []
        outputs = [(input_dim, False)]  # outputs[j + 1]: (width, pooled) of output j
        for i in range(m.LayersLength()):
            layer = self.layer(i, outputs)
            layers.append(layer)
            dim, pooled = outputs[_layer_input(layer, i) + 1]
            outputs.append((layer.output_width(dim), pooled or layer.kind == GLOBAL_POOL))
        any_pool = any(layer.kind == GLOBAL_POOL for layer in layers)
        dim, pooled = outputs[-1]  # the model's output: the last layer's
        class_names = _fb.read_string_vector(m, "ClassNames")
        if q:
            if m.Task() == GRAPH_CLASSIFICATION and not pooled:
                raise FormatError(f"{what}: a graph classification model needs exactly one GlobalPool")
            if m.Task() == NODE_CLASSIFICATION and any_pool:
                raise FormatError(f"{what}: a node classification model cannot contain a GlobalPool")
            if class_names and len(class_names) != dim:
                raise FormatError(f"{what}: {len(class_names)} class names for {dim} outputs")
        lim = m.Limits()
        limits = (lim.MaxNodes(), lim.MaxEdges(), lim.MaxDegree(), lim.MaxGraphs()) if lim else (0, 0, 0, 0)
        if q:
            self.check_mean_heads(layers, int(limits[2]))
        return ModelDesc(
            input_dim=input_dim,
            layers=layers,
            name=_fb.read_string(m.Name()),
            description=_fb.read_string(m.Description()),
            producer=_fb.read_string(m.Producer()),
            task=m.Task(),
            class_names=class_names,
            limits=tuple(int(v) for v in limits),
            version=m.Version(),
            input_range=_range(inp.Range()) if inp is not None else None,
            ranges_source=_fb.read_string(m.RangesSource()),
            input_quant=input_quant,
            input_int8=q and inp.Type() == fbm.TensorType.INT8,
            input_column_scales=column_scales,
        )


def from_bytes(buf: Union[bytes, bytearray, memoryview], what: str = ".qgnn",
               quantized: Optional[bool] = None) -> ModelDesc:
    """Parse and check a .qgnn model; `quantized` True / False: refuse the other kind of model."""
    buf = bytes(buf)
    try:
        m = _root(buf, what)
        if quantized is False and m.Quantized():
            raise FormatError(f"{what}: quantized model; expected a float model (qgnn.load and qgnn-convert take "
                              "float models; read_quantized_model reads this one)")
        if quantized is True and not m.Quantized():
            raise FormatError(f"{what}: float model (quantized = false); the simulator runs quantized models")
        desc = _Reader(m, what).model()
    except FormatError:
        raise
    except (IndexError, struct.error, UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
        raise FormatError(f"{what}: corrupt FlatBuffer ({exc})") from exc
    if not desc.quantized:
        check_model(desc)
    return desc


def read_model(path: PathLike) -> ModelDesc:
    """A float .qgnn model."""
    return from_bytes(Path(path).read_bytes(), str(path), quantized=False)


def read_quantized_model(path: PathLike) -> ModelDesc:
    """A quantized .qgnn model, checked as the runtime checks what its integer arithmetic depends on."""
    return from_bytes(Path(path).read_bytes(), str(path), quantized=True)
