"""A data set through the simulator exactly as `qgnn-run MODEL DATA --split S [--fold K] --batch B` runs it
(tools/run/evaluate.cc), so that `outputs_sha256` can be compared directly.

  * graph classification: the split's graphs in split order, `batch` graphs per invoke (relabelled to
    0..n-1, converter::extract_graphs); the hash covers every batch's logits in order, i.e. one int8 row per
    graph of the split; every graph is scored against its label;
  * node classification: ONE invoke over the whole data set (all graphs, graph_ptr {0, N}); the hash covers
    the logits of ALL nodes (not just the split's), --batch is ignored; only the split's nodes are scored;
  * INT8-input models: the float features are quantized with quantize_float(x, input scale (column_scales[k]
    for column k when the model has them), zero point, 8 bits) before the invoke, like qgnn-run;
  * the hash is SHA-256 over the raw int8 logits bytes (rows x classes, row-major; int4 logits as int8 values).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from ..folds import Selection, select_split
from ..qgd import GRAPH_CLASSIFICATION, GraphSet
from ..model_file import ModelDesc
from .engine import ModelLike, input_scales, load_model, run
from .numerics import quantize_float

_TASK_NAMES = {GRAPH_CLASSIFICATION: "graph classification"}


def _task_name(task: int) -> str:
    return _TASK_NAMES.get(task, "node classification")


@dataclass
class Batch:
    """Graphs of a data set relabelled to nodes 0..num_nodes-1 (converter::GraphBatch)."""

    row_ptr: np.ndarray
    col_idx: np.ndarray
    graph_ptr: np.ndarray
    features: np.ndarray
    labels: np.ndarray  # one per graph (graph task) or per node (node task)

    @property
    def num_nodes(self) -> int:
        return int(self.row_ptr.shape[0]) - 1

    @property
    def num_graphs(self) -> int:
        return int(self.graph_ptr.shape[0]) - 1


def extract_graphs(gs: GraphSet, graphs: Sequence[int]) -> Batch:
    """converter::extract_graphs: the graphs `graphs` (in that order, repeats allowed) as one batch."""
    g = np.asarray(graphs, dtype=np.int64).reshape(-1)
    if g.size and (int(g.min()) < 0 or int(g.max()) >= gs.num_graphs):
        raise ValueError(f"graph index out of range ({gs.num_graphs} graphs)")
    gp = gs.graph_ptr.astype(np.int64)
    rp = gs.row_ptr.astype(np.int64)
    first, end = gp[g], gp[g + 1]
    counts = end - first
    batch_gp = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    nodes = np.concatenate([np.arange(a, b) for a, b in zip(first, end)]) if g.size else np.zeros(0, np.int64)
    nodes = nodes.astype(np.int64)
    degree = rp[nodes + 1] - rp[nodes]
    batch_rp = np.concatenate([[0], np.cumsum(degree)]).astype(np.int64)
    edges = (np.concatenate([np.arange(rp[a], rp[b]) for a, b in zip(first, end)]) if g.size
             else np.zeros(0, np.int64)).astype(np.int64)
    edges_per_graph = rp[end] - rp[first]
    offset = np.repeat(batch_gp[:-1] - first, edges_per_graph)  # global id -> batch id
    col = gs.col_idx.astype(np.int64)[edges] + offset
    if gs.task == GRAPH_CLASSIFICATION:
        labels = gs.labels[g] if gs.labels.size else np.zeros(0, np.int32)
    else:
        labels = gs.labels[nodes] if gs.labels.size else np.zeros(0, np.int32)
    return Batch(batch_rp, col, batch_gp, gs.features[nodes], labels)


def split_indices(gs: GraphSet, split: str, fold: Optional[int] = None) -> np.ndarray:
    """The graphs (or scored nodes) of `split`, of cross-validation fold `fold` when given (qgnn.folds)."""
    return select_split(gs, split, fold).indices.astype(np.int64)


@dataclass
class EvalResult:
    task: int
    split: str
    batch: int
    graphs: int  # graphs run (node task: 1)
    nodes: int
    invokes: int
    evaluated: int
    correct: int
    has_labels: bool
    outputs_sha256: str
    selection: Optional[Selection] = None

    @property
    def accuracy(self) -> Optional[float]:
        return self.correct / self.evaluated if self.has_labels and self.evaluated > 0 else None

    def to_json(self) -> dict:
        return {
            "task": "graph_classification" if self.task == GRAPH_CLASSIFICATION else "node_classification",
            "split": self.split,
            "fold": None if self.selection is None else self.selection.fold,
            "selection": None if self.selection is None else self.selection.to_json(),
            "batch": self.batch if self.task == GRAPH_CLASSIFICATION else 1,
            "graphs": self.graphs,
            "nodes": self.nodes,
            "invokes": self.invokes,
            "evaluated": self.evaluated,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "outputs_sha256": self.outputs_sha256,
        }


def _check_fit(qm: ModelDesc, gs: GraphSet) -> None:
    if qm.task != gs.task:
        raise ValueError(f"the model does {_task_name(qm.task)} but data set \"{gs.name}\" is for "
                         f"{_task_name(gs.task)}")
    if gs.feature_dim != qm.input_dim:
        raise ValueError(f"the model takes {qm.input_dim} features per node, data set \"{gs.name}\" has "
                         f"{gs.feature_dim}")
    if gs.num_classes != qm.num_classes:
        raise ValueError(f"the model predicts {qm.num_classes} classes, data set \"{gs.name}\" has "
                         f"{gs.num_classes}")


def _features(qm: ModelDesc, features: np.ndarray) -> np.ndarray:
    if qm.input_int8:  # qgnn-run hands int8 features to INT8-input models
        q = qm.input_quant
        return quantize_float(features, input_scales(qm), q.zero_point, 8).astype(np.int8)
    return features


def evaluate(model: ModelLike, gs: GraphSet, split: str = "all", batch: int = 1,
             logits_out: Optional[List[np.ndarray]] = None, fold: Optional[int] = None) -> EvalResult:
    """Run `model` over `split` of `gs` (of cross-validation fold `fold` when given) like qgnn-run; optionally
    collect each invoke's int8 logits."""
    qm = load_model(model)
    _check_fit(qm, gs)
    if batch < 1:
        raise ValueError("--batch must be >= 1")
    selection = select_split(gs, split, fold)
    idx = selection.indices.astype(np.int64)
    has_labels = gs.labels.size > 0
    digest = hashlib.sha256()
    evaluated = correct = graphs = nodes = invokes = 0

    def one(b: Batch, scored_rows: np.ndarray) -> None:
        nonlocal evaluated, correct, graphs, nodes, invokes
        res = run(qm, _features(qm, b.features), b.row_ptr, b.col_idx, b.graph_ptr)
        logits = np.ascontiguousarray(res.logits_q, dtype=np.int8)
        digest.update(logits.tobytes())
        if logits_out is not None:
            logits_out.append(logits)
        invokes += 1
        graphs += b.num_graphs
        nodes += b.num_nodes
        if has_labels:
            rows = scored_rows[(scored_rows < logits.shape[0]) & (scored_rows < b.labels.shape[0])]
            evaluated += int(rows.size)
            correct += int(np.count_nonzero(res.argmax[rows] == b.labels[rows]))

    if gs.task == GRAPH_CLASSIFICATION:
        for start in range(0, idx.size, batch):
            b = extract_graphs(gs, idx[start:start + batch])
            one(b, np.arange(b.num_graphs))
    else:  # the whole set in one invoke, seen as one graph; the split names the scored nodes
        b = extract_graphs(gs, np.arange(gs.num_graphs))
        b.graph_ptr = np.array([0, b.num_nodes], dtype=np.int64)
        one(b, idx)
        graphs = 1
    return EvalResult(gs.task, split, batch, graphs, nodes, invokes, evaluated, correct, has_labels,
                      digest.hexdigest(), selection)
