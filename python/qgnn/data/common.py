"""Pieces shared by the importers: the error type, edge lists to CSR, stratified folds."""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ..qgd import GraphSet

# `--features auto` stores features sparse below this fraction of non-zeros. CSR costs 8 bytes per non-zero
# (column + value) against 4 per entry dense, so it is smaller below 50 %; 25 % leaves margin and still
# catches every bag-of-words set (Cora 1.3 %, CiteSeer 0.9 %, PubMed's TF-IDF 10 %) while one-hot node
# labels of small graphs (MUTAG: 1 of 7 = 14 %) also qualify, as they should: the runtime reads them faster.
SPARSE_DENSITY = 0.25


class DataError(ValueError):
    """Malformed or inconsistent input data; the message says which file and line."""


def store_features(gs: GraphSet, form: str) -> GraphSet:
    """The set with its features stored `form`: "dense", "sparse", "auto" (sparse below SPARSE_DENSITY
    non-zeros) or "keep" (unchanged). Converts in place and returns the set."""
    if form == "keep":
        return gs
    if form == "auto":
        form = "sparse" if gs.feature_dim and gs.feature_density() < SPARSE_DENSITY else "dense"
    if form == "sparse":
        if not gs.feature_dim:
            raise DataError(f"data set {gs.name!r} has no feature columns to store sparse")
        return gs.sparsify()
    if form == "dense":
        return gs.densify()
    raise DataError(f"unknown feature storage {form!r} (dense, sparse, auto or keep)")


def edges_to_csr(src: np.ndarray, dst: np.ndarray, num_nodes: int,
                 symmetric: bool = True) -> Tuple[np.ndarray, np.ndarray, dict]:
    """CSR of the edges src -> dst: row i lists the sources of the edges into i, ascending.

    Self-loops are dropped (GCNConv adds its own; GIN has its explicit self term), duplicates removed, and
    with `symmetric` every edge also gets its reverse. Returns (row_ptr, col_idx, stats).
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    stats = {"input_edges": int(src.size), "self_loops": int(np.count_nonzero(src == dst))}
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if symmetric:
        key_in = np.unique(dst * num_nodes + src)
        key_rev = np.unique(src * num_nodes + dst)
        stats["added_reverse"] = int(np.setdiff1d(key_rev, key_in, assume_unique=True).size)
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    key = np.unique(dst * num_nodes + src)  # sorted by (dst, src), duplicates removed
    dst_u, src_u = key // num_nodes, key % num_nodes
    stats["duplicates"] = int(stats["input_edges"] - stats["self_loops"] + stats.get("added_reverse", 0)
                              - key.size)
    row_ptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(dst_u, minlength=num_nodes), out=row_ptr[1:])
    if row_ptr[-1] > np.iinfo(np.int32).max:
        raise DataError(f"{row_ptr[-1]} edges do not fit the int32 CSR of the .qgd format")
    return row_ptr.astype(np.int32), src_u.astype(np.int32), stats


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of each item: per class, a seeded shuffle; classes are then laid end to end and dealt
    round-robin, so every fold gets each class in proportion and fold sizes differ by at most one."""
    labels = np.asarray(labels)
    if labels.size < k:
        raise DataError(f"{labels.size} items cannot be split into {k} folds")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)])
    fold = np.empty(labels.size, dtype=np.uint8)
    fold[order] = np.arange(order.size) % k
    return fold


def splits_from_folds(fold: np.ndarray, test_fold: int = 0, val_fold: int = 1):
    """train/val/test index lists: test = fold `test_fold`, val = fold `val_fold`, train = the rest."""
    idx = np.arange(fold.size, dtype=np.uint32)
    test = idx[fold == test_fold]
    val = idx[fold == val_fold]
    train = idx[(fold != test_fold) & (fold != val_fold)]
    return train, val, test
