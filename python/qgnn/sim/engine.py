"""qgnn.sim.run: a quantized model over one graph batch, bit for bit what qgnn_interpreter_invoke computes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Union

import numpy as np

from ..qgd import GRAPH_CLASSIFICATION
from ..model_file import ModelDesc, input_of
from ..quantized_model import quantized_model_from_bytes, read_quantized_model
from . import kernels as K
from .layers import STEPS, GraphBatch, step
from .numerics import dequantize, quantize_float

MAX_DEGREE = 1 << 22
MAX_NODES = 1 << 22

ModelLike = Union[str, Path, bytes, bytearray, memoryview, ModelDesc]


@dataclass
class SimResult:
    logits_q: np.ndarray  # int8 [rows, classes]: rows = nodes (node task) or graphs (graph task)
    logits_float: np.ndarray  # float32 [rows, classes]: scale * (q - zero_point)
    argmax: np.ndarray  # int32 [rows]: first maximum of each row
    intermediates: List[np.ndarray] = field(default_factory=list)  # with keep_intermediates=True


def input_scales(qm: ModelDesc):
    """The scale each input column is quantized with: InputSpec.column_scales (float32 [feature_dim]) when the
    model has them, else the one input scale (docs/quantization.md "Per-column input scales")."""
    if qm.input_column_scales is not None:
        return np.asarray(qm.input_column_scales, dtype=np.float32)
    return qm.input_quant.scale


def load_model(model: ModelLike) -> ModelDesc:
    if isinstance(model, ModelDesc):
        if not model.quantized:
            raise ValueError("a float model (no input quantization); the simulator runs quantized models")
        qm = model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        qm = quantized_model_from_bytes(model)
    else:
        qm = read_quantized_model(model)
    _check_simulated_kinds(qm)
    return qm


def _check_simulated_kinds(qm: ModelDesc) -> None:
    """Refuse, before anything runs, a model with a kind that has no integer step in qgnn.sim.layers (a kind
    added to the format without its step: docs/design.md, "Adding a layer kind")."""
    for i, layer in enumerate(qm.layers):
        if layer.kind not in STEPS:
            raise ValueError(f"layer {i} ({layer.name or layer.kind}) is a {layer.kind}, which qgnn.sim does not "
                             "simulate yet; run the model with the runtime (qgnn-run)")


def _check_graph(n: int, row_ptr: np.ndarray, col_idx: np.ndarray, graph_ptr: np.ndarray,
                 max_degree: int) -> None:
    """The checks of qgnn_interpreter_setup (runtime/src/graph_validation.cc) the arithmetic depends on."""
    if row_ptr.ndim != 1 or row_ptr.shape[0] != n + 1:
        raise ValueError(f"row_ptr must have num_nodes + 1 = {n + 1} entries, has {row_ptr.shape}")
    if row_ptr[0] != 0 or np.any(np.diff(row_ptr) < 0) or row_ptr[-1] != col_idx.shape[0]:
        raise ValueError("row_ptr must start at 0, be non-decreasing and end at len(col_idx)")
    if n > MAX_NODES:
        raise ValueError(f"{n} nodes exceed the runtime cap 2^22")
    degree = np.diff(row_ptr)
    if degree.size and int(degree.max()) > max_degree:
        raise ValueError(f"in-degree {int(degree.max())} exceeds the limit {max_degree}")
    if graph_ptr.ndim != 1 or graph_ptr.shape[0] < 2:
        raise ValueError("graph_ptr needs at least 2 entries (num_graphs >= 1)")
    if graph_ptr[0] != 0 or np.any(np.diff(graph_ptr) < 0) or graph_ptr[-1] != n:
        raise ValueError("graph_ptr must start at 0, be non-decreasing and end at num_nodes")
    if col_idx.size:
        if int(col_idx.min()) < 0 or int(col_idx.max()) >= n:
            raise ValueError("col_idx holds node ids outside [0, num_nodes)")
        graph_of = np.repeat(np.arange(graph_ptr.shape[0] - 1), np.diff(graph_ptr))
        dst = np.repeat(np.arange(n), degree)
        if np.any(graph_of[dst] != graph_of[col_idx]):
            raise ValueError("an edge crosses two graphs of the batch")


def run(model: ModelLike, x, row_ptr, col_idx, graph_ptr=None, *, keep_intermediates: bool = False) -> SimResult:
    """Run a quantized model on one batch (a block-diagonal CSR: row i lists the in-neighbours of node i).

    `x` is [num_nodes, feature_dim]: float features (quantized with the model's input quantization, after a
    conversion to float32 as the C API takes them; column k with column_scales[k] when the model has per-column
    input scales) or, for a model whose InputSpec type is INT8, int8 features (copied; a 4-bit input requires
    them in [-8, 7]). Float features given to an INT8-input model are quantized to int8 the way qgnn-run does
    (quantize_float with 8 bits, the input scale(s) and zero point) first.
    `graph_ptr` None means one graph {0, num_nodes}. Returns int8 logits (int4 logits unpacked to [-8, 7]),
    their dequantized floats and the first-max argmax."""
    qm = load_model(model)
    x = np.asarray(x)
    if x.ndim == 1 and x.size % qm.input_dim == 0:  # a flat row-major array, as the C API takes it
        x = x.reshape(-1, qm.input_dim)
    row_ptr = np.asarray(row_ptr, dtype=np.int64).reshape(-1)
    col_idx = np.asarray(col_idx, dtype=np.int64).reshape(-1)
    n = row_ptr.shape[0] - 1
    if x.ndim != 2 or x.shape != (n, qm.input_dim):
        raise ValueError(f"features must be [num_nodes={n}, {qm.input_dim}], got {x.shape}")
    graph_ptr = np.array([0, n], dtype=np.int64) if graph_ptr is None else np.asarray(graph_ptr, np.int64)
    max_degree = qm.limits[2] if 0 < qm.limits[2] < MAX_DEGREE else MAX_DEGREE
    _check_graph(n, row_ptr, col_idx, graph_ptr, max_degree)

    # Input: quantize_rows (float) or pack_rows_int8 (already quantized).
    inq = qm.input_quant
    if np.issubdtype(x.dtype, np.integer):
        if not qm.input_int8:
            raise TypeError("the model takes float features (InputSpec type FLOAT32); got integer features")
        if x.dtype != np.int8 and x.size and (int(x.min()) < -128 or int(x.max()) > 127):
            raise ValueError("int8 features outside [-128, 127]")
        h = x.astype(np.int64)
    else:
        if qm.input_int8:
            h = quantize_float(x, input_scales(qm), inq.zero_point, 8)  # what qgnn-run hands the runtime
        else:
            h = quantize_float(x, input_scales(qm), inq.zero_point, inq.bits)
    if qm.input_int8 and inq.bits == 4 and h.size and (int(h.min()) < -8 or int(h.max()) > 7):
        raise ValueError("int8 features outside [-8, 7] for a 4-bit model input (QGNN_INVALID_ARGUMENT)")

    inter: List[np.ndarray] = [h] if keep_intermediates else []
    batch = GraphBatch(row_ptr, col_idx, graph_ptr)
    # outputs[j + 1]: output j and its zero point, the model input first; each layer reads the one input_of
    # names (the previous layer's unless it lists its inputs).
    outputs = [(h, inq.zero_point)]
    for i, layer in enumerate(qm.layers):
        x, zx = outputs[input_of(qm, i) + 1]
        # intermediates: the aggregation (transform-first: the message, then a SAGEConv's aggregation) and GIN's
        # hidden outputs, then the layer output
        h = step(layer.kind).run(layer, x, zx, batch, inter.append if keep_intermediates else None)
        outputs.append((h, layer.output.zero_point))
        if keep_intermediates:
            inter.append(h)

    outq = qm.output_quant
    logits_q = h.astype(np.int8)  # int4 logits are handed out as int8 values in [-8, 7]
    return SimResult(logits_q=logits_q,
                     logits_float=dequantize(logits_q, outq.scale, outq.zero_point),
                     argmax=K.argmax_first(logits_q),
                     intermediates=inter)


def expected_rows(qm: ModelDesc, num_nodes: int, num_graphs: int) -> int:
    return num_graphs if qm.task == GRAPH_CLASSIFICATION else num_nodes
