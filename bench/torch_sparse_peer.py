#!/usr/bin/python3
"""torch.sparse.mm FP32 on the CSR graphs of qgnn-bench-peers (issue 15's peer table): y = A x + x, F = 64,
one thread, median CPU time over rounds, the same byte model as qgnn-bench-peers.

    /usr/bin/python3 bench/torch_sparse_peer.py DIR/cora.qcsr DIR/pl1m.qcsr ... [--cols 64] [--rounds 7]
        [--min-round-s 0.05] [--json out.json]

The .qcsr files are the exact CSR bytes the C++ benchmark timed (qgnn-bench-peers --dump-csr DIR):
"QCSR0001", int64 nodes, int64 edges, int32 row_ptr[nodes + 1], int32 col_idx[edges], little-endian; row i
lists the sources of the edges into i. A is torch's sparse CSR (int64 indices, explicit FP32 ones; a repeated
edge counts once per occurrence, as in qgnn), and each call is `torch.sparse.mm(A, x).add_(x)`: the sum over
in-neighbours plus the self term, like the other engines. Features are uniform in [-1, 1) from a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

MAGIC = b"QCSR0001"


def read_qcsr(path: Path):
    data = path.read_bytes()
    if len(data) < 24 or data[:8] != MAGIC:
        raise ValueError(f"{path}: not a .qcsr file (qgnn-bench-peers --dump-csr)")
    nodes, edges = (int(v) for v in np.frombuffer(data, "<i8", 2, 8))
    if nodes < 0 or edges < 0 or len(data) != 24 + 4 * (nodes + 1) + 4 * edges:
        raise ValueError(f"{path}: {len(data)} bytes do not hold {nodes} nodes and {edges} edges")
    row_ptr = np.frombuffer(data, "<i4", nodes + 1, 24).astype(np.int64)
    col_idx = np.frombuffer(data, "<i4", edges, 24 + 4 * (nodes + 1)).astype(np.int64)
    if row_ptr[0] != 0 or row_ptr[-1] != edges or np.any(np.diff(row_ptr) < 0) or \
            (edges and (col_idx.min() < 0 or col_idx.max() >= nodes)):
        raise ValueError(f"{path}: invalid CSR (row pointers or column indices out of range)")
    return nodes, row_ptr, col_idx


def measure(name: str, nodes: int, row_ptr, col_idx, cols: int, rounds: int, min_round_s: float) -> dict:
    import torch
    # torch 1.13 flags its CSR support as beta on every construction; the message says nothing about this run.
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    edges = len(col_idx)
    rows = np.repeat(np.arange(nodes, dtype=np.int64), np.diff(row_ptr))
    # coalesce() sorts each row and sums repeated edges into one entry of value 2, ..., so the CSR torch
    # requires (sorted, distinct columns) computes the same sums as the raw edge list.
    a = torch.sparse_coo_tensor(torch.from_numpy(np.stack([rows, col_idx])), torch.ones(edges),
                                (nodes, nodes)).coalesce().to_sparse_csr()
    x = torch.from_numpy(np.random.default_rng(20240615).uniform(-1, 1, (nodes, cols)).astype(np.float32))

    def call():
        return torch.sparse.mm(a, x).add_(x)

    y = call()
    # Check a few rows against numpy: same sums (float64 reference, FP32 tolerance).
    xs = x.numpy().astype(np.float64)
    for i in list(range(min(nodes, 50))) + [int(np.argmax(np.diff(row_ptr)))]:
        expected = xs[i] + xs[col_idx[row_ptr[i]:row_ptr[i + 1]]].sum(axis=0)
        bound = 2 * (row_ptr[i + 1] - row_ptr[i] + 1) * np.finfo(np.float32).eps * \
            (np.abs(xs[i]) + np.abs(xs[col_idx[row_ptr[i]:row_ptr[i + 1]]]).sum(axis=0))
        if np.any(np.abs(y[i].numpy() - expected) > bound):
            raise RuntimeError(f"{name}: torch.sparse.mm row {i} differs from the direct sum")
    warm = time.perf_counter()
    call()
    warm = time.perf_counter() - warm
    calls = max(1, min(1000, int(np.ceil(min_round_s / max(warm, 1e-9)))))
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(calls):
            call()
        cpu.append((time.thread_time() - c0) / calls)
        wall.append((time.perf_counter() - w0) / calls)
    s = statistics.median(cpu)
    row = 4.0 * cols
    # torch's CSR: int64 crow / col indices and explicit FP32 values (the byte model of qgnn-bench-peers).
    nbytes = 8.0 * (nodes + 1) + 8.0 * a.col_indices().numel() + 4.0 * a.values().numel() + \
        edges * row + nodes * row + nodes * row
    return {"name": name, "nodes": nodes, "edges": edges, "label": "torch.sparse.mm FP32 (CSR) + x",
            "median_s": s, "median_wall_s": statistics.median(wall), "round_cpu_s": cpu, "round_wall_s": wall,
            "calls_per_round": calls, "bytes": nbytes, "edges_per_s": edges / s, "bytes_per_s": nbytes / s,
            "torch": torch.__version__}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("graphs", nargs="+", type=Path, help=".qcsr files (qgnn-bench-peers --dump-csr)")
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-round-s", type=float, default=0.05)
    ap.add_argument("--json", type=Path, help="write the results here (atomically)")
    args = ap.parse_args(argv)
    if args.cols < 1 or args.rounds < 1:
        ap.error("--cols and --rounds must be at least 1")
    import torch
    torch.set_num_threads(1)
    results = []
    try:
        for path in args.graphs:
            nodes, row_ptr, col_idx = read_qcsr(path)
            r = measure(path.stem, nodes, row_ptr, col_idx, args.cols, args.rounds, args.min_round_s)
            print(f"{r['name']}: {r['nodes']} nodes, {r['edges']} edges: {r['median_s'] * 1e3:.3f} ms, "
                  f"{r['edges_per_s'] / 1e6:.1f} M edges/s", file=sys.stderr)
            results.append(r)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"torch_sparse_peer: error: {e}", file=sys.stderr)
        return 1
    out = {"threads": torch.get_num_threads(), "cols": args.cols, "rounds": args.rounds, "graphs": results}
    if args.json:
        fd, tmp = tempfile.mkstemp(dir=args.json.parent, prefix=args.json.name + ".")
        with os.fdopen(fd, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, args.json)
    else:
        json.dump(out, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
