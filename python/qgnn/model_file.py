"""Float models in the .qgnn format (schema/qgnn.fbs): a plain description, read and write.

The description mirrors the C++ converter's ModelDesc (converter/include/qgnn/converter/model_builder.h),
float part only, including the converter metadata of float models: unfolded BatchNorm after a Dense and
stored activation ranges (e.g. the ranges QAT ended with; all activations or none). Quantized models are
produced by qgnn-convert; `read_model_info` reads their header.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import flatbuffers
import numpy as np

from . import _fb
from ._atomic import PathLike, write_bytes_atomic
from ._fb import FormatError
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION
from .schema import qgnn_generated as fbm

QGNN_IDENTIFIER = b"QGNN"
QGNN_FORMAT_VERSION = 2  # newest version read (include/qgnn/qgnn.h)
BASE_FORMAT_VERSION = 1  # what files are written as, unless they carry an unfolded BatchNorm
BATCH_NORM_FORMAT_VERSION = 2
PRODUCER = "qgnn-python 0.1"

# Layer kinds: the names of the schema's LayerOptions union members without "Options", the one spelling
# shared with the C++ runtime (kLinear, kGcnConv, ...) and converter; KIND_OPTIONS maps them to the union.
LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV, GLOBAL_POOL = "Linear", "GCNConv", "SAGEConv", "GINConv", "GlobalPool"
KINDS = (LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV, GLOBAL_POOL)
KIND_OPTIONS = {kind: getattr(fbm.LayerOptions, kind + "Options") for kind in KINDS}
AGGREGATING_KINDS = (GCN_CONV, SAGE_CONV, GIN_CONV)  # kinds with a message-passing aggregation
Range = Tuple[float, float]  # stored activation range (min, max)
REDUCES = {"sum": fbm.Reduce.SUM, "mean": fbm.Reduce.MEAN, "max": fbm.Reduce.MAX}
_REDUCE_NAMES = {v: k for k, v in REDUCES.items()}


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
    models) runs after the bias and before the activation (on a SAGE neighbour Dense: on the whole sum)."""

    weight: np.ndarray  # float32 [out_features, in_features]
    bias: Optional[np.ndarray] = None  # float32 [out_features]
    relu: bool = False
    batch_norm: Optional[BatchNormDesc] = None

    def __post_init__(self) -> None:
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
    relu: bool = False  # activation fused at the end of the layer (ignored by POOL)
    dense: Optional[DenseDesc] = None  # LINEAR, GCN; SAGE's neighbour Dense (W_n, with the bias)
    root: Optional[DenseDesc] = None  # SAGE's root Dense (W_r); None: no root term
    mlp: List[DenseDesc] = field(default_factory=list)  # GIN
    reduce: str = "sum"  # SAGE: mean/max; POOL: sum/mean/max
    eps: float = 0.0  # GIN
    # Stored ranges (schema Range), all activations of the model or none: the output (after the activation),
    # the aggregation (GCN/SAGE/GIN) and GIN's hidden MLP outputs (len(mlp) - 1).
    output_range: Optional[Range] = None
    aggregation_range: Optional[Range] = None
    hidden_ranges: List[Range] = field(default_factory=list)

    def denses(self) -> List[DenseDesc]:
        if self.kind == GIN_CONV:
            return list(self.mlp)
        return [d for d in (self.dense, self.root) if d is not None]


@dataclass
class ModelDesc:
    input_dim: int
    layers: List[LayerDesc]
    name: str = "model"
    description: str = ""
    producer: str = PRODUCER
    task: int = GRAPH_CLASSIFICATION
    class_names: List[str] = field(default_factory=list)
    limits: Tuple[int, int, int, int] = (0, 0, 0, 0)  # max_nodes, max_edges, max_degree, max_graphs
    version: int = BASE_FORMAT_VERSION
    input_range: Optional[Range] = None  # stored range of the input features
    ranges_source: str = ""  # where the stored ranges come from, e.g. "qgnn.qat minmax observers"

    def output_dim(self) -> int:
        return check_model(self)

    def has_stored_ranges(self) -> bool:
        return self.input_range is not None or any(
            l.output_range is not None or l.aggregation_range is not None or l.hidden_ranges for l in self.layers)


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
        if layer.kind in (GCN_CONV, SAGE_CONV, GIN_CONV):
            check(layer.aggregation_range, f"{where}: aggregation")
        elif layer.aggregation_range is not None:
            fail(f"{where}: an aggregation range on a layer without aggregation")
        hidden = len(layer.mlp) - 1 if layer.kind == GIN_CONV else 0
        if len(layer.hidden_ranges) != hidden:
            fail(f"{where}: {len(layer.hidden_ranges)} hidden ranges, expected {hidden}")
        for k, r in enumerate(layer.hidden_ranges):
            check(r, f"{where}: hidden[{k}]")


