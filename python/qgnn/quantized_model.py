"""Quantized .qgnn models (written by qgnn-convert) read into plain numpy structures.

The file is described in schema/qgnn.fbs and docs/format.md, its arithmetic in docs/quantization.md. This
reader resolves every tensor index, unpacks int4 weights (packed contiguously over the whole [out][in]
tensor, element 2k in the low nibble of byte k, sign-extended) into int8 arrays, and checks the fields the
runtime's verifier checks that the integer arithmetic depends on (bits, zero points, scales, multiplier and
shift ranges, bias bound, self_weight_q16, dimension chain), so that `qgnn.sim` never computes on a model
the runtime would reject. It is not a full reimplementation of the runtime's verifier (runtime/src/
model_verifier.cc): structural FlatBuffers checks are left to the generated bindings.

    from qgnn.quantized_model import read_quantized_model
    qm = read_quantized_model("models/mutag_gin_int8.qgnn")
    qm.layers[0].kind, qm.layers[0].mlp[0].weight  # "GINConv", int8 [out, in]
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from . import _fb
from ._atomic import PathLike
from ._fb import FormatError
from .model_file import (GCN_CONV, GIN_CONV, GLOBAL_POOL, LINEAR, QGNN_FORMAT_VERSION, QGNN_IDENTIFIER, SAGE_CONV,
                         finish_model)
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION
from .schema import qgnn_generated as fbm

__all__ = [
    "QuantParams",
    "Requant",
    "QDense",
    "QLayer",
    "QuantizedModel",
    "unpack_int4",
    "pack_int4",
    "read_quantized_model",
    "quantized_model_from_bytes",
    "quantized_model_to_bytes",
]

# Runtime caps the integer arithmetic relies on (docs/format.md "Verification" and "Limits").
MAX_FEATURES = 32768
BIAS_LIMIT = 1 << 30
MULTIPLIER_MIN, MULTIPLIER_MAX = 1 << 30, (1 << 31) - 1
DENSE_SHIFT_MAX = 62
SINGLE_SHIFT_MAX = 40  # aggregation and pooling (MEAN adds up to 22)
SELF_WEIGHT_LIMIT = 1 << 23
REDUCE_NAMES = {fbm.Reduce.SUM: "sum", fbm.Reduce.MEAN: "mean", fbm.Reduce.MAX: "max"}
_TYPE_BITS = {fbm.TensorType.INT8: 8, fbm.TensorType.INT4: 4, fbm.TensorType.INT32: 32,
              fbm.TensorType.FLOAT32: 32}


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
class QDense:
    """acc = bias + sum_k (x_k - zx) * weight[c, k]; out = rescale(acc, requant[c])."""

    weight: np.ndarray  # int8 [out, in]; int4 tensors unpacked to values in [-8, 7]
    weight_bits: int  # 8 or 4 (the tensor type in the file)
    weight_scales: np.ndarray  # float32 [out]
    bias: Optional[np.ndarray]  # int32 [out] or None
    requant: Requant
    relu: bool  # Dense.activation (used for the hidden Dense ops of a GIN MLP only)
    name: str = ""

    @property
    def in_features(self) -> int:
        return int(self.weight.shape[1])

    @property
    def out_features(self) -> int:
        return int(self.weight.shape[0])


@dataclass
class QLayer:
    kind: str  # one of qgnn.model_file.KINDS
    name: str
    relu: bool  # Layer.activation (ignored by POOL)
    output: QuantParams
    aggregation: Optional[QuantParams] = None  # GCN, SAGE, GIN
    aggregation_requant: Optional[Requant] = None  # GCN, SAGE, GIN (one entry)
    dense: Optional[QDense] = None  # LINEAR, GCN; SAGE's neighbour Dense
    root: Optional[QDense] = None  # SAGE's root Dense (None: no root term)
    mlp: List[QDense] = field(default_factory=list)  # GIN
    hidden: List[QuantParams] = field(default_factory=list)  # GIN: len(mlp) - 1
    self_weight_q16: int = 0  # GIN
    eps: float = 0.0  # GIN (documentation only in a quantized model)
    reduce: str = ""  # SAGE: mean/max; POOL: sum/mean/max
    requant: Optional[Requant] = None  # POOL (one entry)

    def denses(self) -> List[QDense]:
        if self.kind == GIN_CONV:
            return list(self.mlp)
        return [d for d in (self.dense, self.root) if d is not None]


@dataclass
class QuantizedModel:
    version: int
    name: str
    description: str
    producer: str
    task: int
    class_names: List[str]
    input_dim: int
    input_int8: bool  # InputSpec.type == INT8: features arrive already quantized
    input_quant: QuantParams
    layers: List[QLayer]
    limits: Tuple[int, int, int, int]  # max_nodes, max_edges, max_degree, max_graphs (0 = runtime cap)

    @property
    def output_quant(self) -> QuantParams:
        return self.layers[-1].output

    @property
    def num_classes(self) -> int:
        dim = self.input_dim
        for layer in self.layers:
            if layer.kind != GLOBAL_POOL:
                dim = (layer.mlp[-1] if layer.kind == GIN_CONV else layer.dense).out_features
        return dim


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
# Reading
# ---------------------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, m: "fbm.Model", what: str) -> None:
        self.m = m
        self.what = what

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

    def dense(self, d: Optional["fbm.Dense"], where: str, in_dim: int) -> QDense:
        if d is None:
            self.fail(where, "Dense is missing")
        t, shape, count, raw = self._tensor(d.Weight(), where + " weight")
        if t.Type() not in (fbm.TensorType.INT8, fbm.TensorType.INT4):
            self.fail(where, f"weight tensor type {t.Type()} is not INT8/INT4")
        if len(shape) != 2 or shape[0] < 1 or shape[0] > MAX_FEATURES or shape[1] > MAX_FEATURES:
            self.fail(where, f"weight shape {shape} is not [out <= {MAX_FEATURES}, in <= {MAX_FEATURES}]")
        if shape[1] != in_dim:
            self.fail(where, f"weight takes {shape[1]} inputs, the layer input has {in_dim}")
        out_f = shape[0]
        if t.Type() == fbm.TensorType.INT8:
            weight = raw.view(np.int8).reshape(shape).copy()
            bits = 8
        else:
            weight = unpack_int4(raw, count).reshape(shape)
            bits = 4
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
        relu = d.Activation() == fbm.Activation.RELU
        if d.Activation() not in (fbm.Activation.NONE, fbm.Activation.RELU):
            self.fail(where, f"unknown activation {d.Activation()}")
        return QDense(weight, bits, scales, bias, requant, relu, _fb.read_string(t.Name()))

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


def _options(layer: "fbm.Layer", cls):
    table = layer.Options()
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def quantized_model_from_bytes(buf: Union[bytes, bytearray, memoryview], what: str = ".qgnn") -> QuantizedModel:
    """Parse and check a quantized .qgnn model."""
    buf = bytes(buf)
    _fb.check_identifier(buf, QGNN_IDENTIFIER, what)
    try:
        m = fbm.Model.GetRootAs(buf, 0)
        rd = _Reader(m, what)
        if m.Version() < 1 or m.Version() > QGNN_FORMAT_VERSION:
            raise FormatError(f"{what}: unsupported format version {m.Version()}")
        if not m.Quantized():
            raise FormatError(f"{what}: float model (quantized = false); the simulator runs quantized models")
        if m.Task() not in (GRAPH_CLASSIFICATION, NODE_CLASSIFICATION):
            raise FormatError(f"{what}: unknown task {m.Task()}")
        inp = m.Input()
        if inp is None:
            raise FormatError(f"{what}: input spec missing")
        input_dim = int(inp.FeatureDim())
        if input_dim < 1 or input_dim > MAX_FEATURES:
            raise FormatError(f"{what}: input feature_dim {input_dim} outside [1, {MAX_FEATURES}]")
        if inp.Type() not in (fbm.TensorType.FLOAT32, fbm.TensorType.INT8):
            raise FormatError(f"{what}: input type {inp.Type()} is not FLOAT32 or INT8")
        input_quant = rd.quant(inp.Quant(), "input.quant")
        if m.LayersLength() < 1:
            raise FormatError(f"{what}: no layers")
        L = fbm.LayerOptions
        layers: List[QLayer] = []
        dim, pooled = input_dim, False
        for i in range(m.LayersLength()):
            fl = m.Layers(i)
            name = _fb.read_string(fl.Name())
            where = f"layer {i} ({name})" if name else f"layer {i}"
            kind = fl.OptionsType()
            if fl.Activation() not in (fbm.Activation.NONE, fbm.Activation.RELU):
                rd.fail(where, f"unknown activation {fl.Activation()}")
            relu = fl.Activation() == fbm.Activation.RELU
            output = rd.quant(fl.Output(), where + " output")
            if fl.Options() is None:
                rd.fail(where, "options missing")
            if pooled and kind != L.LinearOptions:
                rd.fail(where, "only Linear layers may follow the global pooling")

            def aggregation_fields(o) -> dict:
                return {"aggregation": rd.quant(fl.Aggregation(), where + " aggregation"),
                        "aggregation_requant": rd.requant(o.AggregationRequant(), where + " aggregation_requant",
                                                          1, SINGLE_SHIFT_MAX)}

            if kind == L.LinearOptions:
                dense = rd.dense(_options(fl, fbm.LinearOptions).Dense(), where + " dense", dim)
                layer = QLayer(LINEAR, name, relu, output, dense=dense)
                dim = dense.out_features
            elif kind == L.GCNConvOptions:
                o = _options(fl, fbm.GCNConvOptions)
                dense = rd.dense(o.Dense(), where + " dense", dim)
                layer = QLayer(GCN_CONV, name, relu, output, **aggregation_fields(o), dense=dense)
                dim = dense.out_features
            elif kind == L.SAGEConvOptions:
                o = _options(fl, fbm.SAGEConvOptions)
                if o.Reduce() not in (fbm.Reduce.MEAN, fbm.Reduce.MAX):
                    rd.fail(where, f"SAGEConv reduce {o.Reduce()} is not MEAN or MAX")
                dense = rd.dense(o.Neighbor(), where + " neighbor", dim)
                root = rd.dense(o.Root(), where + " root", dim) if o.Root() is not None else None
                if root is not None and root.out_features != dense.out_features:
                    rd.fail(where, "root and neighbor output features differ")
                layer = QLayer(SAGE_CONV, name, relu, output, **aggregation_fields(o),
                               dense=dense, root=root, reduce=REDUCE_NAMES[o.Reduce()])
                dim = dense.out_features
            elif kind == L.GINConvOptions:
                o = _options(fl, fbm.GINConvOptions)
                if o.MlpLength() < 1:
                    rd.fail(where, "GINConv has an empty mlp")
                mlp = []
                for k in range(o.MlpLength()):
                    d = rd.dense(o.Mlp(k), f"{where} mlp[{k}]", dim)
                    mlp.append(d)
                    dim = d.out_features
                if o.HiddenLength() != o.MlpLength() - 1:
                    rd.fail(where, f"{o.HiddenLength()} hidden quantizations for {o.MlpLength()} Dense ops")
                hidden = [rd.quant(o.Hidden(k), f"{where} hidden[{k}]") for k in range(o.HiddenLength())]
                w = int(o.SelfWeightQ16())
                if w < 0 or w >= SELF_WEIGHT_LIMIT:
                    rd.fail(where, f"self_weight_q16 = {w} outside [0, 2^23)")
                layer = QLayer(GIN_CONV, name, relu, output, **aggregation_fields(o),
                               mlp=mlp, hidden=hidden, self_weight_q16=w, eps=float(o.Eps()))
            elif kind == L.GlobalPoolOptions:
                o = _options(fl, fbm.GlobalPoolOptions)
                if o.Reduce() not in REDUCE_NAMES:
                    rd.fail(where, f"GlobalPool reduce {o.Reduce()} is not supported")
                if pooled:
                    rd.fail(where, "a second global pooling")
                pooled = True
                layer = QLayer(GLOBAL_POOL, name, False, output, reduce=REDUCE_NAMES[o.Reduce()],
                               requant=rd.requant(o.Requant(), where + " requant", 1, SINGLE_SHIFT_MAX))
            else:
                rd.fail(where, f"unknown layer options type {kind}")
            layers.append(layer)
        if m.Task() == GRAPH_CLASSIFICATION and not pooled:
            raise FormatError(f"{what}: a graph classification model needs exactly one GlobalPool")
        if m.Task() == NODE_CLASSIFICATION and pooled:
            raise FormatError(f"{what}: a node classification model cannot contain a GlobalPool")
        class_names = _fb.read_string_vector(m, "ClassNames")
        if class_names and len(class_names) != dim:
            raise FormatError(f"{what}: {len(class_names)} class names for {dim} outputs")
        lim = m.Limits()
        limits = (lim.MaxNodes(), lim.MaxEdges(), lim.MaxDegree(), lim.MaxGraphs()) if lim else (0, 0, 0, 0)
        return QuantizedModel(
            version=m.Version(),
            name=_fb.read_string(m.Name()),
            description=_fb.read_string(m.Description()),
            producer=_fb.read_string(m.Producer()),
            task=m.Task(),
            class_names=class_names,
            input_dim=input_dim,
            input_int8=inp.Type() == fbm.TensorType.INT8,
            input_quant=input_quant,
            layers=layers,
            limits=tuple(int(v) for v in limits),
        )
    except FormatError:
        raise
    except (IndexError, struct.error, UnicodeDecodeError, ValueError, AttributeError, TypeError) as exc:
        raise FormatError(f"{what}: corrupt FlatBuffer ({exc})") from exc


def read_quantized_model(path: PathLike) -> QuantizedModel:
    """Read and check a quantized .qgnn file."""
    return quantized_model_from_bytes(Path(path).read_bytes(), str(path))


# ---------------------------------------------------------------------------------------------------
# Writing (the inverse of the reader): lets tests build quantized models qgnn-convert never writes
# (INT8 input features, int4 logits, hand-picked multipliers) and run them through both runtimes.
# ---------------------------------------------------------------------------------------------------

class _QWriter:
    def __init__(self, builder) -> None:
        self.b = builder
        self.tensors: List[int] = []
        self.buffers: List[int] = []

    def tensor(self, name: str, ttype: int, shape, data: bytes, scales: Optional[np.ndarray]) -> int:
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

    def dense(self, prefix: str, d: QDense) -> int:
        w = np.asarray(d.weight)
        if d.weight_bits == 4:
            data, ttype = pack_int4(w), fbm.TensorType.INT4
        else:
            data, ttype = np.ascontiguousarray(w, dtype=np.int8).tobytes(), fbm.TensorType.INT8
        wi = self.tensor(d.name or prefix + ".weight", ttype, w.shape, data, d.weight_scales)
        bi = -1
        if d.bias is not None:
            bi = self.tensor(prefix + ".bias", fbm.TensorType.INT32, d.bias.shape,
                             np.ascontiguousarray(d.bias, dtype="<i4").tobytes(), None)
        rq = self.requant(d.requant)
        b = self.b
        fbm.DenseStart(b)
        fbm.DenseAddWeight(b, wi)
        fbm.DenseAddBias(b, bi)
        fbm.DenseAddRequant(b, rq)
        fbm.DenseAddActivation(b, fbm.Activation.RELU if d.relu else fbm.Activation.NONE)
        return fbm.DenseEnd(b)

    def layer(self, i: int, layer: QLayer) -> int:
        b = self.b
        L = fbm.LayerOptions
        prefix = layer.name or f"layer{i}"
        reduce_codes = {v: k for k, v in REDUCE_NAMES.items()}
        if layer.kind == LINEAR:
            dense = self.dense(prefix, layer.dense)
            fbm.LinearOptionsStart(b)
            fbm.LinearOptionsAddDense(b, dense)
            opts, otype = fbm.LinearOptionsEnd(b), L.LinearOptions
        elif layer.kind == GCN_CONV:
            dense = self.dense(prefix, layer.dense)
            arq = self.requant(layer.aggregation_requant)
            fbm.GCNConvOptionsStart(b)
            fbm.GCNConvOptionsAddDense(b, dense)
            fbm.GCNConvOptionsAddAggregationRequant(b, arq)
            opts, otype = fbm.GCNConvOptionsEnd(b), L.GCNConvOptions
        elif layer.kind == SAGE_CONV:
            neighbor = self.dense(prefix + ".neighbor", layer.dense)
            root = self.dense(prefix + ".root", layer.root) if layer.root is not None else None
            arq = self.requant(layer.aggregation_requant)
            fbm.SAGEConvOptionsStart(b)
            fbm.SAGEConvOptionsAddReduce(b, reduce_codes[layer.reduce])
            fbm.SAGEConvOptionsAddNeighbor(b, neighbor)
            if root is not None:
                fbm.SAGEConvOptionsAddRoot(b, root)
            fbm.SAGEConvOptionsAddAggregationRequant(b, arq)
            opts, otype = fbm.SAGEConvOptionsEnd(b), L.SAGEConvOptions
        elif layer.kind == GIN_CONV:
            denses = [self.dense(f"{prefix}.mlp.{k}", d) for k, d in enumerate(layer.mlp)]
            mlp = _fb.create_offset_vector(b, denses)
            hidden = _fb.create_offset_vector(b, [self.quant(q) for q in layer.hidden])
            arq = self.requant(layer.aggregation_requant)
            fbm.GINConvOptionsStart(b)
            fbm.GINConvOptionsAddEps(b, float(layer.eps))
            fbm.GINConvOptionsAddSelfWeightQ16(b, int(layer.self_weight_q16))
            fbm.GINConvOptionsAddMlp(b, mlp)
            fbm.GINConvOptionsAddHidden(b, hidden)
            fbm.GINConvOptionsAddAggregationRequant(b, arq)
            opts, otype = fbm.GINConvOptionsEnd(b), L.GINConvOptions
        else:
            rq = self.requant(layer.requant)
            fbm.GlobalPoolOptionsStart(b)
            fbm.GlobalPoolOptionsAddReduce(b, reduce_codes[layer.reduce])
            fbm.GlobalPoolOptionsAddRequant(b, rq)
            opts, otype = fbm.GlobalPoolOptionsEnd(b), L.GlobalPoolOptions
        output = self.quant(layer.output)
        aggregation = self.quant(layer.aggregation) if layer.aggregation is not None else None
        name = _fb.create_string(b, layer.name) if layer.name else None
        fbm.LayerStart(b)
        if name is not None:
            fbm.LayerAddName(b, name)
        fbm.LayerAddOptionsType(b, otype)
        fbm.LayerAddOptions(b, opts)
        fbm.LayerAddActivation(b, fbm.Activation.RELU if layer.relu else fbm.Activation.NONE)
        fbm.LayerAddOutput(b, output)
        if aggregation is not None:
            fbm.LayerAddAggregation(b, aggregation)
        return fbm.LayerEnd(b)


def quantized_model_to_bytes(qm: QuantizedModel) -> bytes:
    """Serialize a QuantizedModel (quantized = true), every tensor in its own 16-byte aligned buffer. The
    result is checked by reading it back."""
    import flatbuffers

    b = flatbuffers.Builder(4096)
    w = _QWriter(b)
    layers = [w.layer(i, layer) for i, layer in enumerate(qm.layers)]
    input_quant = w.quant(qm.input_quant)
    fbm.InputSpecStart(b)
    fbm.InputSpecAddFeatureDim(b, qm.input_dim)
    fbm.InputSpecAddType(b, fbm.TensorType.INT8 if qm.input_int8 else fbm.TensorType.FLOAT32)
    fbm.InputSpecAddQuant(b, input_quant)
    input_spec = fbm.InputSpecEnd(b)
    data = finish_model(b, qm, quantized=True, input_spec=input_spec, layers=layers, tensors=w.tensors,
                        buffers=w.buffers)
    quantized_model_from_bytes(data, "written model")
    return data
