"""Robustness variants (qgnn.data.variants, `python3 -m qgnn.data variant`): small hand-made sets, the CLI,
bad input; and the PubMed topology import when the data sets are present."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import PYTHON_DIR, require_dir

from qgnn.data import DataError
from qgnn.data import variants as v
from qgnn.data.planetoid_topology import import_planetoid_topology
from qgnn.qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, read_qgd, write_qgd


def graph_set(n_graphs=6, per=5, labels_per_node=3, seed=0) -> GraphSet:
    """Path graphs of `per` nodes with one-hot node labels, graph label = graph index % 2."""
    rng = np.random.default_rng(seed)
    n = n_graphs * per
    src, dst = [], []
    for g in range(n_graphs):
        for i in range(per - 1):
            a, b = g * per + i, g * per + i + 1
            src += [a, b]
            dst += [b, a]
    order = np.lexsort((src, dst))
    src, dst = np.array(src)[order], np.array(dst)[order]
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(dst, minlength=n))])
    node_label = rng.integers(0, labels_per_node, n)
    return GraphSet(name="toy", task=GRAPH_CLASSIFICATION, graph_ptr=np.arange(0, n + 1, per), row_ptr=row_ptr,
                    col_idx=src, features=np.eye(labels_per_node, dtype=np.float32)[node_label],
                    labels=np.arange(n_graphs) % 2, num_classes=2, train=[0, 1, 2, 3], val=[4], test=[5],
                    fold=np.arange(n_graphs) % 3, description="toy set.")


def bag_of_words(n=40, f=50, per_row=5, seed=0, labels=None) -> GraphSet:
    rng = np.random.default_rng(seed)
    x = np.zeros((n, f), np.float32)
    for i in range(n - 2):  # the last two rows stay empty
        x[i, rng.choice(f, per_row, replace=False)] = 1.0 / per_row
    row_ptr = np.zeros(n + 1, np.int64)
    labels = np.arange(n) % 4 if labels is None else labels
    return GraphSet(name="bow", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=row_ptr,
                    col_idx=np.zeros(0, np.int32), features=x, labels=labels, num_classes=4,
                    train=np.arange(10), val=np.arange(10, 20), test=np.arange(20, 40), description="bow.")


def test_raw_attributes_appends_large_columns():
    gs = graph_set()
    out = v.raw_attributes(gs, columns=4, seed=3)
    assert out.feature_dim == gs.feature_dim + 4
    np.testing.assert_array_equal(out.features[:, :3], gs.features)  # the one-hot columns are untouched
    extra = out.features[:, 3:]
    assert np.abs(extra).max() > 100  # values in the hundreds, like TU node_attributes
    assert np.abs(extra).max() < 5 * 500
    assert "raw-attributes" in out.description and out.description.startswith("toy set.")
    assert gs.feature_dim == 3  # input not modified
    # Informative columns are a noisy function of the node label and degree: regressed on them, they are mostly
    # explained (R^2 ~ 0.9); the noise columns are not.
    big = graph_set(n_graphs=40)
    extra = v.raw_attributes(big, columns=4, seed=3).features[:, 3:].astype(np.float64)
    degree = np.diff(big.row_ptr).astype(np.float64)
    design = np.column_stack([big.features, np.log1p(degree)])
    for j, informative in ((0, True), (1, True), (2, False), (3, False)):
        coef, *_ = np.linalg.lstsq(design, extra[:, j], rcond=None)
        r2 = 1 - np.var(extra[:, j] - design @ coef) / np.var(extra[:, j])
        assert (r2 > 0.7) if informative else (r2 < 0.2), (j, r2)
    out.validate()


def test_raw_attributes_deterministic_and_checked():
    gs = graph_set()
    a, b = v.raw_attributes(gs, seed=1), v.raw_attributes(gs, seed=1)
    np.testing.assert_array_equal(a.features, b.features)
    assert not np.array_equal(a.features, v.raw_attributes(gs, seed=2).features)
    with pytest.raises(DataError, match="--columns must be >= 1"):
        v.raw_attributes(gs, columns=0)
    with pytest.raises(DataError, match="--informative must be in 0..2"):
        v.raw_attributes(gs, columns=2, informative=3)
    with pytest.raises(DataError, match="--scale"):
        v.raw_attributes(gs, scale=float("nan"))
    with pytest.raises(DataError, match="seed"):
        v.raw_attributes(gs, seed=-1)


def test_zscore_standardises_every_column():
    gs = v.raw_attributes(graph_set())
    gs.features[:, 0] = 7.0  # a constant column
    out = v.zscore(gs)
    x = out.features.astype(np.float64)
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x[:, 1:].std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(x[:, 0], 0)
    assert "1 constant columns set to 0" in out.description


def test_thin_reaches_density_and_keeps_one_per_row():
    gs = bag_of_words()
    assert v.density(gs.features) == pytest.approx(38 * 5 / 2000)
    out = v.thin(gs, 0.03, seed=0)  # 60 of 190 non-zeros
    assert np.count_nonzero(out.features) == 60
    nz_rows = np.count_nonzero(out.features, axis=1)
    assert np.all(nz_rows[:38] >= 1) and np.all(nz_rows[38:] == 0)
    assert np.all((out.features == 0) | (out.features == gs.features))  # kept values unchanged, subset only
    np.testing.assert_array_equal(v.thin(gs, 0.03, seed=0).features, out.features)
    assert "9.500 % to 3.000 %" in out.description


def test_thin_tfidf_values_and_errors():
    gs = bag_of_words()
    out = v.thin(gs, 0.05, tfidf_max=0.125, seed=1)
    vals = out.features[out.features != 0]
    assert vals.size == 100 and vals.max() <= 0.125 and vals.min() > 0
    assert np.all((out.features != 0) <= (gs.features != 0))  # only where the input had words
    with pytest.raises(DataError, match="cannot raise"):
        v.thin(gs, 0.5)
    with pytest.raises(DataError, match="lowest density is 0.019"):
        v.thin(gs, 0.01)  # 20 non-zeros for 38 non-empty rows
    for bad in (0.0, 1.5, float("nan")):
        with pytest.raises(DataError, match="--density must be in"):
            v.thin(gs, bad)
    with pytest.raises(DataError, match="--tfidf-max"):
        v.thin(gs, 0.05, tfidf_max=-1)


def test_synthetic_features_correlate_with_labels():
    base = bag_of_words(n=400, labels=np.arange(400) % 4)
    gs = GraphSet(**{**base.__dict__, "features": np.zeros((400, 0), np.float32)})
    out = v.synthetic_features(gs, dim=80, target=0.1, signal=0.5, seed=0)
    x = out.features
    assert x.shape == (400, 80)
    assert v.density(x) == pytest.approx(0.1, abs=0.01)
    assert x.max() <= v.DEFAULT_TFIDF_MAX and np.all(np.count_nonzero(x, axis=1) >= 1)
    # Nearest class centroid (computed on half, scored on the other half) beats chance (25 %) by far.
    lab = out.labels
    centroids = np.stack([x[:200][lab[:200] == c].mean(axis=0) for c in range(4)])
    acc = np.mean((x[200:] @ centroids.T).argmax(axis=1) == lab[200:])
    assert acc > 0.8
    with pytest.raises(DataError, match="already has 50 feature columns"):
        v.synthetic_features(base)
    assert v.synthetic_features(base, dim=80, replace=True).feature_dim == 80
    with pytest.raises(DataError, match="graph classification"):
        v.synthetic_features(graph_set(), replace=True)
    with pytest.raises(DataError, match="no topic columns"):
        v.synthetic_features(gs, dim=6)
    with pytest.raises(DataError, match="--signal"):
        v.synthetic_features(gs, signal=1.5)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "qgnn.data", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(PYTHON_DIR), "PATH": "/usr/bin:/bin"})


def test_cli_variants_roundtrip(tmp_path):
    src = tmp_path / "toy.qgd"
    write_qgd(graph_set(), src)
    r = run_cli("variant", "raw-attributes", src, "--columns", "2", "--seed", "4", "-o", tmp_path / "raw.qgd")
    assert r.returncode == 0, r.stderr
    assert "5 features" in r.stdout
    raw = read_qgd(tmp_path / "raw.qgd")
    np.testing.assert_array_equal(raw.features, v.raw_attributes(graph_set(), columns=2, seed=4).features)
    np.testing.assert_array_equal(raw.fold, graph_set().fold)  # folds and splits travel with the variant
    r = run_cli("variant", "zscore", tmp_path / "raw.qgd", "-o", tmp_path / "z.qgd")
    assert r.returncode == 0, r.stderr
    assert abs(read_qgd(tmp_path / "z.qgd").features.mean()) < 1e-5


def test_cli_errors(tmp_path):
    src = tmp_path / "bow.qgd"
    write_qgd(bag_of_words(), src)
    r = run_cli("variant", "thin", src, "--density", "2", "-o", tmp_path / "t.qgd")
    assert r.returncode == 1 and "error: --density must be in (0, 1], got 2.0" in r.stderr
    assert not (tmp_path / "t.qgd").exists()
    r = run_cli("variant", "thin", tmp_path / "missing.qgd", "--density", "0.01", "-o", tmp_path / "t.qgd")
    assert r.returncode == 1 and "missing.qgd" in r.stderr
    r = run_cli("variant", "zscore", src, "--seed", "1", "-o", tmp_path / "t.qgd")
    assert r.returncode == 2  # zscore is not random: argparse rejects --seed


def test_pubmed_topology(datasets, tmp_path):
    d = require_dir(datasets / "planetoid")
    if not (d / "ind.pubmed.graph").exists():
        pytest.skip("ind.pubmed.* absent")
    gs = import_planetoid_topology(d, "pubmed")
    assert (gs.num_nodes, gs.num_edges, gs.num_classes, gs.feature_dim) == (19717, 88648, 3, 0)
    assert (gs.train.size, gs.val.size, gs.test.size) == (60, 500, 1000)
    r = run_cli("planetoid", d, "pubmed", "--topology-only", "-o", tmp_path / "topo.qgd")
    assert r.returncode == 0, r.stderr
    assert read_qgd(tmp_path / "topo.qgd").feature_dim == 0
