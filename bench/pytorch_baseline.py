#!/usr/bin/python3
"""PyTorch eager baseline for qgnn-bench: the same network (a float .qgnn read back with qgnn.load, so the
layers are identical) on the same batches of the same .qgd data set, timed the same way.

    PYTHONPATH=python /usr/bin/python3 bench/pytorch_baseline.py MODEL.qgnn DATA.qgd \
        [--batch B] [--threads N] [--warmup W] [--repeat R] [--json]

Batches are built like qgnn-bench's: graph classification cuts all graphs, in order, into batches of B
consecutive graphs; node classification runs the whole graph in one forward. The per-batch index tensors
(qgnn.nn.Graph) are built before timing, as qgnn's setup is not part of its invoke time; a timed forward is
`model(x, graph)` under torch.no_grad() in eval mode, float32. Prints latency per forward (p50 / p99 /
mean, µs), per graph, and graphs/s.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from typing import List, Tuple

import numpy as np


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


def run(model_path: str, data_path: str, batch: int, threads: int, warmup: int, repeat: int) -> dict:
    import torch

    from qgnn import load
    from qgnn.nn import Graph
    from qgnn.qgd import read_qgd

    torch.set_num_threads(threads)
    model = load(model_path)
    model.eval()
    gs = read_qgd(data_path)
    work = []
    graphs_per_pass = 0
    for x, rp, ci, gp in _batches(gs, batch):
        work.append((torch.from_numpy(np.ascontiguousarray(x)), Graph(rp, ci, gp)))
        graphs_per_pass += len(gp) - 1
    samples: List[float] = []
    pass_us: List[float] = []
    with torch.no_grad():
        for p in range(warmup + repeat):
            total = 0.0
            for x, graph in work:
                t0 = time.perf_counter_ns()
                model(x, graph)
                us = (time.perf_counter_ns() - t0) / 1000.0
                total += us
                if p >= warmup:
                    samples.append(us)
            if p >= warmup:
                pass_us.append(total)
    s = sorted(samples)
    graphs_per_invoke = graphs_per_pass / len(work)
    return {
        "model": model_path,
        "data": data_path,
        "framework": f"PyTorch {torch.__version__} eager (float32)",
        "python": platform.python_version(),
        "options": {"batch": batch, "threads": threads, "warmup": warmup, "repeat": repeat},
        "graphs_per_pass": graphs_per_pass,
        "invokes_per_pass": len(work),
        "invoke_us": {"p50": _percentile(s, 50), "p99": _percentile(s, 99), "mean": sum(s) / len(s),
                      "min": s[0], "max": s[-1]},
        "graph_us": _percentile(s, 50) / graphs_per_invoke,
        "graphs_per_s": 1e6 * graphs_per_pass * repeat / sum(pass_us),
        "pass_us": pass_us,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="float .qgnn model")
    ap.add_argument("data", help=".qgd data set")
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
        r = run(args.model, args.data, args.batch, args.threads, args.warmup, args.repeat)
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: torch's shape mismatch, model vs data
        print(f"pytorch_baseline: error: {args.model} on {args.data}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        lat = r["invoke_us"]
        print(f"{r['framework']}: {r['model']} on {r['data']}, batch {args.batch}, {args.threads} thread(s)")
        print(f"  forward p50 {lat['p50']:.1f} us  p99 {lat['p99']:.1f} us  mean {lat['mean']:.1f} us; "
              f"per graph {r['graph_us']:.2f} us, {r['graphs_per_s']:.1f} graphs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
