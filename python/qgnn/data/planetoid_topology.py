"""Import only the graph, labels and public split of a Planetoid set: for PubMed, whose ind.pubmed.allx is not
published (only the 60 train + 1000 test nodes have features), so the full importer cannot run.

Same node order, labels, edges and split as qgnn.data.planetoid (ally and ty placed as the GCN reference loader
does), but the features are an empty [num_nodes, 0] matrix: `python3 -m qgnn.data variant synthetic-features`
gives the set features afterwards.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..qgd import NODE_CLASSIFICATION, GraphSet
from .common import DataError, edges_to_csr
from .planetoid import NUM_VAL, _dense, _load


def import_planetoid_topology(directory, name: str) -> GraphSet:
    d = Path(directory)
    p = lambda suffix: d / f"ind.{name}.{suffix}"  # noqa: E731
    y, ty, ally = (_dense(_load(p(s)), p(s)) for s in ("y", "ty", "ally"))
    graph = _load(p("graph"))
    if not isinstance(graph, dict):
        raise DataError(f"{p('graph')}: expected a dict of adjacency lists, got {type(graph).__name__}")
    try:
        test_reorder = np.array([int(s) for s in p("test.index").read_text().split()], dtype=np.int64)
    except FileNotFoundError:
        raise DataError(f"missing file {p('test.index')}") from None
    except ValueError:
        raise DataError(f"{p('test.index')}: not a list of integers") from None
    if len({y.shape[1], ty.shape[1], ally.shape[1]}) != 1:
        raise DataError(f"{d}: y, ty and ally have different numbers of classes")
    if test_reorder.size != ty.shape[0] or test_reorder.size == 0:
        raise DataError(f"{p('test.index')}: {test_reorder.size} ids for {ty.shape[0]} rows of ty")
    num_labeled = ally.shape[0]
    if y.shape[0] + NUM_VAL > num_labeled:
        raise DataError(f"{d}: ally has {num_labeled} rows, fewer than train + {NUM_VAL} val")
    test_sorted = np.sort(test_reorder)
    if np.unique(test_sorted).size != test_sorted.size or test_sorted[0] < num_labeled:
        raise DataError(f"{p('test.index')}: test ids must be distinct and >= {num_labeled} (rows of ally)")
    n = int(test_sorted[-1]) + 1
    onehot = np.zeros((n, ally.shape[1]), np.float32)
    onehot[:num_labeled] = ally
    onehot[test_reorder] = ty
    labels = onehot.argmax(axis=1).astype(np.int32)

    pairs = [(nb, node) for node, neighbours in graph.items() for nb in neighbours]
    src, dst = (np.array(v, dtype=np.int64) for v in zip(*pairs)) if pairs else (np.zeros(0, np.int64),) * 2
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise DataError(f"{p('graph')}: node ids outside 0..{n - 1} ({n} labelled rows)")
    row_ptr, col_idx, stats = edges_to_csr(src, dst, n, symmetric=True)
    filler = n - num_labeled - ty.shape[0]
    description = (
        f"Planetoid {name} topology imported by qgnn.data planetoid --topology-only: {n} nodes, {col_idx.size} "
        f"directed edges ({stats['self_loops']} self-loops dropped, de-duplicated, symmetric), NO features "
        f"(ind.{name}.allx not used), {ally.shape[1]} classes. Public split as in the GCN reference loader: "
        f"train = nodes 0..{y.shape[0] - 1}, val = the next {NUM_VAL}, test = the {test_sorted.size} ids of "
        "test.index." + (f" {filler} ids in the test range are missing from ty (label 0, in no split)."
                         if filler else ""))
    return GraphSet(
        name=name,
        task=NODE_CLASSIFICATION,
        graph_ptr=np.array([0, n]),
        row_ptr=row_ptr,
        col_idx=col_idx,
        features=np.zeros((n, 0), np.float32),
        labels=labels,
        num_classes=int(onehot.shape[1]),
        train=np.arange(y.shape[0], dtype=np.uint32),
        val=np.arange(y.shape[0], y.shape[0] + NUM_VAL, dtype=np.uint32),
        test=test_sorted.astype(np.uint32),
        description=description,
    )
