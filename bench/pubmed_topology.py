#!/usr/bin/python3
"""PubMed's real citation topology with synthetic features, as a node-classification .qgd for benchmarks.

    PYTHONPATH=python /usr/bin/python3 bench/pubmed_topology.py ../shared/datasets/planetoid -o pubmed_topo.qgd

../shared/datasets ships ind.pubmed.graph but not ind.pubmed.allx (SOURCES.md), so `qgnn.data planetoid`
cannot import PubMed. Latency depends on the topology and the feature width, not on feature values: this
keeps the graph (19717 nodes, 88648 directed edges after dropping self-loops, de-duplicating and
symmetrising, exactly as the importer does) and draws PubMed-shaped features with a fixed seed: 500 columns,
50 non-zero TF-IDF-like values per row, row-normalised. Labels are the real ones where ally / ty give them
(every node here), splits are Planetoid's public ones (60 train, 500 val, 1000 test). Accuracy on this set
means nothing; it exists to be timed.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

FEATURES = 500
NONZERO = 50
SEED = 19717


def _load(path: Path):
    with open(path, "rb") as f, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pickle.load(f, encoding="latin1")


def build(directory: Path):
    from qgnn.data.common import edges_to_csr
    from qgnn.qgd import NODE_CLASSIFICATION, GraphSet

    graph = _load(directory / "ind.pubmed.graph")
    ally = np.asarray(_load(directory / "ind.pubmed.ally"))
    ty = np.asarray(_load(directory / "ind.pubmed.ty"))
    test_ids = np.array([int(s) for s in (directory / "ind.pubmed.test.index").read_text().split()])
    n = max(max(graph), max(max(v) for v in graph.values() if v), int(test_ids.max())) + 1
    src = np.array([nb for node, nbs in graph.items() for nb in nbs], dtype=np.int64)
    dst = np.array([node for node, nbs in graph.items() for _ in nbs], dtype=np.int64)
    row_ptr, col_idx, _ = edges_to_csr(src, dst, n, symmetric=True)

    onehot = np.zeros((n, ally.shape[1]), np.float32)
    onehot[:ally.shape[0]] = ally
    onehot[test_ids] = ty
    labels = onehot.argmax(axis=1).astype(np.int32)

    rng = np.random.default_rng(SEED)
    features = np.zeros((n, FEATURES), np.float32)
    cols = rng.integers(0, FEATURES, size=(n, NONZERO))
    np.put_along_axis(features, cols, rng.random((n, NONZERO), dtype=np.float32), axis=1)
    features /= np.maximum(features.sum(axis=1, keepdims=True), 1e-12)
    return GraphSet(
        name="pubmed-topology",
        task=NODE_CLASSIFICATION,
        graph_ptr=np.array([0, n]),
        row_ptr=row_ptr,
        col_idx=col_idx,
        features=features,
        labels=labels,
        num_classes=int(ally.shape[1]),
        train=np.arange(60, dtype=np.uint32),
        val=np.arange(60, 560, dtype=np.uint32),
        test=np.sort(test_ids).astype(np.uint32),
        description=(f"PubMed topology ({n} nodes, {col_idx.size} directed edges, from ind.pubmed.graph) with "
                     f"synthetic features ({FEATURES} columns, {NONZERO} non-zeros per row, seed {SEED}); "
                     "for timing only, written by bench/pubmed_topology.py"),
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("planetoid_dir", help="directory with ind.pubmed.{graph,ally,ty,test.index}")
    ap.add_argument("-o", "--output", required=True, help="output .qgd")
    args = ap.parse_args(argv)
    from qgnn.qgd import write_qgd

    try:
        gs = build(Path(args.planetoid_dir))
    except (OSError, ValueError, KeyError, pickle.UnpicklingError) as exc:
        print(f"pubmed_topology: error: {exc}", file=sys.stderr)
        return 1
    gs.sparsify()  # stored as users store TF-IDF (about 10 % non-zero): the CSR of the non-zeros
    write_qgd(gs, args.output)
    print(f"{args.output}: {gs.num_nodes} nodes, {gs.num_edges} edges, {FEATURES} synthetic features (sparse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
