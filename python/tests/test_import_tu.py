"""TU import: the real MUTAG / NCI1 / IMDB-BINARY files, hand-made fixtures, malformed input."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import PYTHON_DIR, require_dir

from qgnn.data import DataError, import_tu
from qgnn.data.common import stratified_folds
from qgnn.io import GRAPH_CLASSIFICATION, read_qgd


def write_tu(directory: Path, name: str = "DS", **files: str) -> Path:
    """Files given as A=..., graph_indicator=..., graph_labels=..., node_labels=..., node_attributes=..."""
    directory.mkdir(parents=True, exist_ok=True)
    for suffix, text in files.items():
        (directory / f"{name}_{suffix}.txt").write_text(text)
    return directory


# Graph 1: nodes 1-3 (edges 1-2 twice, 2-3 one way only, self-loop 3-3); graph 2: nodes 4-5 (4-5);
# graph 3: node 6 alone. Labels 5 / -1 / 5; node labels 2/7.
GOOD = dict(
    A="1, 2\n2, 1\n1, 2\n2, 3\n3, 3\n4, 5\n5, 4\n",
    graph_indicator="1\n1\n1\n2\n2\n3\n",
    graph_labels="5\n-1\n5\n",
    node_labels="7\n2\n2\n7\n7\n2\n",
)


def edges_of(gs):
    dst = np.repeat(np.arange(gs.num_nodes), np.diff(gs.row_ptr))
    return sorted(zip(gs.col_idx.tolist(), dst.tolist()))


def test_small_fixture(tmp_path):
    gs = import_tu(write_tu(tmp_path / "DS", **GOOD), folds=3)
    gs.validate()
    assert gs.task == GRAPH_CLASSIFICATION
    np.testing.assert_array_equal(gs.graph_ptr, [0, 3, 5, 6])
    # Symmetric, de-duplicated, no self-loop; 0-based ids.
    assert edges_of(gs) == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]
    # CSR rows are in-neighbours, ascending.
    np.testing.assert_array_equal(gs.row_ptr, [0, 1, 3, 4, 5, 6, 6])
    np.testing.assert_array_equal(gs.col_idx, [1, 0, 2, 1, 4, 3])
    # Labels mapped in sorted order (-1 -> 0, 5 -> 1); class names keep the original values.
    np.testing.assert_array_equal(gs.labels, [1, 0, 1])
    assert gs.class_names == ["-1", "5"]
    # One-hot node labels over the sorted distinct values (2 -> column 0, 7 -> column 1).
    np.testing.assert_array_equal(gs.features, [[0, 1], [1, 0], [1, 0], [0, 1], [0, 1], [1, 0]])
    assert sorted(np.concatenate([gs.train, gs.val, gs.test]).tolist()) == [0, 1, 2]
    assert "1 self-loops" in gs.description and "1 reverse edges added" in gs.description


def test_degree_features_and_attributes(tmp_path):
    files = {k: v for k, v in GOOD.items() if k != "node_labels"}
    gs = import_tu(write_tu(tmp_path / "DS", **files), folds=3, degree_cap=1)
    # Degrees 1, 2, 1, 1, 1, 0 clipped at 1 -> one-hot over {0, 1}.
    np.testing.assert_array_equal(gs.features, [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [1, 0]])
    attrs = "0.5, 1\n1.5, 2\n2.5, 3\n3.5, 4\n4.5, 5\n5.5, 6\n"
    gs = import_tu(write_tu(tmp_path / "DS2", name="DS2", node_attributes=attrs, **GOOD), folds=3)
    assert gs.feature_dim == 4  # 2 one-hot + 2 attributes
    np.testing.assert_allclose(gs.features[:, 2:], [[k + 0.5, k + 1] for k in range(6)])


BAD_CASES = {
    "missing file": (dict(A=None), "missing file .*DS_A.txt"),
    "ragged A": (dict(A="1, 2\n2\n"), r"DS_A.txt:2: expected 2 comma-separated values"),
    "not a number": (dict(A="1, 2\nx, 1\n"), r"DS_A.txt:2: not a list of int"),
    "node id out of range": (dict(A="1, 2\n2, 9\n"), r"DS_A.txt:2: node id outside 1..6"),
    "node id zero": (dict(A="0, 1\n"), r"DS_A.txt:1: node id outside"),
    "edge across graphs": (dict(A="3, 4\n"), r"joins graph 1 and graph 2"),
    "graph id out of range": (dict(graph_indicator="1\n1\n1\n2\n2\n4\n"), r"graph id 4 outside 1..3"),
    "graphs not contiguous": (dict(graph_indicator="1\n2\n1\n2\n2\n3\n"), r"non-decreasing"),
    "node labels count": (dict(node_labels="1\n2\n"), r"2 lines for 6 nodes"),
    "blank line inside": (dict(graph_labels="5\n\n-1\n5\n"), r"DS_graph_labels.txt:2"),
    "ragged attributes": (dict(node_attributes="1, 2\n1\n1, 2\n1, 2\n1, 2\n1, 2\n"), r"ragged line"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_malformed_rejected(tmp_path, case):
    changes, message = BAD_CASES[case]
    files = dict(GOOD)
    files.update({k: v for k, v in changes.items() if v is not None})
    for k, v in changes.items():
        if v is None:
            files.pop(k)
    d = write_tu(tmp_path / "DS", **files)
    with pytest.raises(DataError, match=message):
        import_tu(d, folds=3)


def test_cli_reports_errors(tmp_path):
    d = write_tu(tmp_path / "DS", **dict(GOOD, A="1, 2\n2, 9\n"))
    out = tmp_path / "x.qgd"
    r = subprocess.run([sys.executable, "-m", "qgnn.data", "tu", str(d), "-o", str(out)], cwd=PYTHON_DIR,
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and "node id outside" in r.stderr
    assert not out.exists()
    r = subprocess.run([sys.executable, "-m", "qgnn.data", "tu", str(tmp_path / "nope"), "-o", str(out)],
                       cwd=PYTHON_DIR, capture_output=True, text=True)
    assert r.returncode == 1 and "not a directory" in r.stderr


def test_stratified_folds():
    labels = np.array([0] * 63 + [1] * 125)
    fold = stratified_folds(labels, 10, seed=0)
    sizes = np.bincount(fold, minlength=10)
    assert sizes.max() - sizes.min() <= 1
    for f in range(10):  # each class spread evenly: per-fold counts differ by at most one
        for c in (0, 1):
            counts = np.bincount(fold[labels == c], minlength=10)
            assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(fold, stratified_folds(labels, 10, seed=0))
    assert not np.array_equal(fold, stratified_folds(labels, 10, seed=1))
    with pytest.raises(DataError):
        stratified_folds(np.zeros(5), 10, seed=0)


def test_mutag(datasets, tmp_path):
    d = require_dir(datasets / "tu" / "MUTAG")
    out = tmp_path / "mutag.qgd"
    r = subprocess.run([sys.executable, "-m", "qgnn.data", "tu", str(d), "-o", str(out)], cwd=PYTHON_DIR,
                       capture_output=True, text=True, check=True)
    assert "188 graphs" in r.stdout
    gs = read_qgd(out)
    counts = (gs.num_graphs, gs.num_nodes, gs.num_edges, gs.feature_dim, gs.num_classes)
    assert counts == (188, 3371, 7442, 7, 2)
    assert gs.class_names == ["-1", "1"]
    assert np.bincount(gs.labels).tolist() == [63, 125]
    np.testing.assert_array_equal(gs.features.sum(axis=1), 1)  # one-hot
    # Split convention: test = fold 0, val = fold 1, train = the rest; disjoint, covering everything.
    np.testing.assert_array_equal(gs.test, np.flatnonzero(gs.fold == 0))
    np.testing.assert_array_equal(gs.val, np.flatnonzero(gs.fold == 1))
    np.testing.assert_array_equal(np.sort(np.concatenate([gs.train, gs.val, gs.test])), np.arange(188))
    assert (gs.train.size, gs.val.size, gs.test.size) == (150, 19, 19)
    assert 100_000 < out.stat().st_size < 200_000
    # Symmetric: the multiset of (src, dst) equals that of (dst, src).
    e = edges_of(gs)
    assert e == sorted((b, a) for a, b in e)


def test_nci1_and_imdb(datasets):
    nci1 = import_tu(require_dir(datasets / "tu" / "NCI1"))
    assert (nci1.num_graphs, nci1.num_nodes, nci1.feature_dim) == (4110, 122747, 37)
    imdb = import_tu(require_dir(datasets / "tu" / "IMDB-BINARY"))
    # Every edge line appears twice in the file: 193062 unique directed edges (SOURCES.md).
    assert (imdb.num_graphs, imdb.num_edges) == (1000, 193062)
    assert imdb.feature_dim == 33 and "one-hot of min(degree, 32)" in imdb.description
    degree = np.minimum(np.diff(imdb.row_ptr), 32)
    np.testing.assert_array_equal(imdb.features.argmax(axis=1), degree)
