#!/usr/bin/python3
"""PyTorch eager baseline for qgnn-bench: the same network as a float .qgnn (read with qgnn.load, weights
copied), run the way PyTorch users run it, on the same batches of the same .qgd data set, timed the same way.

    PYTHONPATH=python /usr/bin/python3 bench/pytorch_baseline.py MODEL.qgnn DATA.qgd \
        [--semantics standard|qgnn|all] [--sparse auto|yes|no] [--layout coo|csr] \
        [--batch B] [--threads N] [--warmup W] [--repeat R] [--json]

Variants, timed interleaved (every pass runs each variant over all batches in turn):
  dense           the standard formulation (bench/torch_standard.py: PyG's GCNConv / SAGEConv / GINConv as
                  users write them, transform-first GCN, the normalised adjacency as one torch.sparse matrix),
                  features a dense float32 tensor;
  sparse          the same with the features as a torch sparse tensor (X_sparse·W by torch.sparse.mm), run
                  where the features are sparse (--sparse auto: at most 10 % non-zero, like bag-of-words Cora
                  at 1.3 % or PubMed's TF-IDF at 10 %) and the first layer is transform-first;
  int8-dynamic    PyTorch's own INT8: torch.ao.quantization.quantize_dynamic on the standard formulation's
                  torch.nn.Linear layers (dense features);
  qgnn-semantics  PyTorch running the file through qgnn.nn (qgnn.load: the layer order the file stores, which
                  is aggregate-first for files written before transform-first layers; index_select + index_add_
                  aggregation). Not how anyone runs GCN; kept, labelled, only to compare with earlier reports
                  (--semantics qgnn or all).
--semantics standard (the default) runs dense, sparse and int8-dynamic.

A float GAT file (GATConv layers; qgnn.nn has no GATConv, so qgnn.load cannot read it) runs PyG's GATConv
formulation (torch_standard.GAT: edge-wise logits by index_select, scatter softmax, weighted scatter sum) in the
same variants, and its outputs are compared with torch_standard.gat_dense_reference (the layer's definition,
float64, one dense attention matrix per head) instead of qgnn.nn's; qgnn-semantics is skipped.

Batches are built like qgnn-bench's: graph classification cuts all graphs, in order, into batches of B
consecutive graphs; node classification runs the whole graph in one forward. Per-batch graph structures
(sparse matrices, index tensors) and sparse feature tensors are built before timing, as qgnn's setup is not part
of its invoke time; a timed forward runs under torch.no_grad() in eval mode, float32. Before timing, every
variant's outputs over all batches are compared with the qgnn.nn model's (which tests/test_runtime_float.py ties
to the runtime): a float variant that differs by more than 1e-3 of the largest output is refused as not the same
network. Prints latency per forward (p50 / p99 / mean, µs), per graph, and graphs/s, per variant.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from typing import Callable, Dict, List, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # torch_standard beside this file

LABELS = {
    "dense": "PyTorch standard formulation (transform-first GCN, torch.sparse adjacency), dense features",
    "sparse": "PyTorch standard formulation, sparse features (torch.sparse.mm(X, W) in the first layer)",
    "int8-dynamic": "PyTorch dynamic INT8 (quantize_dynamic on the standard formulation's Linear layers), "
                    "dense features",
    "qgnn-semantics": "PyTorch running the file through qgnn.nn (qgnn.load, the file's layer order; not how users "
                      "run it)",
}
SEMANTICS = {"standard": ("dense", "sparse", "int8-dynamic"), "qgnn": ("qgnn-semantics",),
             "all": ("dense", "sparse", "int8-dynamic", "qgnn-semantics")}
# GAT files: the same variants in PyG's GATConv formulation (torch_standard.GAT).
GAT_LABELS = {
    "dense": "PyTorch standard GAT formulation (PyG's GATConv: edge-wise logits, scatter softmax, weighted "
             "scatter sum), dense features",
    "sparse": "PyTorch standard GAT formulation, sparse features (torch.sparse.mm(X, W) for the messages)",
    "int8-dynamic": "PyTorch dynamic INT8 (quantize_dynamic on the GAT formulation's Linear layers), dense "
                    "features",
}
SPARSE_AUTO_DENSITY = 0.10
AGREEMENT = 1e-3  # float variants: max |difference| over the largest |output| of the qgnn.nn model


def _batches(gs, batch: int) -> List[Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(features, row_ptr, col_idx, graph_ptr) per batch, node ids local to the batch."""
    gp = np.asarray(gs.graph_ptr, dtype=np.int64)
    rp = np.asarray(gs.row_ptr, dtype=np.int64)
    ci = np.asarray(gs.col_idx, dtype=np.int64)
    x = np.asarray(gs.features, dtype=np.float32).reshape(len(rp) - 1, -1)
    if gs.task == 1:  # node classification: one graph, one forward
        return [(x, rp, ci, np.array([0, len(rp) - 1]))]
    out = []
    graphs = len(gp) - 1
    for g0 in range(0, graphs, batch):
        g1 = min(graphs, g0 + batch)
        n0, n1 = int(gp[g0]), int(gp[g1])
        e0, e1 = int(rp[n0]), int(rp[n1])
        out.append((x[n0:n1], rp[n0:n1 + 1] - e0, ci[e0:e1] - n0, gp[g0:g1 + 1] - n0))
    return out