def check_model(m: ModelDesc) -> int:
    """Check the description's consistency (dims chain, kinds, shapes); return the output width."""

    def fail(msg: str) -> None:
        raise FormatError(f"model {m.name!r}: {msg}")

    if m.task not in (GRAPH_CLASSIFICATION, NODE_CLASSIFICATION):
        fail(f"unknown task {m.task}")
    if m.input_dim <= 0:
        fail("input_dim must be > 0")
    dim, pooled = m.input_dim, False
    for i, layer in enumerate(m.layers):
        where = f"layer {i} ({layer.name or layer.kind})"
        if layer.kind == GLOBAL_POOL:
            if layer.reduce not in REDUCES:
                fail(f"{where}: pooling reduce {layer.reduce!r} is not sum/mean/max")
            if pooled:
                fail(f"{where}: a second global pooling")
            pooled = True
            continue
        if layer.kind not in (LINEAR, GCN_CONV, SAGE_CONV, GIN_CONV):
            fail(f"{where}: unknown kind {layer.kind!r}")
        if pooled and layer.kind != LINEAR:
            fail(f"{where}: only Linear layers may follow the global pooling")
        if layer.kind == GIN_CONV and not layer.mlp:
            fail(f"{where}: a GINConv needs at least one Dense in its MLP")
        if layer.kind in (LINEAR, GCN_CONV, SAGE_CONV) and layer.dense is None:
            fail(f"{where}: missing Dense")
        if layer.kind == SAGE_CONV and layer.reduce not in ("mean", "max"):
            fail(f"{where}: SAGEConv reduce must be mean or max, got {layer.reduce!r}")
        chain = layer.mlp if layer.kind == GIN_CONV else [layer.dense]
        for d in chain:
            if d.weight.ndim != 2 or d.in_features != dim:
                fail(f"{where}: weight shape {d.weight.shape} does not take {dim} inputs")
            if d.bias is not None and d.bias.shape != (d.out_features,):
                fail(f"{where}: bias shape {d.bias.shape} for {d.out_features} outputs")
            dim = d.out_features
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
    if m.task == GRAPH_CLASSIFICATION and not pooled:
        fail("a graph classification model needs a global pooling layer")
    if m.task == NODE_CLASSIFICATION and pooled:
        fail("a node classification model cannot contain a global pooling layer")
    if m.class_names and len(m.class_names) != dim:
        fail(f"{len(m.class_names)} class names for {dim} outputs")
    _check_ranges(m, fail)
    return dim


