"""Robustness variants of a data set: the inputs quantization has to survive on users' data (issue 13).

Each function takes a GraphSet and returns a new one (the input is not modified); every random choice comes
from `numpy.random.default_rng(seed)`, so a variant is a deterministic function of (input, options, seed). The
description gets a sentence saying what was done, so a .qgd file always tells how it was made.

  raw_attributes      append continuous columns in the hundreds (TU `node_attributes` look like -538 ... 798)
                      next to the existing columns: some a noisy function of the node's features and degree
                      (a float model can use them), the rest pure noise;
  zscore              standardise every column (mean 0, std 1 over all nodes): the "scaled" control;
  thin                drop non-zeros of a bag-of-words set at random down to a target density (at least one
                      kept per node that had one), optionally with TF-IDF-like values in (0, max];
  synthetic_features  sparse TF-IDF-like features correlated with the node labels, for a set that has none
                      (e.g. the PubMed topology, whose features are not published for most nodes).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..qgd import NODE_CLASSIFICATION, GraphSet
from .common import DataError

DEFAULT_COLUMNS = 4
DEFAULT_SCALE = 500.0
DEFAULT_TFIDF_MAX = 0.125  # the largest value of the failing user set of issue 13
DEFAULT_SYNTHETIC_DIM = 500  # PubMed's vocabulary
DEFAULT_SYNTHETIC_DENSITY = 0.1  # PubMed's published rows: 9.4 % non-zero
DEFAULT_SIGNAL = 0.15


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise DataError(f"seed must be >= 0, got {seed}")


def _with(gs: GraphSet, features: np.ndarray, note: str, keep_sparse: bool = True) -> GraphSet:
    description = (gs.description.rstrip() + " " if gs.description else "") + note
    # Variants compute on dense rows; a set that came in sparse goes out sparse again (zscore aside: its
    # output is dense by nature), so `thin` keeps a bag-of-words file small.
    out = dataclasses.replace(gs, features=np.ascontiguousarray(features, dtype=np.float32), features_csr=None,
                              description=description)
    return out.sparsify() if gs.is_sparse and keep_sparse else out


def density(features: np.ndarray) -> float:
    """Fraction of non-zero entries (0 for an empty matrix)."""
    return float(np.count_nonzero(features)) / features.size if features.size else 0.0


def raw_attributes(gs: GraphSet, columns: int = DEFAULT_COLUMNS, informative: int = -1,
                   scale: float = DEFAULT_SCALE, seed: int = 0) -> GraphSet:
    """Append `columns` continuous columns of magnitude ~`scale`; the first `informative` (default: half,
    rounded up) carry signal, the rest are noise.

    Informative column j: a random linear function of the node's existing features (for one-hot node labels:
    one value per label) plus a random multiple of its standardised log-degree, standardised, plus Gaussian
    noise of 0.3 of that, then mapped to offset_j + spread_j * z with offset_j in +-0.2 scale and spread_j in
    [0.3, 0.6] scale. Noise column: offset_j + spread_j * N(0, 1). So most values lie within +-scale, off
    centre like real attributes, and the 0/1 columns beside them are tiny in comparison.
    """
    _check_seed(seed)
    if columns < 1:
        raise DataError(f"--columns must be >= 1, got {columns}")
    if informative == -1:
        informative = (columns + 1) // 2
    if not 0 <= informative <= columns:
        raise DataError(f"--informative must be in 0..{columns} (--columns), got {informative}")
    if not (math.isfinite(scale) and scale > 0):
        raise DataError(f"--scale must be a positive number, got {scale}")
    rng = np.random.default_rng(seed)
    n = gs.num_nodes
    x = gs.features.astype(np.float64)
    log_degree = np.log1p(np.diff(gs.row_ptr).astype(np.float64))

    def standardise(v: np.ndarray) -> np.ndarray:
        std = v.std()
        return (v - v.mean()) / std if std > 0 else v - v.mean()

    degree_z = standardise(log_degree)
    extra = np.empty((n, columns), np.float64)
    for j in range(columns):
        offset = rng.uniform(-0.2, 0.2) * scale
        spread = rng.uniform(0.3, 0.6) * scale
        if j < informative:
            signal = standardise(x @ rng.uniform(-1.0, 1.0, x.shape[1]) + rng.uniform(-1.0, 1.0) * degree_z)
            z = signal + 0.3 * rng.standard_normal(n)
        else:
            z = rng.standard_normal(n)
        extra[:, j] = offset + spread * z
    lo, hi = (float(extra.min()), float(extra.max())) if n else (0.0, 0.0)
    note = (f"Variant raw-attributes (qgnn.data variant, seed {seed}): {columns} continuous columns appended after "
            f"the {gs.feature_dim} existing ones (columns {gs.feature_dim}..{gs.feature_dim + columns - 1}, "
            f"values {lo:.0f} ... {hi:.0f}, scale {scale:g}); the first {informative} a noisy function of the node's "
            f"features and degree, the other {columns - informative} pure noise.")
    return _with(gs, np.concatenate([gs.features, extra.astype(np.float32)], axis=1), note)


def zscore(gs: GraphSet) -> GraphSet:
    """Every column standardised over all nodes: (x - mean) / std; a constant column becomes 0."""
    x = gs.features.astype(np.float64)
    mean = x.mean(axis=0) if gs.num_nodes else np.zeros(gs.feature_dim)
    std = x.std(axis=0) if gs.num_nodes else np.ones(gs.feature_dim)
    constant = std == 0
    z = (x - mean) / np.where(constant, 1.0, std)
    note = (f"Variant zscore (qgnn.data variant): every feature column standardised to mean 0, std 1 over all "
            f"{gs.num_nodes} nodes" + (f"; {int(constant.sum())} constant columns set to 0." if constant.any()
                                       else "."))
    return _with(gs, z, note, keep_sparse=False)


def thin(gs: GraphSet, target: float, tfidf_max: float = 0.0, seed: int = 0) -> GraphSet:
    """Keep a random subset of the non-zeros so that the density is `target` (fraction of all entries):
    first one non-zero of every node that has one, then the rest uniformly from the remaining non-zeros.
    Kept values stay as they are, or with `tfidf_max` > 0 are drawn uniformly in (0, tfidf_max]."""
    _check_seed(seed)
    if not (math.isfinite(target) and 0 < target <= 1):
        raise DataError(f"--density must be in (0, 1], got {target}")
    if tfidf_max != 0 and not (math.isfinite(tfidf_max) and tfidf_max > 0):
        raise DataError(f"--tfidf-max must be a positive number, got {tfidf_max}")
    x = gs.features
    if x.size == 0:
        raise DataError(f"data set {gs.name!r} has no features to thin")
    now = density(x)
    rows, cols = np.nonzero(x)
    want = int(round(target * x.size))
    if want > rows.size:
        raise DataError(f"data set {gs.name!r} is at {100 * now:.3f} % density; thinning cannot raise it to "
                        f"{100 * target:.3f} %")
    rng = np.random.default_rng(seed)
    # One non-zero per non-empty row, picked at random: shuffle, then the first of each row after a stable
    # sort by row.
    order = rng.permutation(rows.size)
    by_row = order[np.argsort(rows[order], kind="stable")]
    first = np.ones(by_row.size, bool)
    first[1:] = rows[by_row][1:] != rows[by_row][:-1]
    keep_one = by_row[first]
    if want < keep_one.size:
        raise DataError(f"--density {target} keeps {want} non-zeros, fewer than the {keep_one.size} nodes that "
                        f"have one (one is kept per node): the lowest density is "
                        f"{keep_one.size / x.size:.6f}")
    rest = by_row[~first]
    kept = np.concatenate([keep_one, rng.choice(rest, want - keep_one.size, replace=False)])
    out = np.zeros_like(x)
    values = x[rows[kept], cols[kept]]
    if tfidf_max > 0:
        values = tfidf_max * (1.0 - rng.random(kept.size))  # (0, max]: 1 - [0, 1)
    out[rows[kept], cols[kept]] = values
    how = (f"values redrawn uniformly in (0, {tfidf_max:g}] (TF-IDF-like)" if tfidf_max > 0
           else "kept values unchanged")
    note = (f"Variant thin (qgnn.data variant, seed {seed}): non-zeros dropped at random from {100 * now:.3f} % "
            f"to {100 * density(out):.3f} % density ({rows.size} -> {kept.size}; one kept per node that had "
            f"one), {how}.")
    return _with(gs, out, note)


def synthetic_features(gs: GraphSet, dim: int = DEFAULT_SYNTHETIC_DIM,
                       target: float = DEFAULT_SYNTHETIC_DENSITY, signal: float = DEFAULT_SIGNAL,
                       max_value: float = DEFAULT_TFIDF_MAX, seed: int = 0, replace: bool = False) -> GraphSet:
    """Sparse bag-of-words-like features for a node classification set without features.

    Every class owns dim // (2 * classes) "topic" columns (disjoint). Node i gets k ~ Binomial(dim, target)
    distinct columns (at least 1), each drawn from its class's topic columns with probability `signal` and
    uniformly from all columns otherwise. Values are TF-IDF-like: column weight w_j in [0.25, 1] * max_value
    (an IDF) times a uniform factor in (0.5, 1], so all lie in (0, max_value].
    """
    _check_seed(seed)
    if gs.task != NODE_CLASSIFICATION:
        raise DataError(f"data set {gs.name!r} is graph classification; synthetic-features needs a label per node")
    if gs.feature_dim and not replace:
        raise DataError(f"data set {gs.name!r} already has {gs.feature_dim} feature columns (--replace discards "
                        "them)")
    if dim < 1:
        raise DataError(f"--dim must be >= 1, got {dim}")
    if not (math.isfinite(target) and 0 < target <= 1):
        raise DataError(f"--density must be in (0, 1], got {target}")
    if not (math.isfinite(signal) and 0 <= signal <= 1):
        raise DataError(f"--signal must be in [0, 1], got {signal}")
    if not (math.isfinite(max_value) and max_value > 0):
        raise DataError(f"--tfidf-max must be a positive number, got {max_value}")
    classes = gs.num_classes
    topic = dim // (2 * classes)
    if signal > 0 and topic < 1:
        raise DataError(f"--dim {dim} leaves no topic columns for {classes} classes (needs >= {2 * classes})")
    rng = np.random.default_rng(seed)
    columns = rng.permutation(dim)
    probs = np.full((classes, dim), (1.0 - signal) / dim)
    for c in range(classes):
        probs[c, columns[c * topic:(c + 1) * topic]] += signal / topic if topic else 0.0
    weight = rng.uniform(0.25, 1.0, dim) * max_value
    n = gs.num_nodes
    counts = np.maximum(rng.binomial(dim, target, n), 1)
    x = np.zeros((n, dim), np.float32)
    for i in range(n):
        cols = rng.choice(dim, counts[i], replace=False, p=probs[gs.labels[i]])
        x[i, cols] = weight[cols] * (1.0 - 0.5 * rng.random(cols.size))
    note = (f"Variant synthetic-features (qgnn.data variant, seed {seed}): "
            + (f"the {gs.feature_dim} feature columns replaced by " if gs.feature_dim else "")
            + f"{dim} synthetic TF-IDF-like columns at {100 * density(x):.2f} % density, values in "
              f"(0, {max_value:g}]; each class owns {topic} topic columns, a node's words come from its class's "
              f"topic with probability {signal:g} (label-correlated, not real text).")
    return _with(gs, x, note)