def _percentile(sorted_us: List[float], p: float) -> float:
    """Nearest rank, as qgnn's tools (tools/common/latency.cc)."""
    rank = math.ceil(p / 100.0 * len(sorted_us))
    return sorted_us[min(max(rank, 1), len(sorted_us)) - 1]


def _variants(model_path: str, gs, batch: int, semantics: str, sparse: str, layout: str):
    """{name: (forward callables, one per batch)}, the qgnn.nn reference forwards, skipped {name: reason}."""
    import torch

    from qgnn import load, model_file
    from qgnn.nn import Graph
    from torch_standard import Adjacency, gat_dense_reference, is_gat_file, standard_from_qgnn, standard_gat_from_file

    desc = model_file.read_model(model_path)
    gat = is_gat_file(desc)
    ref_model = None if gat else load(model_path)
    std = standard_gat_from_file(desc) if gat else standard_from_qgnn(ref_model)
    x_all = np.asarray(gs.features, dtype=np.float32)
    density = float(np.count_nonzero(x_all)) / max(1, x_all.size)
    wanted = SEMANTICS[semantics]
    skipped: Dict[str, str] = {}
    if gat and "qgnn-semantics" in wanted:
        skipped["qgnn-semantics"] = "qgnn.nn has no GATConv: the GAT file runs in the standard formulation only"
    if "sparse" in wanted:
        if sparse == "no":
            skipped["sparse"] = "--sparse no"
        elif not std.takes_sparse_features():
            skipped["sparse"] = ("the first layer aggregates raw features (PyG's SAGEConv / GINConv gather rows): "
                                 "sparse features go only into a transform-first first layer")
        elif sparse == "auto" and density > SPARSE_AUTO_DENSITY:
            skipped["sparse"] = (f"features {density * 100:.1f} % non-zero, above --sparse auto's "
                                 f"{SPARSE_AUTO_DENSITY * 100:.0f} % (--sparse yes forces it)")
    int8 = None
    if "int8-dynamic" in wanted:
        int8 = torch.ao.quantization.quantize_dynamic(std, {torch.nn.Linear}, dtype=torch.qint8)
    items = []
    for x, rp, ci, gp in _batches(gs, batch):
        graph = Graph(rp, ci, gp)
        xt = torch.from_numpy(np.ascontiguousarray(x))
        with warnings.catch_warnings():  # torch 1.13: "Sparse CSR tensor support is in beta state"
            warnings.simplefilter("ignore", UserWarning)
            xs = xt.to_sparse() if layout == "coo" else xt.to_sparse_csr()
            items.append((xt, xs, graph, Adjacency(graph, layout)))
    forwards: Dict[str, List[Callable]] = {}
    for name in wanted:
        if name in skipped:
            continue
        if gat and name == "qgnn-semantics":
            continue
        if name == "dense":
            forwards[name] = [lambda x=x, a=a, g=g: std(x, a, g) for x, _, g, a in items]
        elif name == "sparse":
            forwards[name] = [lambda xs=xs, a=a, g=g: std(xs, a, g) for _, xs, g, a in items]
        elif name == "int8-dynamic":
            forwards[name] = [lambda x=x, a=a, g=g: int8(x, a, g) for x, _, g, a in items]
        else:
            forwards[name] = [lambda x=x, g=g: ref_model(x, g) for x, _, g, _ in items]
    if gat:  # the dense definition, computed once per batch (it is O(nodes^2))
        reference = [lambda y=gat_dense_reference(desc, x, g).to(torch.float32): y for x, _, g, _ in items]
    else:
        reference = [lambda x=x, g=g: ref_model(x, g) for x, _, g, _ in items]
    labels = dict(LABELS, **GAT_LABELS) if gat else LABELS
    return (forwards, reference, skipped, density, len(items), sum(g.num_graphs for _, _, g, _ in items), labels,
            "the GAT definition, dense float64 (torch_standard.gat_dense_reference)" if gat else "qgnn.load")


def _agreement(forwards: List[Callable], reference: List[Callable]) -> dict:
    """Max |difference| to the qgnn.nn model's outputs, absolute and over its largest |output|; argmax match."""
    diff, scale, same, rows = 0.0, 0.0, 0, 0
    for f, r in zip(forwards, reference):
        y, ref = f(), r()
        diff = max(diff, float((y - ref).abs().max()) if ref.numel() else 0.0)
        scale = max(scale, float(ref.abs().max()) if ref.numel() else 0.0)
        same += int((y.argmax(1) == ref.argmax(1)).sum())
        rows += ref.shape[0]
    return {"max_abs_diff": diff, "max_rel_diff": diff / scale if scale > 0 else diff,
            "argmax_agreement": same / rows if rows else 1.0}


