"""Batching a GraphSet for PyTorch, accuracy, and a small full-featured training loop for graph
classification (used by scripts/train_demo_model.py)."""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from .nn import Graph, predict
from .qgd import GRAPH_CLASSIFICATION, GraphSet


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
    return torch.from_numpy(gs.features), Graph(gs.row_ptr, gs.col_idx, gs.graph_ptr)


def predictions(model: torch.nn.Module, gs: GraphSet, split: str = "test") -> Tuple[np.ndarray, np.ndarray]:
    """(predicted, true) labels of a split, in the split's index order."""
    idx = gs.split(split).astype(np.int64)
    if gs.task == GRAPH_CLASSIFICATION:
        x, graph, labels = batch_graphs(gs, idx)
        return predict(model, x, graph).numpy(), labels.numpy()
    x, graph = whole(gs)
    return predict(model, x, graph).numpy()[idx], gs.labels[idx].astype(np.int64)


def accuracy(model: torch.nn.Module, gs: GraphSet, split: str = "test") -> float:
    pred, true = predictions(model, gs, split)
    return float((pred == true).mean()) if true.size else float("nan")


def train_graph_classifier(model: torch.nn.Module, gs: GraphSet, *, epochs: int = 100, batch_size: int = 32,
                           lr: float = 0.01, weight_decay: float = 0.0, seed: int = 0,
                           log_every: Optional[int] = None) -> Dict[str, float]:
    """Adam + cross-entropy on the train split, shuffled mini-batches (seeded). Returns final accuracies."""
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
            train_acc, val_acc = accuracy(model, gs, "train"), accuracy(model, gs, "val")
            print(f"epoch {epoch:4d}  loss {total / train.size:.4f}  train acc {train_acc:.4f}  "
                  f"val acc {val_acc:.4f}")
    return {s: accuracy(model, gs, s) for s in ("train", "val", "test")}
