"""Training float qgnn.nn models on a GraphSet: batching for PyTorch, accuracy, one full-batch loop for node
classification and one mini-batch loop for graph classification, the model zoo of `python3 -m qgnn.train`,
and cross-validation folds (the convention of qgnn.data.tu).

The command line is qgnn/train/cli.py (`python3 -m qgnn.train --help`).
"""

from __future__ import annotations

import dataclasses
import os

# One thread: a multi-threaded BLAS changes the float summation order and with it the trained weights. Only
# takes effect when this module is the first to load numpy/torch (as under `python3 -m qgnn.train`).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import Callable, Dict, List, Optional, Sequence, Tuple  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from .. import nn as qnn  # noqa: E402
from ..nn import Graph, predict  # noqa: E402
from ..model_file import GAT_CONV, GCN_CONV, GIN_CONV, SAGE_CONV  # noqa: E402
from ..folds import fold_split, num_folds  # noqa: E402,F401  (the one definition, re-exported)
from ..qgd import GRAPH_CLASSIFICATION, GraphSet  # noqa: E402

MODELS = ("gcn", "sage", "gin", "gat")  # architectures (the CLI's --model), not layer kinds
MODEL_CONV = {"gcn": GCN_CONV, "sage": SAGE_CONV, "gin": GIN_CONV, "gat": GAT_CONV}  # each one's convolutions
SPLITS = ("train", "val", "test")
EVAL_CHUNK = 4096  # graphs per batch when scoring a graph classification split