class _Writer:
    """Collects tensors and buffers while the layer tables are built."""

    def __init__(self, builder: flatbuffers.Builder) -> None:
        self.b = builder
        self.tensors: List[int] = []
        self.buffers: List[int] = []

    def tensor(self, name: str, values: np.ndarray) -> int:
        b = self.b
        values = np.ascontiguousarray(values, dtype="<f4")
        buf_data = _fb.create_aligned_bytes(b, values.tobytes(), 16)
        fbm.BufferStart(b)
        fbm.BufferAddData(b, buf_data)
        self.buffers.append(fbm.BufferEnd(b))
        name_off = _fb.create_string(b, name)
        shape = _fb.create_array(b, values.shape, np.uint32)
        fbm.TensorStart(b)
        fbm.TensorAddName(b, name_off)
        fbm.TensorAddType(b, fbm.TensorType.FLOAT32)
        fbm.TensorAddShape(b, shape)
        fbm.TensorAddBuffer(b, len(self.buffers) - 1)
        self.tensors.append(fbm.TensorEnd(b))
        return len(self.tensors) - 1

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
        w = self.tensor(prefix + ".weight", d.weight)
        bias = self.tensor(prefix + ".bias", d.bias) if d.bias is not None else -1
        bn = self.batch_norm(d.batch_norm) if d.batch_norm is not None else None
        b = self.b
        fbm.DenseStart(b)
        fbm.DenseAddWeight(b, w)
        fbm.DenseAddBias(b, bias)
        fbm.DenseAddActivation(b, fbm.Activation.RELU if d.relu else fbm.Activation.NONE)
        if bn is not None:
            fbm.DenseAddBatchNorm(b, bn)
        return fbm.DenseEnd(b)

    def layer(self, index: int, layer: LayerDesc) -> int:
        b = self.b
        prefix = layer.name or f"layer{index}"
        if layer.kind == LINEAR:
            dense = self.dense(prefix, layer.dense)
            fbm.LinearOptionsStart(b)
            fbm.LinearOptionsAddDense(b, dense)
            opts, opts_type = fbm.LinearOptionsEnd(b), fbm.LayerOptions.LinearOptions
        elif layer.kind == GCN_CONV:
            dense = self.dense(prefix, layer.dense)
            fbm.GCNConvOptionsStart(b)
            fbm.GCNConvOptionsAddDense(b, dense)
            opts, opts_type = fbm.GCNConvOptionsEnd(b), fbm.LayerOptions.GCNConvOptions
        elif layer.kind == SAGE_CONV:
            neighbor = self.dense(prefix + ".neighbor", layer.dense)
            root = self.dense(prefix + ".root", layer.root) if layer.root is not None else None
            fbm.SAGEConvOptionsStart(b)
            fbm.SAGEConvOptionsAddReduce(b, REDUCES[layer.reduce])
            fbm.SAGEConvOptionsAddNeighbor(b, neighbor)
            if root is not None:
                fbm.SAGEConvOptionsAddRoot(b, root)
            opts, opts_type = fbm.SAGEConvOptionsEnd(b), fbm.LayerOptions.SAGEConvOptions
        elif layer.kind == GIN_CONV:
            denses = [self.dense(f"{prefix}.mlp.{k}", d) for k, d in enumerate(layer.mlp)]
            mlp = _fb.create_offset_vector(b, denses)
            hidden_ranges = create_range_vector(b, layer.hidden_ranges) if layer.hidden_ranges else None
            fbm.GINConvOptionsStart(b)
            fbm.GINConvOptionsAddEps(b, float(layer.eps))
            fbm.GINConvOptionsAddMlp(b, mlp)
            if hidden_ranges is not None:
                fbm.GINConvOptionsAddHiddenRanges(b, hidden_ranges)
            opts, opts_type = fbm.GINConvOptionsEnd(b), fbm.LayerOptions.GINConvOptions
        else:  # POOL
            fbm.GlobalPoolOptionsStart(b)
            fbm.GlobalPoolOptionsAddReduce(b, REDUCES[layer.reduce])
            opts, opts_type = fbm.GlobalPoolOptionsEnd(b), fbm.LayerOptions.GlobalPoolOptions
        name = _fb.create_string(b, layer.name) if layer.name else None
        fbm.LayerStart(b)
        if name is not None:
            fbm.LayerAddName(b, name)
        fbm.LayerAddOptionsType(b, opts_type)
        fbm.LayerAddOptions(b, opts)
        fbm.LayerAddActivation(b, fbm.Activation.RELU if layer.relu else fbm.Activation.NONE)
        # Structs are written inline, right before the slot that refers to them.
        if layer.output_range is not None:
            fbm.LayerAddOutputRange(b, fbm.CreateRange(b, *layer.output_range))
        if layer.aggregation_range is not None:
            fbm.LayerAddAggregationRange(b, fbm.CreateRange(b, *layer.aggregation_range))
        return fbm.LayerEnd(b)


