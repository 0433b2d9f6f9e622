"""Import a Planetoid citation data set (Yang et al. 2016; the files of kimiyoung/planetoid) into a GraphSet.

Follows the GCN reference loader (tkipf/gcn, utils.load_data): features = vstack(allx, tx) and labels =
vstack(ally, ty), with the test rows moved to the node ids listed in ind.NAME.test.index; the public split
is train = the first len(y) nodes, val = the next 500, test = the sorted test ids. When the test ids have
gaps (citeseer's isolated nodes), the missing ids get zero features and label 0 (the argmax of the zero
one-hot row, as in the reference) and belong to no split. Features are row-normalised (rows summing to 0
stay 0). Edges: the adjacency lists, self-loops dropped, de-duplicated and made symmetric.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np

from ..qgd import NODE_CLASSIFICATION, GraphSet
from .common import DataError, edges_to_csr

NUM_VAL = 500


def _load(path: Path):
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            # The pickles name scipy.sparse.csr.csr_matrix, a module path scipy deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            return pickle.load(f, encoding="latin1")
    except FileNotFoundError:
        raise DataError(f"missing file {path}") from None
    except ModuleNotFoundError as exc:
        raise DataError(f"{path}: needs the Python module {exc.name!r} "
                        "(apt-get install python3-scipy)") from None
    except Exception as exc:  # unpickling errors come in many types
        raise DataError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None


def _dense(matrix, path: Path) -> np.ndarray:
    arr = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    if arr.ndim != 2:
        raise DataError(f"{path}: expected a 2-D matrix, got shape {arr.shape}")
    return arr.astype(np.float32)


def import_planetoid(directory, name: str) -> GraphSet:
    d = Path(directory)
    p = lambda suffix: d / f"ind.{name}.{suffix}"  # noqa: E731
    x, y, tx, ty, allx, ally = (_dense(_load(p(s)), p(s)) for s in ("x", "y", "tx", "ty", "allx", "ally"))
    graph = _load(p("graph"))
    if not isinstance(graph, dict):
        raise DataError(f"{p('graph')}: expected a dict of adjacency lists, got {type(graph).__name__}")
    try:
        lines = p("test.index").read_text().split()
    except FileNotFoundError:
        raise DataError(f"missing file {p('test.index')}") from None
    try:
        test_reorder = np.array([int(s) for s in lines], dtype=np.int64)
    except ValueError:
        raise DataError(f"{p('test.index')}: not a list of integers") from None

    f = allx.shape[1]
    for arr, s in ((x, "x"), (tx, "tx")):
        if arr.shape[1] != f:
            raise DataError(f"{p(s)}: {arr.shape[1]} feature columns, allx has {f}")
    if y.shape[0] != x.shape[0] or ally.shape[0] != allx.shape[0] or ty.shape[0] != tx.shape[0]:
        raise DataError(f"{d}: row counts of x/y, allx/ally or tx/ty disagree")
    if test_reorder.size != tx.shape[0]:
        raise DataError(f"{p('test.index')}: {test_reorder.size} ids for {tx.shape[0]} rows of tx")
    if len({y.shape[1], ty.shape[1], ally.shape[1]}) != 1:
        raise DataError(f"{d}: y, ty and ally have different numbers of classes")
    if y.shape[0] + NUM_VAL > allx.shape[0]:
        raise DataError(f"{d}: allx has {allx.shape[0]} rows, fewer than train + {NUM_VAL} val")

    num_labeled = allx.shape[0]
    test_sorted = np.sort(test_reorder)
    if np.unique(test_sorted).size != test_sorted.size or test_sorted[0] < num_labeled:
        raise DataError(f"{p('test.index')}: test ids must be distinct and >= {num_labeled} (rows of allx)")
    # Row test_reorder[k] is tx[k] (the reference code's reordering). Ids in the test range that tx does not
    # cover (gaps, e.g. citeseer's isolated nodes) keep zero features and a zero one-hot label row.
    n = int(test_sorted[-1]) + 1
    features = np.zeros((n, f), np.float32)
    onehot = np.zeros((n, ally.shape[1]), np.float32)
    features[:num_labeled], onehot[:num_labeled] = allx, ally
    features[test_reorder], onehot[test_reorder] = tx, ty
    labels = onehot.argmax(axis=1).astype(np.int32)

    sums = features.sum(axis=1, keepdims=True)
    features = np.divide(features, sums, out=np.zeros_like(features), where=sums != 0)

    src, dst = [], []
    for node, neighbours in graph.items():
        for nb in neighbours:
            src.append(nb)
            dst.append(node)
    src = np.array(src, dtype=np.int64)
    dst = np.array(dst, dtype=np.int64)
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise DataError(f"{p('graph')}: node ids outside 0..{n - 1} (features have {n} rows)")
    row_ptr, col_idx, stats = edges_to_csr(src, dst, n, symmetric=True)

    train = np.arange(y.shape[0], dtype=np.uint32)
    val = np.arange(y.shape[0], y.shape[0] + NUM_VAL, dtype=np.uint32)
    filler = n - num_labeled - tx.shape[0]
    description = (
        f"Planetoid {name} imported by qgnn.data planetoid: {n} nodes, {col_idx.size} directed edges "
        f"({stats['self_loops']} self-loops dropped, de-duplicated, symmetric), {f} row-normalised features, "
        f"{labels.max() + 1 if n else 0} classes. Public split as in the GCN reference loader: train = nodes "
        f"0..{y.shape[0] - 1}, val = the next {NUM_VAL}, test = the {test_sorted.size} ids of test.index."
        + (f" {filler} ids in the test range are missing from tx (zero features, label 0, in no split)."
           if filler else "")
    )
    return GraphSet(
        name=name,
        task=NODE_CLASSIFICATION,
        graph_ptr=np.array([0, n]),
        row_ptr=row_ptr,
        col_idx=col_idx,
        features=features,
        labels=labels,
        num_classes=int(onehot.shape[1]),
        train=train,
        val=val,
        test=test_sorted.astype(np.uint32),
        description=description,
    )