Log = Callable[[str], None]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """concat(arange(s, s + c) for s, c in zip(starts, counts)), vectorised."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.repeat(np.asarray(starts, dtype=np.int64) - (np.cumsum(counts) - counts), counts)
    return offsets + np.arange(total, dtype=np.int64)


def batch_graphs(gs: GraphSet, graph_ids: Sequence[int]) -> Tuple[torch.Tensor, Graph, torch.Tensor]:
    """The graphs `graph_ids` (in that order) as one block-diagonal batch: (x, graph, labels)."""
    ids = np.asarray(graph_ids, dtype=np.int64)
    gp, rp = gs.graph_ptr.astype(np.int64), gs.row_ptr.astype(np.int64)
    starts, counts = gp[ids], gp[ids + 1] - gp[ids]
    nodes = _ranges(starts, counts)
    new_gp = np.concatenate([[0], np.cumsum(counts)])
    degree = rp[nodes + 1] - rp[nodes]
    edges = _ranges(rp[nodes], degree)
    shift = np.repeat(np.repeat(new_gp[:-1] - starts, counts), degree)  # old id -> new id, per edge
    row_ptr = np.concatenate([[0], np.cumsum(degree)])
    col_idx = gs.col_idx[edges].astype(np.int64) + shift
    x = torch.from_numpy(gs.features[nodes])
    labels = torch.from_numpy(gs.labels[ids].astype(np.int64))
    return x, Graph(row_ptr, col_idx, new_gp), labels


def whole(gs: GraphSet) -> Tuple[torch.Tensor, Graph]:
    x = gs.features
    # A sparse set's dense copy is read-only, which torch.from_numpy warns about: hand torch its own copy.
    x = x if x.flags.writeable else x.copy()
    return torch.from_numpy(x), Graph(gs.row_ptr, gs.col_idx, gs.graph_ptr)


def predictions(model: torch.nn.Module, gs: GraphSet, split: str = "test") -> Tuple[np.ndarray, np.ndarray]:
    """(predicted, true) labels of a split, in the split's index order. Graphs are scored EVAL_CHUNK at a
    time (graphs are independent in eval mode, so the chunking does not change the result)."""
    idx = gs.split(split).astype(np.int64)
    if gs.task == GRAPH_CLASSIFICATION:
        pred, true = [], []
        for k in range(0, max(idx.size, 1), EVAL_CHUNK):
            x, graph, labels = batch_graphs(gs, idx[k:k + EVAL_CHUNK])
            pred.append(predict(model, x, graph).numpy())
            true.append(labels.numpy())
        return np.concatenate(pred), np.concatenate(true)
    x, graph = whole(gs)
    return predict(model, x, graph).numpy()[idx], gs.labels[idx].astype(np.int64)


def item_scores(model: torch.nn.Module, gs: GraphSet, split: str = "test") -> Tuple[np.ndarray, np.ndarray]:
    """Per item of a split, in its index order: whether the eval-mode prediction is right (argmax, the first on
    ties, as `predictions`) and the item's cross-entropy in nats. One eval forward; QAT's epoch selection reads
    both (accuracy alone moves in steps of 1/n, the loss resolves far smaller changes on small splits)."""
    idx = gs.split(split).astype(np.int64)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if gs.task == GRAPH_CLASSIFICATION:
                parts = [batch_graphs(gs, idx[k:k + EVAL_CHUNK]) for k in range(0, idx.size, EVAL_CHUNK)]
                outs = [(model(x.float(), graph), labels) for x, graph, labels in parts]
                logits = torch.cat([o for o, _ in outs]) if outs else torch.zeros(0, gs.num_classes)
                labels = torch.cat([y for _, y in outs]) if outs else torch.zeros(0, dtype=torch.int64)
            else:
                x, graph = whole(gs)
                logits = model(x.float(), graph)[torch.from_numpy(idx)]
                labels = torch.from_numpy(gs.labels[idx].astype(np.int64))
    finally:
        model.train(was_training)
    correct = (logits.argmax(dim=1) == labels).numpy()
    loss = torch.nn.functional.cross_entropy(logits.double(), labels, reduction="none").numpy()
    return correct, loss


def accuracy(model: torch.nn.Module, gs: GraphSet, split: str = "test") -> float:
    pred, true = predictions(model, gs, split)
    return float((pred == true).mean()) if true.size else float("nan")


def _epoch_log(log: Log, model: torch.nn.Module, gs: GraphSet, epoch: int, loss: float) -> None:
    log(f"epoch {epoch:4d}  loss {loss:.4f}  train acc {accuracy(model, gs, 'train'):.4f}  "
        f"val acc {accuracy(model, gs, 'val'):.4f}")


def train_graph_classifier(model: torch.nn.Module, gs: GraphSet, *, epochs: int = 100, batch_size: int = 32,
                           lr: float = 0.01, weight_decay: float = 0.0, seed: int = 0,
                           log_every: Optional[int] = None, log: Log = print,
                           on_epoch: Optional[Callable[[int], None]] = None) -> Dict[str, float]:
    """Adam + cross-entropy on the train split, shuffled mini-batches (seeded), learning rate halved after
    epochs // 2 epochs. The last epoch's model is kept (no selection; QAT selects in on_epoch, called with
    the epoch number after each epoch). Returns final accuracies."""
    if gs.task != GRAPH_CLASSIFICATION:
        raise ValueError("train_graph_classifier needs a graph classification data set")
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, epochs // 2), gamma=0.5)
    train = gs.train.astype(np.int64)
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(train)
        total = 0.0
        for k in range(0, order.size, batch_size):
            x, graph, labels = batch_graphs(gs, order[k:k + batch_size])
            if labels.numel() < 2 and any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()):
                continue  # BatchNorm cannot train on a single row
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x, graph), labels)
            loss.backward()
            opt.step()
            total += float(loss) * labels.numel()
        sched.step()
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            _epoch_log(log, model, gs, epoch, total / max(train.size, 1))
        if on_epoch is not None:
            on_epoch(epoch)
    return {s: accuracy(model, gs, s) for s in SPLITS}


def train_node_classifier(model: torch.nn.Module, gs: GraphSet, *, epochs: int = 200, lr: float = 0.01,
                          weight_decay: float = 5e-4, log_every: Optional[int] = None,
                          log: Log = print, on_epoch: Optional[Callable[[int], None]] = None) -> Dict[str, float]:
    """Full-batch Adam + cross-entropy on the train nodes (the whole graph is propagated every epoch, the
    loss only sees the train split). The last epoch's model is kept (no selection on val or test; QAT selects
    in on_epoch, called with the epoch number after each epoch)."""
    if gs.task == GRAPH_CLASSIFICATION:
        raise ValueError("train_node_classifier needs a node classification data set")
    x, graph = whole(gs)
    labels = torch.from_numpy(gs.labels.astype(np.int64))
    train = torch.from_numpy(gs.train.astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for epoch in range(1, epochs + 1):
        model.train()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x, graph)[train], labels[train])
        loss.backward()
        opt.step()
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            _epoch_log(log, model, gs, epoch, float(loss))
        if on_epoch is not None:
            on_epoch(epoch)
    return {s: accuracy(model, gs, s) for s in SPLITS}


@dataclasses.dataclass
class Hyper:
    """Model and training settings of one run; `defaults(task)` gives those of `python3 -m qgnn.train`."""

    hidden: int
    layers: int
    epochs: int
    lr: float
    weight_decay: float
    dropout: float
    batch_size: int = 32  # graph classification only
    aggr: str = "mean"  # SAGEConv's neighbour reduction
    pool: str = "sum"  # graph classification readout
    heads: int = 8  # GAT: attention heads of the hidden layers (concatenated; `hidden` features each)
    output_heads: int = 1  # GAT, node classification: heads of the output layer (averaged)

    @staticmethod
    def defaults(task: int, kind: str = "") -> "Hyper":
        if task == GRAPH_CLASSIFICATION:  # the demo GIN's (scripts/train_demo_model.py)
            return Hyper(hidden=32, layers=3, epochs=100, lr=0.01, weight_decay=0.0, dropout=0.0)
        if kind == "gat":  # Veličković et al.'s Cora: 8 heads x 8, 1 output head, dropout 0.6, lr 0.005
            return Hyper(hidden=8, layers=2, epochs=200, lr=0.005, weight_decay=5e-4, dropout=0.6)
        return Hyper(hidden=16, layers=2, epochs=200, lr=0.01, weight_decay=5e-4, dropout=0.5)  # Kipf & Welling


def _width(kind: str, hp: Hyper) -> int:
    """The features a hidden layer outputs: GAT concatenates `heads` heads of `hidden`."""
    return hp.hidden * hp.heads if kind == "gat" else hp.hidden


def _conv(kind: str, d_in: int, d_out: int, relu: bool, hp: Hyper, last: bool = False) -> torch.nn.Module:
    if kind == "gat":  # hidden: `heads` concatenated heads of d_out; a node task's output layer: their mean
        if last:
            return qnn.GATConv(d_in, d_out, heads=hp.output_heads, concat=False, relu=relu, dropout=hp.dropout)
        return qnn.GATConv(d_in, d_out, heads=hp.heads, relu=relu, dropout=hp.dropout)
    if kind == "gcn":
        return qnn.GCNConv(d_in, d_out, relu=relu)
    if kind == "sage":
        return qnn.SAGEConv(d_in, d_out, reduce=hp.aggr, root_weight=True, relu=relu)
    if kind == "gin":
        return qnn.GINConv(qnn.gin_mlp([d_in, d_out, d_out], batch_norm=True), relu=relu)
    raise ValueError(f"unknown model {kind!r} (one of {', '.join(MODELS)})")


def build_model(kind: str, in_dim: int, num_classes: int, task: int, hp: Hyper) -> qnn.GraphModel:
    """The models of `python3 -m qgnn.train`.

    graph classification: `layers` x conv(hidden, ReLU), GlobalPool(pool), [Dropout], Linear(hidden, classes).
      gin = GINConv(MLP Linear-BatchNorm1d-ReLU-Linear, eps 0) (the demo model for the defaults).
    node classification, gcn/sage/gat: [Dropout, conv(hidden, ReLU)] x (layers - 1), Dropout, conv(classes)
      (dropout on the input features too, as in Kipf & Welling's GCN); gin: [Dropout, GINConv(hidden, ReLU)]
      x layers, Dropout, Linear(hidden, classes).
    gat: each hidden GATConv concatenates `heads` heads of `hidden` features (width hidden * heads), a node
      task's output layer averages `output_heads` heads; attention dropout = dropout (Veličković et al.; ReLU
      where the paper has ELU: the runtime's activation is ReLU).
    Dropout modules are left out when dropout is 0; export drops them and folds the BatchNorms.
    """
    if kind not in MODELS:
        raise ValueError(f"unknown model {kind!r} (one of {', '.join(MODELS)})")
    drop = (lambda: [torch.nn.Dropout(hp.dropout)]) if hp.dropout > 0 else (lambda: [])  # noqa: E731
    mods: List[torch.nn.Module] = []
    width = _width(kind, hp)
    if task == GRAPH_CLASSIFICATION:
        for k in range(hp.layers):
            mods.append(_conv(kind, in_dim if k == 0 else width, hp.hidden, True, hp))
        mods += [qnn.GlobalPool(hp.pool)] + drop() + [qnn.Linear(width, num_classes)]
    elif kind == "gin":
        for k in range(hp.layers):
            mods += drop() + [_conv(kind, in_dim if k == 0 else hp.hidden, hp.hidden, True, hp)]
        mods += drop() + [qnn.Linear(hp.hidden, num_classes)]
    else:
        for k in range(hp.layers):
            last = k == hp.layers - 1
            mods += drop() + [_conv(kind, in_dim if k == 0 else width, num_classes if last else hp.hidden,
                                    not last, hp, last)]
    return qnn.GraphModel(*mods)


def describe_model(kind: str, task: int, hp: Hyper, num_classes: int) -> str:
    """One line on what build_model builds (for the model's description)."""
    conv = {"gcn": "GCNConv", "sage": f"SAGEConv({hp.aggr}, root weight)",
            "gin": "GINConv(eps 0, MLP Linear-BatchNorm1d-ReLU-Linear)",
            "gat": f"GATConv({hp.heads} concatenated heads, attention dropout {hp.dropout})"}[kind]
    drop = f"dropout {hp.dropout}" if hp.dropout > 0 else "no dropout"
    if task == GRAPH_CLASSIFICATION:
        return (f"{hp.layers} x {conv} (hidden {hp.hidden}, ReLU), {hp.pool} pooling, {drop}, "
                f"Linear -> {num_classes} classes")
    if kind == "gin":
        return (f"{hp.layers} x {conv} (hidden {hp.hidden}, ReLU), Linear -> {num_classes} classes; "
                f"{drop} before each")
    if kind == "gat":
        return (f"{hp.layers} x {conv} (hidden {hp.hidden} per head, ReLU; the last the mean of "
                f"{hp.output_heads} head(s) -> {num_classes} classes, no ReLU); {drop} before each")
    return (f"{hp.layers} x {conv} (hidden {hp.hidden}, ReLU; the last -> {num_classes} classes, no ReLU); "
            f"{drop} before each")


def fit(kind: str, gs: GraphSet, hp: Hyper, seed: int = 0, log_every: Optional[int] = None,
        log: Log = print) -> Tuple[qnn.GraphModel, Dict[str, float]]:
    """Seed torch, build the model for `gs` and train it on gs.train with the loop of its task. Returns the
    trained model (eval mode) and its train/val/test accuracies. One call = one reproducible run."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model = build_model(kind, gs.feature_dim, gs.num_classes, gs.task, hp)
    if gs.task == GRAPH_CLASSIFICATION:
        acc = train_graph_classifier(model, gs, epochs=hp.epochs, batch_size=hp.batch_size, lr=hp.lr,
                                     weight_decay=hp.weight_decay, seed=seed, log_every=log_every, log=log)
    else:
        acc = train_node_classifier(model, gs, epochs=hp.epochs, lr=hp.lr, weight_decay=hp.weight_decay,
                                    log_every=log_every, log=log)
    return model.eval(), acc


__all__ = [
    "EVAL_CHUNK", "Hyper", "MODELS", "accuracy", "item_scores", "batch_graphs", "build_model", "describe_model", "fit",
    "fold_split",
    "num_folds", "predictions", "train_graph_classifier", "train_node_classifier", "whole",
]