def create_range_vector(b: flatbuffers.Builder, ranges: List[Range]) -> int:
    """A [Range] vector (structs inline, 8 bytes each)."""
    fbm.GINConvOptionsStartHiddenRangesVector(b, len(ranges))
    for lo, hi in reversed(ranges):
        fbm.CreateRange(b, lo, hi)
    return b.EndVector()


def to_bytes(m: ModelDesc) -> bytes:
    """Serialize a float model description into .qgnn bytes (identifier "QGNN")."""
    check_model(m)
    b = flatbuffers.Builder(4096)
    w = _Writer(b)
    layers = [w.layer(i, layer) for i, layer in enumerate(m.layers)]
    fbm.InputSpecStart(b)
    fbm.InputSpecAddFeatureDim(b, m.input_dim)
    fbm.InputSpecAddType(b, fbm.TensorType.FLOAT32)
    if m.input_range is not None:
        fbm.InputSpecAddRange(b, fbm.CreateRange(b, *m.input_range))
    input_spec = fbm.InputSpecEnd(b)
    return finish_model(b, m, quantized=False, input_spec=input_spec, layers=layers, tensors=w.tensors,
                        buffers=w.buffers)


def _file_version(m) -> int:
    """An unfolded BatchNorm changes what a runtime that does not know the field computes: such files carry
    BATCH_NORM_FORMAT_VERSION so those runtimes reject them (docs/format.md, "Versions")."""
    denses = []
    for layer in getattr(m, "layers", []):
        denses += [getattr(layer, "dense", None), getattr(layer, "root", None)] + list(getattr(layer, "mlp", None) or [])
    if any(d is not None and getattr(d, "batch_norm", None) is not None for d in denses):
        return max(m.version, BATCH_NORM_FORMAT_VERSION)
    return m.version


def finish_model(b: flatbuffers.Builder, m, *, quantized: bool, input_spec: int, layers: List[int],
                 tensors: List[int], buffers: List[int]) -> bytes:
    """Write the Model table around already-built layers / tensors / buffers / input spec and finish the
    buffer. `m` supplies the header fields (version, name, description, producer, task, class_names,
    limits, and ranges_source when it has one): a float ModelDesc or a quantized model description."""
    layers_vec = _fb.create_offset_vector(b, layers)
    tensors_vec = _fb.create_offset_vector(b, tensors)
    buffers_vec = _fb.create_offset_vector(b, buffers)
    name = _fb.create_string(b, m.name)
    description = _fb.create_string(b, m.description)
    producer = _fb.create_string(b, m.producer)
    class_names = _fb.create_string_vector(b, m.class_names)
    ranges_source = getattr(m, "ranges_source", "")
    ranges_source = _fb.create_string(b, ranges_source) if ranges_source else None
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
    return bytes(b.Output())


def write_model(m: ModelDesc, path: PathLike) -> None:
    """Check and write a float model atomically."""
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


def _read_tensor(m: "fbm.Model", index: int, what: str) -> np.ndarray:
    if index < 0 or index >= m.TensorsLength():
        raise FormatError(f"{what}: tensor index {index} out of range")
    t = m.Tensors(index)
    if t.Type() != fbm.TensorType.FLOAT32:
        raise FormatError(f"{what}: tensor {index} is not FLOAT32")
    shape = tuple(int(s) for s in _fb.read_array(t, "Shape", np.uint32))
    if t.Buffer() >= m.BuffersLength():
        raise FormatError(f"{what}: buffer index {t.Buffer()} out of range")
    raw = _fb.read_array(m.Buffers(t.Buffer()), "Data", np.uint8)
    count = int(np.prod(shape)) if shape else 0
    if raw.size != 4 * count:
        raise FormatError(f"{what}: tensor {index} has {raw.size} bytes for shape {shape}")
    return raw.view("<f4").astype(np.float32).reshape(shape)