def run(model_path: str, data_path: str, batch: int, threads: int, warmup: int, repeat: int,
        semantics: str = "standard", sparse: str = "auto", layout: str = "coo") -> dict:
    import torch

    from qgnn.qgd import read_qgd

    torch.set_num_threads(threads)
    gs = read_qgd(data_path)
    forwards, reference, skipped, density, invokes, graphs_per_pass, labels, ref_name = _variants(
        model_path, gs, batch, semantics, sparse, layout)
    with torch.no_grad():
        agreement = {name: _agreement(fs, reference) for name, fs in forwards.items()}
        for name, a in agreement.items():
            if name != "int8-dynamic" and a["max_rel_diff"] > AGREEMENT:
                raise RuntimeError(f"the {name} variant is not the same network as {model_path}: its outputs "
                                   f"differ from {ref_name}'s by {a['max_abs_diff']:.3g} "
                                   f"({a['max_rel_diff']:.2e} of the largest output)")
        samples: Dict[str, List[float]] = {name: [] for name in forwards}
        pass_us: Dict[str, List[float]] = {name: [] for name in forwards}
        for p in range(warmup + repeat):
            for name, fs in forwards.items():
                total = 0.0
                for f in fs:
                    t0 = time.perf_counter_ns()
                    f()
                    us = (time.perf_counter_ns() - t0) / 1000.0
                    total += us
                    if p >= warmup:
                        samples[name].append(us)
                if p >= warmup:
                    pass_us[name].append(total)
    graphs_per_invoke = graphs_per_pass / invokes
    variants = {}
    for name in forwards:
        s = sorted(samples[name])
        variants[name] = {
            "label": labels[name],
            "invoke_us": {"p50": _percentile(s, 50), "p99": _percentile(s, 99), "mean": sum(s) / len(s),
                          "min": s[0], "max": s[-1]},
            "graph_us": _percentile(s, 50) / graphs_per_invoke,
            "graphs_per_s": 1e6 * graphs_per_pass * repeat / sum(pass_us[name]),
            "pass_us": pass_us[name],
            "vs_qgnn_nn": agreement[name],
        }
    return {
        "model": model_path,
        "data": data_path,
        "framework": f"PyTorch {torch.__version__} eager (float32; INT8 engine {torch.backends.quantized.engine})",
        "python": platform.python_version(),
        "options": {"batch": batch, "threads": threads, "warmup": warmup, "repeat": repeat,
                    "semantics": semantics, "sparse": sparse, "layout": layout},
        "feature_density": density,
        "reference": ref_name,  # what vs_qgnn_nn compares with
        "graphs_per_pass": graphs_per_pass,
        "invokes_per_pass": invokes,
        "variants": variants,
        "skipped": skipped,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="float .qgnn model")
    ap.add_argument("data", help=".qgd data set")
    ap.add_argument("--semantics", choices=sorted(SEMANTICS), default="standard",
                    help="standard: PyG's formulation (dense, sparse, int8-dynamic); qgnn: PyTorch running qgnn's "
                         "aggregate-first semantics; all: both")
    ap.add_argument("--sparse", choices=("auto", "yes", "no"), default="auto",
                    help=f"sparse-feature variant: auto = when at most {SPARSE_AUTO_DENSITY * 100:.0f} %% of the "
                         "features are non-zero")
    ap.add_argument("--layout", choices=("coo", "csr"), default="coo",
                    help="torch sparse layout of the adjacency and the sparse features (COO was the faster on "
                         "Cora with torch 1.13)")
    ap.add_argument("--batch", type=int, default=1, help="graphs per forward (graph classification)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--warmup", type=int, default=2, help="untimed passes")
    ap.add_argument("--repeat", type=int, default=10, help="timed passes")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if min(args.batch, args.threads, args.repeat) < 1 or args.warmup < 0:
        print("pytorch_baseline: error: --batch, --threads and --repeat must be >= 1, --warmup >= 0",
              file=sys.stderr)
        return 2
    try:
        r = run(args.model, args.data, args.batch, args.threads, args.warmup, args.repeat, args.semantics,
                args.sparse, args.layout)
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: torch's shape mismatch, model vs data
        print(f"pytorch_baseline: error: {args.model} on {args.data}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"{r['framework']}: {r['model']} on {r['data']}, batch {args.batch}, {args.threads} thread(s), "
          f"features {r['feature_density'] * 100:.2f} % non-zero")
    for name, v in r["variants"].items():
        lat, agree = v["invoke_us"], v["vs_qgnn_nn"]
        print(f"  {name:<15} forward p50 {lat['p50']:.1f} us  p99 {lat['p99']:.1f} us  mean {lat['mean']:.1f} us; "
              f"per graph {v['graph_us']:.2f} us, {v['graphs_per_s']:.1f} graphs/s; vs {r['reference']}: max rel diff "
              f"{agree['max_rel_diff']:.1e}, argmax {agree['argmax_agreement'] * 100:.1f} %")
        print(f"  {'':<15} {v['label']}")
    for name, why in r["skipped"].items():
        print(f"  {name:<15} skipped: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
