#!/usr/bin/env python3
"""Seed corpora for the fuzz targets: the bundled models, their skip-connection variants (Layer.inputs, format
version 3), the INT8 MUTAG GIN with per-column input scales (InputSpec.column_scales, format version 4), the
tiny quantized Linear-first model that accepts sparse features, a quantized transform-first SAGEConv model
(format version 6), the MUTAG GAT (int8 and float: models/mutag_gat_*.qgnn, written by
scripts/make_gat_model.py and qgnn-convert, since the Python quantizer has no GATConv), and MUTAG graphs in
fuzz_graph_invoke's layout, dense and (for the sparse models) with sparse features.

Usage: make_seeds.py OUT_DIR   (writes OUT_DIR/model_load/* and OUT_DIR/graph_invoke/*)
       make_seeds.py --write-sparse-model   (rewrites fuzz/sparse_linear_gcn_int8.qgnn, which
       fuzz_graph_invoke loads; deterministic, so the committed file is what this writes)
Run with /usr/bin/python3 and PYTHONPATH=python. The graph layout is documented in fuzz/graph_input.h.
"""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

import numpy as np

from qgnn.model_file import read_model, read_quantized_model, to_bytes
from qgnn.qgd import read_qgd

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["mutag_gin_int8.qgnn", "mutag_gin_f32.qgnn", "cora_gcn_f32.qgnn", "mutag_gat_int8.qgnn",
          "mutag_gat_f32.qgnn"]
SPARSE_MODEL = ROOT / "fuzz" / "sparse_linear_gcn_int8.qgnn"
SPARSE_MODEL_INDEX = 2  # fuzz_graph_invoke loads it third
# The transform-first SAGEConv model (a root term: the streamed or sparse input is read twice), loaded fourth.
TF_SAGE_MODEL = ROOT / "fuzz" / "transform_first_sage_int8.qgnn"
TF_SAGE_MODEL_INDEX = 3
# The MUTAG GAT, int8 then float (models/mutag_gat_*.qgnn), loaded fifth and sixth.
GAT_MODEL_INDEX = 4
GAT_F32_MODEL_INDEX = 5


def sparse_model_bytes() -> bytes:
    """A quantized MUTAG-sized model (7 -> Linear 8 -> GCN 6 -> mean pool -> Linear 2) whose input is read
    only by a Dense, so it accepts sparse features; random weights, fixed ranges: the fuzzer needs valid
    numerics, not accuracy."""
    from qgnn.model_file import DenseDesc, LayerDesc, ModelDesc
    from qgnn.qat.quantizer import ComponentBits, LayerRanges, quantize_desc
    from qgnn.quantized_model import quantized_model_to_bytes

    rng = np.random.default_rng(14)

    def dense(out: int, inp: int) -> DenseDesc:
        return DenseDesc(weight=rng.uniform(-0.5, 0.5, (out, inp)).astype(np.float32),
                         bias=rng.uniform(-0.1, 0.1, out).astype(np.float32))

    layers = [LayerDesc("Linear", name="lin", relu=True, dense=dense(8, 7)),
              LayerDesc("GCNConv", name="gcn", relu=True, dense=dense(6, 8)),
              LayerDesc("GlobalPool", name="pool", reduce="mean"),
              LayerDesc("Linear", name="out", dense=dense(2, 6))]
    desc = ModelDesc(input_dim=7, layers=layers, name="sparse_linear_gcn")
    ranges = [LayerRanges(output=(0.0, 2.0)),
              LayerRanges(aggregation=(0.0, 3.0), output=(0.0, 2.5), message=(-2.0, 2.0)),
              LayerRanges(output=(0.0, 2.5)), LayerRanges(output=(-3.0, 3.0))]
    q = quantize_desc(desc, (0.0, 1.0), ranges, 8, [ComponentBits() for _ in layers],
                      description="fuzz/make_seeds.py: sparse-features model for fuzz_graph_invoke")
    return quantized_model_to_bytes(q)


def transform_first_sage_bytes() -> bytes:
    """A quantized MUTAG-sized model whose SAGEConv layers run transform-first (format version 6: message,
    output_requant, the identity output step), one with root and one without; random weights, fixed ranges."""
    from qgnn.model_file import DenseDesc, LayerDesc, ModelDesc
    from qgnn.qat.quantizer import ComponentBits, LayerRanges, quantize_desc
    from qgnn.quantized_model import quantized_model_to_bytes

    rng = np.random.default_rng(15)

    def dense(out: int, inp: int, bias: bool = True) -> DenseDesc:
        return DenseDesc(weight=rng.uniform(-0.5, 0.5, (out, inp)).astype(np.float32),
                         bias=rng.uniform(-0.1, 0.1, out).astype(np.float32) if bias else None)

    layers = [LayerDesc("SAGEConv", name="sage_root", relu=True, reduce="mean", order="transform-first",
                        dense=dense(5, 7), root=dense(5, 7, bias=False)),
              LayerDesc("SAGEConv", name="sage", relu=True, reduce="mean", order="transform-first",
                        dense=dense(4, 5)),
              LayerDesc("GlobalPool", name="pool", reduce="sum"),
              LayerDesc("Linear", name="out", dense=dense(2, 4))]
    desc = ModelDesc(input_dim=7, layers=layers, name="transform_first_sage")
    sage = LayerRanges(aggregation=(-1.5, 1.5), output=(0.0, 2.0), message=(-2.0, 2.0))
    ranges = [sage, sage, LayerRanges(output=(0.0, 8.0)), LayerRanges(output=(-3.0, 3.0))]
    q = quantize_desc(desc, (0.0, 1.0), ranges, 8, [ComponentBits() for _ in layers],
                      description="fuzz/make_seeds.py: transform-first SAGEConv seed")
    return quantized_model_to_bytes(q)


