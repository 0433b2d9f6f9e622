"""Import a TU-format graph classification data set (Morris et al., TUDataset) into a GraphSet.

Files in DIR (DS = the data set name, by default the directory name), 1-based node and graph ids:
  DS_A.txt               required  "u, v" per line: an edge u -> v (made symmetric)
  DS_graph_indicator.txt required  graph id of node i on line i; graphs must be contiguous and ascending
  DS_graph_labels.txt    required  label of graph g on line g (any integers, mapped to 0..C-1 in sorted order)
  DS_node_labels.txt     optional  one integer per node -> one-hot over the sorted distinct values
  DS_node_attributes.txt optional  comma-separated floats per node, appended after the one-hot labels
Sets with neither node labels nor attributes get degree features: one-hot of min(degree, degree_cap).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from ..qgd import GRAPH_CLASSIFICATION, GraphSet
from .common import DataError, edges_to_csr, splits_from_folds, stratified_folds

DEFAULT_DEGREE_CAP = 32
DEFAULT_FOLDS = 10
DEFAULT_SEED = 0


def _read_rows(path: Path, width: Optional[int], kind: type) -> List[list]:
    """Lines of comma-separated numbers. `width` None: any width, but the same on every line.
    Blank lines are only allowed at the end of the file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataError(f"missing file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows: List[list] = []
    for lineno, line in enumerate(lines, 1):
        parts = line.split(",")
        if width is not None and len(parts) != width:
            raise DataError(f"{path}:{lineno}: expected {width} comma-separated values, got {len(parts)}: "
                            f"{line.strip()!r}")
        if width is None and rows and len(parts) != len(rows[0]):
            raise DataError(f"{path}:{lineno}: ragged line, {len(parts)} values where line 1 has "
                            f"{len(rows[0])}")
        try:
            rows.append([kind(p) for p in parts])
        except ValueError:
            raise DataError(f"{path}:{lineno}: not a list of {kind.__name__} values: "
                            f"{line.strip()!r}") from None
    return rows


def _read_column(path: Path, kind: type = int) -> np.ndarray:
    rows = _read_rows(path, 1, kind)
    return np.array([r[0] for r in rows], dtype=np.int64 if kind is int else np.float64)


def import_tu(directory, name: Optional[str] = None, degree_cap: int = DEFAULT_DEGREE_CAP,
              folds: int = DEFAULT_FOLDS, seed: int = DEFAULT_SEED) -> GraphSet:
    d = Path(directory)
    if not d.is_dir():
        raise DataError(f"{d} is not a directory")
    ds = name or d.name
    f = lambda suffix: d / f"{ds}_{suffix}.txt"  # noqa: E731

    indicator = _read_column(f("graph_indicator"))
    graph_labels_raw = _read_column(f("graph_labels"))
    edges = np.array(_read_rows(f("A"), 2, int), dtype=np.int64).reshape(-1, 2)
    n, g = indicator.size, graph_labels_raw.size
    if n == 0 or g == 0:
        raise DataError(f"{d}: no nodes or no graphs")

    # Graph membership: ids 1..g, each graph's nodes contiguous (CSR graph_ptr cuts ranges of nodes).
    bad = np.flatnonzero((indicator < 1) | (indicator > g))
    if bad.size:
        raise DataError(f"{f('graph_indicator')}:{bad[0] + 1}: graph id {indicator[bad[0]]} outside 1..{g} "
                        f"({g} lines in {f('graph_labels').name})")
    dec = np.flatnonzero(np.diff(indicator) < 0)
    if dec.size:
        raise DataError(f"{f('graph_indicator')}:{dec[0] + 2}: graph ids must be non-decreasing "
                        "(nodes of a graph contiguous)")
    graph_ptr = np.zeros(g + 1, dtype=np.int64)
    np.cumsum(np.bincount(indicator - 1, minlength=g), out=graph_ptr[1:])

    # Edges: 1-based ids in range, inside one graph.
    src, dst = edges[:, 0] - 1, edges[:, 1] - 1
    bad = np.flatnonzero((src < 0) | (src >= n) | (dst < 0) | (dst >= n))
    if bad.size:
        raise DataError(f"{f('A')}:{bad[0] + 1}: node id outside 1..{n}: {edges[bad[0]].tolist()}")
    bad = np.flatnonzero(indicator[src] != indicator[dst])
    if bad.size:
        u, v = edges[bad[0]]
        raise DataError(f"{f('A')}:{bad[0] + 1}: edge {u} -> {v} joins graph {indicator[u - 1]} and "
                        f"graph {indicator[v - 1]}")
    row_ptr, col_idx, stats = edges_to_csr(src, dst, n, symmetric=True)

    # Node features.
    parts, how = [], []
    if f("node_labels").exists():
        node_labels = _read_column(f("node_labels"))
        if node_labels.size != n:
            raise DataError(f"{f('node_labels')}: {node_labels.size} lines for {n} nodes")
        values, inverse = np.unique(node_labels, return_inverse=True)
        parts.append(np.eye(values.size, dtype=np.float32)[inverse])
        how.append(f"one-hot node labels ({values.size} values: {values.tolist()})")
    if f("node_attributes").exists():
        attrs = np.array(_read_rows(f("node_attributes"), None, float), dtype=np.float32)
        if attrs.shape[0] != n:
            raise DataError(f"{f('node_attributes')}: {attrs.shape[0]} lines for {n} nodes")
        if not np.all(np.isfinite(attrs)):
            raise DataError(f"{f('node_attributes')}: NaN or infinite attribute")
        parts.append(attrs.reshape(n, -1))
        how.append(f"{attrs.reshape(n, -1).shape[1]} node attributes")
    if not parts:
        if degree_cap < 1:
            raise DataError("degree_cap must be >= 1")
        degree = np.minimum(np.diff(row_ptr), degree_cap)
        parts.append(np.eye(degree_cap + 1, dtype=np.float32)[degree])
        how.append(f"one-hot of min(degree, {degree_cap}) ({degree_cap + 1} dims; degree after "
                   "symmetrising, no self-loops)")
    features = np.concatenate(parts, axis=1)

    classes, labels = np.unique(graph_labels_raw, return_inverse=True)
    fold = stratified_folds(labels, folds, seed)
    train, val, test = splits_from_folds(fold)
    empty = int(np.count_nonzero(np.diff(graph_ptr) == 0))
    description = (
        f"TU data set {ds} imported by qgnn.data tu: {g} graphs, {n} nodes, {col_idx.size} directed edges "
        f"({stats['input_edges']} edge lines; {stats['duplicates']} duplicates and {stats['self_loops']} "
        f"self-loops removed; {stats['added_reverse']} reverse edges added). Features: {'; '.join(how)}. "
        f"Labels {classes.tolist()} -> 0..{classes.size - 1}. {folds}-fold stratified folds (seed {seed}); "
        f"test = fold 0, val = fold 1, train = folds 2..{folds - 1}."
        + (f" {empty} graphs have no nodes." if empty else "")
    )
    return GraphSet(
        name=ds,
        task=GRAPH_CLASSIFICATION,
        graph_ptr=graph_ptr,
        row_ptr=row_ptr,
        col_idx=col_idx,
        features=features,
        labels=labels,
        num_classes=int(classes.size),
        class_names=[str(c) for c in classes.tolist()],
        train=train,
        val=val,
        test=test,
        fold=fold,
        description=description,
    )