def _read_dense(m: "fbm.Model", d: Optional["fbm.Dense"], what: str) -> Optional[DenseDesc]:
    if d is None:
        return None
    bias = _read_tensor(m, d.Bias(), what) if d.Bias() >= 0 else None
    fb_bn = d.BatchNorm()
    bn = None
    if fb_bn is not None:
        bn = BatchNormDesc(*(_fb.read_array(fb_bn, n, np.float32) for n in ("Mean", "Var", "Gamma", "Beta")),
                           eps=fb_bn.Eps())
    return DenseDesc(_read_tensor(m, d.Weight(), what), bias, d.Activation() == fbm.Activation.RELU, bn)


def _range(r: Optional["fbm.Range"]) -> Optional[Range]:
    return None if r is None else (float(r.Min()), float(r.Max()))


def _options(layer: "fbm.Layer", cls):
    table = layer.Options()
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def from_bytes(buf: bytes, what: str = ".qgnn") -> ModelDesc:
    """Parse a float .qgnn model (quantized models: use read_model_info)."""
    try:
        m = _root(buf, what)
        if m.Version() < 1 or m.Version() > QGNN_FORMAT_VERSION:
            raise FormatError(f"{what}: unsupported format version {m.Version()}")
        if m.Quantized():
            raise FormatError(f"{what}: quantized model; the Python reader loads float models only")
        L = fbm.LayerOptions
        layers: List[LayerDesc] = []
        for i in range(m.LayersLength()):
            fl = m.Layers(i)
            kind = fl.OptionsType()
            name = _fb.read_string(fl.Name())
            relu = fl.Activation() == fbm.Activation.RELU
            where = f"{what}: layer {i}"
            if kind == L.LinearOptions:
                dense = _read_dense(m, _options(fl, fbm.LinearOptions).Dense(), where)
                layer = LayerDesc(LINEAR, name, relu, dense=dense)
            elif kind == L.GCNConvOptions:
                dense = _read_dense(m, _options(fl, fbm.GCNConvOptions).Dense(), where)
                layer = LayerDesc(GCN_CONV, name, relu, dense=dense)
            elif kind == L.SAGEConvOptions:
                o = _options(fl, fbm.SAGEConvOptions)
                layer = LayerDesc(SAGE_CONV, name, relu, dense=_read_dense(m, o.Neighbor(), where),
                                  root=_read_dense(m, o.Root(), where),
                                  reduce=_REDUCE_NAMES.get(o.Reduce(), "?"))
            elif kind == L.GINConvOptions:
                o = _options(fl, fbm.GINConvOptions)
                mlp = [_read_dense(m, o.Mlp(k), where) for k in range(o.MlpLength())]
                layer = LayerDesc(GIN_CONV, name, relu, mlp=mlp, eps=float(o.Eps()),
                                  hidden_ranges=[_range(o.HiddenRanges(k)) for k in range(o.HiddenRangesLength())])
            elif kind == L.GlobalPoolOptions:
                o = _options(fl, fbm.GlobalPoolOptions)
                layer = LayerDesc(GLOBAL_POOL, name, relu, reduce=_REDUCE_NAMES.get(o.Reduce(), "?"))
            else:
                raise FormatError(f"{where}: unknown layer options type {kind}")
            layer.output_range = _range(fl.OutputRange())
            layer.aggregation_range = _range(fl.AggregationRange())
            layers.append(layer)
        lim = m.Limits()
        limits = (lim.MaxNodes(), lim.MaxEdges(), lim.MaxDegree(), lim.MaxGraphs()) if lim else (0, 0, 0, 0)
        inp = m.Input()
        desc = ModelDesc(
            input_dim=inp.FeatureDim() if inp is not None else 0,
            layers=layers,
            name=_fb.read_string(m.Name()),
            description=_fb.read_string(m.Description()),
            producer=_fb.read_string(m.Producer()),
            task=m.Task(),
            class_names=_fb.read_string_vector(m, "ClassNames"),
            limits=limits,
            version=m.Version(),
            input_range=_range(inp.Range()) if inp is not None else None,
            ranges_source=_fb.read_string(m.RangesSource()),
        )
    except FormatError:
        raise
    except (IndexError, struct.error, UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise FormatError(f"{what}: corrupt FlatBuffer ({exc})") from exc
    check_model(desc)
    return desc


def read_model(path: PathLike) -> ModelDesc:
    return from_bytes(Path(path).read_bytes(), str(path))
