#!/usr/bin/python3
"""Issue 14's accuracy target, measured: transform-first Cora GCN (1433 -> 16 -> 7, both layers transform-first
by the auto rule) at INT8 PTQ, INT8 QAT and INT4 QAT against FP32, per seed, with qgnn.train's defaults (the
same code path as `python3 -m qgnn.train --data cora.qgd --model gcn [--qat [--bits 4] [--qat-epochs 0]]`);
quantized accuracies are qgnn.sim's on the quantized model (= qgnn-run, bit for bit).

    PYTHONPATH=python /usr/bin/python3 scripts/tf_accuracy.py --data cora.qgd --seeds 10 --cache tf_acc.json

Each seed's results go to the JSON cache as they finish (a rerun skips the seeds it holds); the summary is a
markdown table (mean +- std of the test accuracy, and the mean and worst per-seed difference to FP32)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from qgnn._atomic import write_bytes_atomic  # noqa: E402
from qgnn.qgd import read_qgd  # noqa: E402
from qgnn.train import Hyper, fit  # noqa: E402
from qgnn.train.quant import QATConfig, quantization_aware_training, sim_accuracy  # noqa: E402

METHODS = {"INT8 PTQ": QATConfig(bits=8, epochs=0), "INT8 QAT": QATConfig(bits=8), "INT4 QAT": QATConfig(bits=4)}


def run_seed(data, seed: int) -> dict:
    hp = Hyper.defaults(data.task)
    model, facc = fit("gcn", data, hp, seed=seed, log=lambda *_: None)
    out = {"FP32": facc["test"]}
    for name, cfg in METHODS.items():
        q, _ = quantization_aware_training(model, data, cfg, weight_decay=hp.weight_decay, seed=seed,
                                           log=lambda *_: None)
        qm = q.quantized_model(task=data.task)
        orders = sorted({layer.order for layer in qm.layers})
        if orders != ["transform-first"]:
            raise RuntimeError(f"seed {seed} {name}: layers run {orders}, expected transform-first")
        out[name] = sim_accuracy(qm, data, splits=("test",))["test"]
    return out


def table(results: dict) -> str:
    seeds = sorted(results, key=int)
    fp = np.array([results[s]["FP32"] for s in seeds]) * 100
    lines = [f"| method | test accuracy, {len(seeds)} seeds | Δ vs FP32 (mean) | Δ worst seed |", "|---|---|---|---|",
             f"| FP32 | {fp.mean():.2f} ± {fp.std():.2f} % | | |"]
    for name in METHODS:
        v = np.array([results[s][name] for s in seeds]) * 100
        d = v - fp
        lines.append(f"| {name} (transform-first) | {v.mean():.2f} ± {v.std():.2f} % | {d.mean():+.2f} | "
                     f"{d.min():+.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="Cora .qgd (python3 -m qgnn.data planetoid ...)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--cache", required=True, help="JSON file of per-seed results (read and extended)")
    args = ap.parse_args(argv)
    data = read_qgd(args.data)
    cache = Path(args.cache)
    results = json.loads(cache.read_text()) if cache.exists() else {}
    for seed in range(args.seeds):
        if str(seed) in results:
            continue
        t0 = time.time()
        results[str(seed)] = run_seed(data, seed)
        write_bytes_atomic(cache, json.dumps(results, indent=1).encode())
        print(f"seed {seed}: {results[str(seed)]} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
