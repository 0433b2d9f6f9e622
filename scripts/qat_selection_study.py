#!/usr/bin/python3
"""How QAT's epoch-selection rules compare, measured on the runs of scripts/robustness_table.py (docs/qat.md
"Epoch selection"; NOT run in CI).

    PYTHONPATH=python /usr/bin/python3 scripts/qat_selection_study.py --work /tmp/qgnn-robustness \
        --curves /tmp/curves.json [--runs mutag/raw/0,mutag/raw/1,...] [--bits 4]

For every run (data set / variant / fold or seed, whose FP32 model --work holds) it fine-tunes exactly as
`python3 -m qgnn.train --init fp32.qgnn --qat --bits B` does (seed 0 on the graph sets' folds, the seed on the node
sets) and records, after calibration and after every epoch, each train / val / test item's correctness and
cross-entropy under the quantized model (its eval forward = qgnn-run's integer result). The curves go to the JSON
file (atomically, after every run; runs it holds are skipped). Then it prints, per row (data set / variant), the
mean test Δ against FP32 of the epoch each rule keeps, with the standard error of that mean over the runs:

  loss      the lowest val cross-entropy (qgnn.train.quant.select_epoch, the committed rule)
  acc-1se   the latest epoch within one standard error sqrt(p (1 - p) / n) of the best val accuracy (the old rule)
  acc       the best val accuracy (ties: the earliest)
  start     epoch 0, the PTQ start;  last: the last epoch
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import numpy as np  # noqa: E402

from qgnn import load  # noqa: E402
from qgnn._atomic import write_bytes_atomic  # noqa: E402
from qgnn.qgd import GRAPH_CLASSIFICATION, read_qgd  # noqa: E402
from qgnn.train import SPLITS, fold_split, item_scores  # noqa: E402
from qgnn.train import quant  # noqa: E402
from qgnn.train.cli import _hyper, _parser, _qat_config  # noqa: E402

MODELS = {"mutag": "gin", "nci1": "gin", "imdb-binary": "gin", "cora": "gcn", "pubmed": "gcn"}


def record(work: Path, run: str, bits: int) -> dict:
    """One run's per-epoch, per-item scores (the fine-tuning of `qgnn.train --init --qat --bits`)."""
    ds, variant, k = run.split("/")
    gs = read_qgd(work / ds / f"{variant}.qgd")
    graph = gs.task == GRAPH_CLASSIFICATION
    data = fold_split(gs, int(k)) if graph else gs
    args = _parser().parse_args(["--data", "-", "--model", MODELS[ds], "--qat", "--bits", str(bits), "-o", "-"])
    hp, cfg = _hyper(args, gs.task), _qat_config(args, gs.task)
    model = load(str(work / ds / f"{variant}-{k}" / "fp32.qgnn"))
    curves = {s: {"correct": [], "loss": []} for s in SPLITS}

    class Recorded(quant._BestEpoch):
        def __call__(self, epoch: int) -> None:
            super().__call__(epoch)
            for s in SPLITS:
                correct, loss = item_scores(self.q, self.gs, s)
                curves[s]["correct"].append(correct.astype(int).tolist())
                curves[s]["loss"].append(loss.tolist())

    plain = quant._BestEpoch
    quant._BestEpoch = Recorded
    try:
        q, _ = quant.quantization_aware_training(model, data, cfg, weight_decay=hp.weight_decay,
                                                 batch_size=hp.batch_size, seed=0 if graph else int(k),
                                                 log=lambda *_: None)
    finally:
        quant._BestEpoch = plain
    fp32 = {s: float(item_scores(model, data, s)[0].mean()) for s in SPLITS}
    return {"curves": curves, "selected": q.selection.best_epoch, "fp32": fp32}


def _accuracies(r: dict, split: str = "val") -> np.ndarray:
    return np.array([np.mean(c) for c in r["curves"][split]["correct"]])


def rule_loss(r: dict) -> int:
    return quant.select_epoch([float(np.mean(v)) for v in r["curves"]["val"]["loss"]])


def rule_acc_1se(r: dict) -> int:
    acc = _accuracies(r)
    n = len(r["curves"]["val"]["correct"][0])
    best = acc.max()
    margin = math.sqrt(best * (1 - best) / n)
    return int(max(e for e, a in enumerate(acc) if a >= best - margin - 1e-12))


RULES = {"loss": rule_loss, "acc-1se": rule_acc_1se, "acc": lambda r: int(np.argmax(_accuracies(r))),
         "start": lambda r: 0, "last": lambda r: len(r["curves"]["val"]["loss"]) - 1}


def report(results: dict) -> str:
    rows = defaultdict(list)
    for run, r in results.items():
        rows[tuple(run.split("/")[:2])].append(r)
    lines = ["| row | runs | FP32 | " + " | ".join(RULES) + " |", "|---" * (len(RULES) + 3) + "|"]
    for key in sorted(rows):
        rs = rows[key]
        cells = []
        for rule in RULES.values():
            d = np.array([_accuracies(r, "test")[rule(r)] - r["fp32"]["test"] for r in rs]) * 100
            se = d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else float("nan")
            cells.append(f"{d.mean():+.2f} ± {se:.2f}")
        fp = np.mean([r["fp32"]["test"] for r in rs]) * 100
        lines.append(f"| {'/'.join(key)} | {len(rs)} | {fp:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, type=Path, help="scripts/robustness_table.py's --work directory")
    ap.add_argument("--curves", required=True, type=Path, help="JSON file of the recorded curves (read, extended)")
    ap.add_argument("--runs", default="", help="DATASET/VARIANT/RUN,... to record (default: only report)")
    ap.add_argument("--bits", type=int, default=4, choices=(4, 8))
    args = ap.parse_args(argv)
    results = json.loads(args.curves.read_text()) if args.curves.exists() else {}
    for run in filter(None, args.runs.split(",")):
        if run in results:
            continue
        if len(run.split("/")) != 3 or run.split("/")[0] not in MODELS:
            ap.error(f"--runs: {run!r} is not DATASET/VARIANT/RUN with DATASET one of {', '.join(MODELS)}")
        ds, variant, k = run.split("/")
        fp32 = args.work / ds / f"{variant}-{k}" / "fp32.qgnn"
        if not fp32.is_file():
            ap.error(f"--runs: {run}: no {fp32} (scripts/robustness_table.py --work makes it)")
        results[run] = record(args.work, run, args.bits)
        write_bytes_atomic(args.curves, json.dumps(results).encode())
        print(f"{run}: kept epoch {results[run]['selected']}", file=sys.stderr, flush=True)
    if not results:
        ap.error(f"{args.curves} holds no runs; name some with --runs")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