def sparse_graph_seed(gs, graphs, model: int = SPARSE_MODEL_INDEX) -> bytes:
    """The batch of graph_seed with its features as CSR (flags bits 0 and 2), for a model taking them."""
    dense = graph_seed(gs, graphs, model, with_graph_ptr=True)
    nodes, edges, count = struct.unpack_from("<HHH", dense, 2)
    head = 8 + 4 * (nodes + 1 + edges + count + 1)
    x = np.frombuffer(dense[head:], "<f4").reshape(nodes, -1)
    rows, cols = np.nonzero(x)
    feature_row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=nodes))])
    out = struct.pack("<BBHHHH", model, 1 | 4, nodes, edges, count, rows.size) + dense[8:head]
    out += np.asarray(feature_row_ptr, "<i4").tobytes() + np.asarray(cols, "<i4").tobytes()
    return out + np.asarray(x[rows, cols], "<f4").tobytes()


def graph_seed(gs, graphs, model: int, with_graph_ptr: bool) -> bytes:
    """One batch of MUTAG graphs (relabelled from 0) encoded as graph_input.h describes."""
    row_ptr, col_idx, feats, gptr = [0], [], [], [0]
    for k in graphs:
        lo, hi = int(gs.graph_ptr[k]), int(gs.graph_ptr[k + 1])
        e0 = int(gs.row_ptr[lo])
        base_node, base_edge = gptr[-1], row_ptr[-1]
        for i in range(lo, hi):
            row_ptr.append(base_edge + int(gs.row_ptr[i + 1]) - e0)
        col_idx += [base_node + int(j) - lo for j in gs.col_idx[e0 : int(gs.row_ptr[hi])]]
        feats.append(gs.features[lo:hi])
        gptr.append(base_node + hi - lo)
    flags = 1 if with_graph_ptr else 0
    out = struct.pack("<BBHHH", model, flags, gptr[-1], len(col_idx), len(graphs))
    out += np.asarray(row_ptr, "<i4").tobytes() + np.asarray(col_idx, "<i4").tobytes()
    if with_graph_ptr:
        out += np.asarray(gptr, "<i4").tobytes()
    return out + np.concatenate(feats).astype("<f4").tobytes()


def main(argv) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "--write-sparse-model":
        SPARSE_MODEL.write_bytes(sparse_model_bytes())
        TF_SAGE_MODEL.write_bytes(transform_first_sage_bytes())
        return 0
    out = Path(argv[0])
    (out / "model_load").mkdir(parents=True, exist_ok=True)
    (out / "graph_invoke").mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        shutil.copyfile(ROOT / "models" / name, out / "model_load" / name)
    # Explicit dataflow: the MUTAG GIN with its third GIN layer reading the first one's output and the pool
    # listing its input, so the fuzzer starts from valid files that carry Layer.inputs.
    for name, read in (("mutag_gin_int8.qgnn", read_quantized_model), ("mutag_gin_f32.qgnn", read_model)):
        m = read(ROOT / "models" / name)
        m.layers[2].inputs = [0]
        m.layers[3].inputs = [2]
        (out / "model_load" / f"skip_{name}").write_bytes(to_bytes(m))
    # Per-column input scales: valid files that carry InputSpec.column_scales (scales spread over 10^3).
    m = read_quantized_model(ROOT / "models" / "mutag_gin_int8.qgnn")
    spread = np.geomspace(0.03, 30.0, m.input_dim).astype(np.float32)
    m.input_column_scales = (np.float32(m.input_quant.scale) * spread).astype(np.float32)
    (out / "model_load" / "column_scales_mutag_gin_int8.qgnn").write_bytes(to_bytes(m))
    (out / "model_load" / SPARSE_MODEL.name).write_bytes(sparse_model_bytes())
    (out / "model_load" / "transform_first_sage_int8.qgnn").write_bytes(transform_first_sage_bytes())
    gs = read_qgd(ROOT / "models" / "mutag.qgd")
    batches = [[0], [5], [23], [1, 2], [3, 4, 6]]
    for model in (0, 1):
        for n, graphs in enumerate(batches):
            seed = graph_seed(gs, graphs, model, with_graph_ptr=len(graphs) > 1)
            (out / "graph_invoke" / f"mutag_m{model}_b{n}.bin").write_bytes(seed)
    for n, graphs in enumerate(batches):
        (out / "graph_invoke" / f"mutag_sparse_b{n}.bin").write_bytes(sparse_graph_seed(gs, graphs))
        (out / "graph_invoke" / f"mutag_sage_sparse_b{n}.bin").write_bytes(
            sparse_graph_seed(gs, graphs, TF_SAGE_MODEL_INDEX))
        (out / "graph_invoke" / f"mutag_sage_b{n}.bin").write_bytes(
            graph_seed(gs, graphs, TF_SAGE_MODEL_INDEX, with_graph_ptr=True))
    for model in (GAT_MODEL_INDEX, GAT_F32_MODEL_INDEX):
        for n, graphs in enumerate(batches):
            seed = graph_seed(gs, graphs, model, with_graph_ptr=len(graphs) > 1)
            (out / "graph_invoke" / f"mutag_gat_m{model}_b{n}.bin").write_bytes(seed)
            # A GATConv's input is read only by its Dense, so the GAT takes sparse features too.
            (out / "graph_invoke" / f"mutag_gat_sparse_m{model}_b{n}.bin").write_bytes(
                sparse_graph_seed(gs, graphs, model))
    # The same sparse input on a model that must refuse it (the MUTAG GIN reads its input by aggregation).
    refused = bytearray(sparse_graph_seed(gs, batches[3]))
    refused[0] = 0
    (out / "graph_invoke" / "mutag_sparse_refused.bin").write_bytes(bytes(refused))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
