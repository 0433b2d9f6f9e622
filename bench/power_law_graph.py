#!/usr/bin/python3
"""A 1M-node power-law graph with sparse bag-of-words-like features, as a node-classification .qgd for the
end-to-end benchmarks (issue 14: "the same comparison ... on a 1M-node power-law graph").

    PYTHONPATH=python /usr/bin/python3 bench/power_law_graph.py -o power_law_1m.qgd [--nodes 1000000]
        [--edges 10000000] [--features 100] [--nonzero 10] [--seed 1000001]

The topology is the SpMM benchmarks' (bench/common/power_law.h): a Chung-Lu graph whose endpoint weights follow
Zipf's law with exponent 0.8 (in-degrees with power-law slope 2.25), about `--edges` CSR edges (undirected edges
stored both ways; self-loops and duplicates dropped), node ids shuffled so hubs are spread over the id range.
The generator is numpy's, so the edges are not those of the C++ generator, only of the same law. Features:
`--features` columns, `--nonzero` distinct non-zero TF-IDF-like values per row (10 % by default, like PubMed's),
row-normalised; labels are drawn from 8 classes with a weak dependence on the features so a model can train;
splits: the first 1000 nodes train, the next 1000 val, the next 2000 test. Accuracy means nothing here; the set
exists to be timed. Everything is deterministic for a seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

CLASSES = 8


def power_law_csr(nodes: int, edges: int, rng: np.random.Generator, exponent: float = 0.8):
    """row_ptr, col_idx of a symmetric Chung-Lu graph with Zipf endpoint weights (see the module docstring)."""
    weights = np.power(np.arange(1, nodes + 1, dtype=np.float64), -exponent)
    cumulative = np.cumsum(weights)
    undirected = edges // 2
    a = np.searchsorted(cumulative, rng.random(undirected) * cumulative[-1], side="right")
    b = np.searchsorted(cumulative, rng.random(undirected) * cumulative[-1], side="right")
    id_of_rank = rng.permutation(nodes).astype(np.int64)
    a = id_of_rank[np.minimum(a, nodes - 1)]
    b = id_of_rank[np.minimum(b, nodes - 1)]
    keep = a != b
    a, b = a[keep], b[keep]
    dst = np.concatenate([a, b])
    src = np.concatenate([b, a])
    # Sort by (dst, src) and drop duplicates.
    key = dst * nodes + src
    key = np.unique(key)
    dst, src = key // nodes, key % nodes
    row_ptr = np.zeros(nodes + 1, np.int64)
    np.add.at(row_ptr, dst + 1, 1)
    return np.cumsum(row_ptr).astype(np.int32), src.astype(np.int32)


def sparse_features(nodes: int, features: int, nonzero: int, rng: np.random.Generator):
    """row_ptr, col_idx (strictly increasing per row), values (row-normalised, > 0) with `nonzero` per row."""
    cols = np.sort(np.argsort(rng.random((nodes, features)), axis=1)[:, :nonzero], axis=1).astype(np.int32)
    values = rng.gamma(1.0, 1.0, (nodes, nonzero)).astype(np.float32) + np.float32(0.05)
    values /= values.sum(axis=1, keepdims=True)
    row_ptr = (np.arange(nodes + 1, dtype=np.int64) * nonzero).astype(np.int32)
    return row_ptr, cols.reshape(-1), values.reshape(-1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--edges", type=int, default=10_000_000, help="target CSR edges (both directions)")
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--nonzero", type=int, default=10, help="non-zero features per node")
    ap.add_argument("--seed", type=int, default=1_000_001)
    args = ap.parse_args(argv)
    if not 0 < args.nonzero <= args.features:
        ap.error("--nonzero must be in 1..--features")
    if args.nodes < 4000:
        ap.error("--nodes must be at least 4000 (the splits take the first 4000)")
    from qgnn.qgd import NODE_CLASSIFICATION, GraphSet, SparseFeatures, write_qgd

    rng = np.random.default_rng(args.seed)
    row_ptr, col_idx = power_law_csr(args.nodes, args.edges, rng)
    f_row_ptr, f_col, f_val = sparse_features(args.nodes, args.features, args.nonzero, rng)
    # Labels: the class whose block of columns holds most of a node's feature mass, or a random one.
    block = np.minimum(f_col.astype(np.int64) * CLASSES // args.features, CLASSES - 1)
    mass = np.zeros((args.nodes, CLASSES))
    np.add.at(mass, (np.repeat(np.arange(args.nodes), args.nonzero), block), f_val)
    labels = np.where(rng.random(args.nodes) < 0.7, mass.argmax(axis=1), rng.integers(0, CLASSES, args.nodes))
    gs = GraphSet(
        name="power-law-1m", task=NODE_CLASSIFICATION, graph_ptr=np.array([0, args.nodes], np.int32),
        row_ptr=row_ptr, col_idx=col_idx, features=None, labels=labels.astype(np.int32), num_classes=CLASSES,
        train=np.arange(0, 1000, dtype=np.uint32), val=np.arange(1000, 2000, dtype=np.uint32),
        test=np.arange(2000, 4000, dtype=np.uint32),
        description=(f"bench/power_law_graph.py: Chung-Lu power-law graph (Zipf 0.8), {args.nodes} nodes, "
                     f"{col_idx.size} CSR edges; {args.features} features, {args.nonzero} non-zero per node; "
                     f"seed {args.seed}; for timing only"),
        features_csr=SparseFeatures(f_row_ptr, f_col, f_val, args.features))
    write_qgd(gs, args.output)
    print(f"wrote {args.output}: {args.nodes} nodes, {col_idx.size} edges, {f_val.size} feature non-zeros "
          f"({100.0 * args.nonzero / args.features:.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
