#!/usr/bin/env python3
"""Train the bundled demo model: a small GIN on MUTAG (fold-0 split of models/mutag.qgd), exported as a
float .qgnn whose description records this command and the accuracies measured here.

Run from the repository root (scripts/make_demo_models.sh does):
    PYTHONPATH=python /usr/bin/python3 scripts/train_demo_model.py --data models/mutag.qgd \
        -o models/mutag_gin_f32.qgnn
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

# One thread everywhere: multi-threaded BLAS changes the float summation order and with it the trained
# weights. Must be set before numpy/torch load OpenBLAS.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

import torch  # noqa: E402

import qgnn  # noqa: E402
from qgnn import nn as qnn  # noqa: E402
from qgnn.io import read_qgd  # noqa: E402
from qgnn.train import accuracy, train_graph_classifier  # noqa: E402


def build_model(in_dim: int, hidden: int, layers: int, classes: int) -> qnn.GraphModel:
    convs = [qnn.GINConv(qnn.gin_mlp([in_dim if k == 0 else hidden, hidden, hidden], batch_norm=True),
                         relu=True) for k in range(layers)]
    return qnn.GraphModel(*convs, qnn.GlobalPool("sum"), qnn.Linear(hidden, classes))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="models/mutag.qgd")
    ap.add_argument("-o", "--output", default="models/mutag_gin_f32.qgnn")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    command = " ".join(shlex.quote(a) for a in ["python3", "scripts/train_demo_model.py"] + sys.argv[1:])

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    gs = read_qgd(args.data)
    model = build_model(gs.feature_dim, args.hidden, args.layers, gs.num_classes)
    acc = train_graph_classifier(model, gs, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                 seed=args.seed, log_every=max(1, args.epochs // 4))
    counts = {s: gs.split(s).size for s in ("train", "val", "test")}
    summary = ", ".join(f"{s} {acc[s]:.4f} ({round(acc[s] * counts[s])}/{counts[s]})" for s in counts)
    description = (
        f"GIN on {gs.name}: {args.layers} x GINConv(eps 0, MLP Linear-BatchNorm-ReLU-Linear, hidden "
        f"{args.hidden}, ReLU; BatchNorm folded at export), sum pooling, Linear -> {gs.num_classes} classes. "
        f"Trained in float "
        f"on the fold-0 train split of {Path(args.data).name} (Adam lr {args.lr}, halved at epoch "
        f"{max(1, args.epochs // 2)}, {args.epochs} epochs, batch {args.batch_size}, seed {args.seed}, torch "
        f"{torch.__version__}, 1 thread) by: PYTHONPATH=python {command}. "
        f"Float accuracy measured in PyTorch: {summary}."
    )
    qgnn.export(model, args.output, name=f"{gs.name.lower()}_gin", description=description,
                class_names=gs.class_names)
    reloaded = qgnn.load(args.output)
    check = {s: accuracy(reloaded, gs, s) for s in counts}
    if check != acc:
        print(f"error: the exported model scores {check}, the trained one {acc}", file=sys.stderr)
        return 1
    size = Path(args.output).stat().st_size
    print(f"wrote {args.output} ({size} bytes); accuracy {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
