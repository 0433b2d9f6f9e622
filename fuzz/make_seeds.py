#!/usr/bin/env python3
"""Seed corpora for the fuzz targets: the bundled models, their skip-connection variants (Layer.inputs, format
version 3), the INT8 MUTAG GIN with per-column input scales (InputSpec.column_scales, format version 4), and
MUTAG graphs in fuzz_graph_invoke's layout.

Usage: make_seeds.py OUT_DIR   (writes OUT_DIR/model_load/* and OUT_DIR/graph_invoke/*)
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
MODELS = ["mutag_gin_int8.qgnn", "mutag_gin_f32.qgnn", "cora_gcn_f32.qgnn"]


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
    gs = read_qgd(ROOT / "models" / "mutag.qgd")
    batches = [[0], [5], [23], [1, 2], [3, 4, 6]]
    for model in (0, 1):
        for n, graphs in enumerate(batches):
            seed = graph_seed(gs, graphs, model, with_graph_ptr=len(graphs) > 1)
            (out / "graph_invoke" / f"mutag_m{model}_b{n}.bin").write_bytes(seed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
