"""Planetoid import: Cora against the GCN reference loader's procedure, gaps in test ids, bad input."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import PYTHON_DIR, require_dir

from qgnn.data import DataError, import_planetoid
from qgnn.io import NODE_CLASSIFICATION, read_qgd


def kipf_reference(directory, name):
    """tkipf/gcn utils.load_data, transcribed (networkx replaced by an explicit symmetric edge set)."""
    sp = pytest.importorskip("scipy.sparse", reason="python3-scipy is needed to read the Planetoid pickles")
    objs = {}
    for s in ("x", "y", "tx", "ty", "allx", "ally", "graph"):
        with open(directory / f"ind.{name}.{s}", "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            objs[s] = pickle.load(f, encoding="latin1")
    test_idx_reorder = [int(line) for line in open(directory / f"ind.{name}.test.index")]
    test_idx_range = np.sort(test_idx_reorder)
    features = sp.vstack((objs["allx"], objs["tx"])).tolil()
    features[test_idx_reorder, :] = features[test_idx_range, :]
    labels = np.vstack((objs["ally"], objs["ty"]))
    labels[test_idx_reorder, :] = labels[test_idx_range, :]
    features = np.asarray(features.todense(), dtype=np.float64)
    rowsum = features.sum(1, keepdims=True)
    features = np.divide(features, rowsum, out=np.zeros_like(features), where=rowsum != 0)
    edges = {(j, i) for i, nbs in objs["graph"].items() for j in nbs if i != j}
    edges |= {(i, j) for j, i in edges}
    return features, labels.argmax(1), edges, len(objs["y"]), test_idx_range


def test_cora(datasets, tmp_path):
    d = require_dir(datasets / "planetoid")
    ref_x, ref_y, ref_edges, n_train, ref_test = kipf_reference(d, "cora")
    out = tmp_path / "cora.qgd"
    subprocess.run([sys.executable, "-m", "qgnn.data", "planetoid", str(d), "cora", "-o", str(out)],
                   cwd=PYTHON_DIR, check=True, capture_output=True)
    gs = read_qgd(out)
    assert gs.task == NODE_CLASSIFICATION
    assert gs.is_sparse and gs.features_csr.nnz == 49216  # bag-of-words at 1.27 %: stored sparse (auto)
    counts = (gs.num_nodes, gs.num_edges, gs.feature_dim, gs.num_classes, gs.num_graphs)
    assert counts == (2708, 10556, 1433, 7, 1)
    assert (gs.train.size, gs.val.size, gs.test.size) == (140, 500, 1000)
    np.testing.assert_array_equal(gs.train, np.arange(140))
    np.testing.assert_array_equal(gs.val, np.arange(140, 640))
    np.testing.assert_array_equal(gs.test, ref_test)
    np.testing.assert_array_equal(gs.labels, ref_y)
    np.testing.assert_allclose(gs.features, ref_x, rtol=1e-6)
    dst = np.repeat(np.arange(gs.num_nodes), np.diff(gs.row_ptr))
    assert set(zip(gs.col_idx.tolist(), dst.tolist())) == ref_edges
    assert np.bincount(gs.labels).tolist() == [351, 217, 418, 818, 426, 298, 180]
    assert n_train == 140


def test_missing_file_is_a_clear_error(datasets):
    d = require_dir(datasets / "planetoid")
    if (d / "ind.pubmed.allx").exists():
        pytest.skip("ind.pubmed.allx is present here")
    with pytest.raises(DataError, match="missing file .*ind.pubmed.allx"):
        import_planetoid(d, "pubmed")
    cmd = [sys.executable, "-m", "qgnn.data", "planetoid", str(d), "pubmed", "-o", "/nonexistent/x"]
    r = subprocess.run(cmd, cwd=PYTHON_DIR, capture_output=True, text=True)
    assert r.returncode == 1 and "missing file" in r.stderr


def write_fake(directory, name="toy", test_index=(9, 6, 7), graph=None):
    """A citeseer-like toy: 4 train+val rows in allx (2 in x), test ids with a gap (8 missing)."""
    directory.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    allx = rng.integers(0, 2, (4, 3)).astype(np.float32)
    allx[3] = 0  # an all-zero feature row stays zero after normalisation
    ally = np.eye(2, dtype=np.int32)[[0, 1, 1, 0]]
    tx = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3]], np.float32)
    ty = np.eye(2, dtype=np.int32)[[1, 0, 1]]
    objs = dict(x=allx[:2], y=ally[:2], allx=allx, ally=ally, tx=tx, ty=ty,
                graph=graph if graph is not None else {0: [1, 0], 1: [0], 6: [9], 7: [], 9: [6, 6]})
    for k, v in objs.items():
        with open(directory / f"ind.{name}.{k}", "wb") as f:
            pickle.dump(v, f)
    (directory / f"ind.{name}.test.index").write_text("".join(f"{i}\n" for i in test_index))
    return directory


def test_gaps_in_test_ids(tmp_path, monkeypatch):
    import qgnn.data.planetoid as pl

    monkeypatch.setattr(pl, "NUM_VAL", 1)
    gs = import_planetoid(write_fake(tmp_path / "p"), "toy")
    assert gs.num_nodes == 10  # ids 0..9: allx rows 0-3, no rows 4-5, test rows 6, 7, 9, gap 8
    np.testing.assert_array_equal(gs.test, [6, 7, 9])
    np.testing.assert_array_equal(gs.train, [0, 1])
    np.testing.assert_array_equal(gs.val, [2])
    # tx row k belongs to node test_index[k] (the reference code's reordering), row-normalised.
    np.testing.assert_allclose(gs.features[[9, 6, 7]], np.eye(3))
    np.testing.assert_array_equal(gs.features[[3, 4, 5, 8]], 0)
    np.testing.assert_array_equal(gs.labels[[9, 6, 7]], [1, 0, 1])
    assert gs.labels[8] == 0 and "missing from tx" in gs.description
    dst = np.repeat(np.arange(gs.num_nodes), np.diff(gs.row_ptr))
    assert sorted(zip(gs.col_idx.tolist(), dst.tolist())) == [(0, 1), (1, 0), (6, 9), (9, 6)]


@pytest.mark.parametrize("kwargs, message", [
    (dict(graph={0: [12]}), "node ids outside 0..9"),
    (dict(test_index=(9, 6)), "2 ids for 3 rows of tx"),
    (dict(test_index=(9, 6, 2)), "must be distinct and >= 4"),
])
def test_bad_planetoid_input(tmp_path, monkeypatch, kwargs, message):
    import qgnn.data.planetoid as pl

    monkeypatch.setattr(pl, "NUM_VAL", 1)
    with pytest.raises(DataError, match=message):
        import_planetoid(write_fake(tmp_path / "p", **kwargs), "toy")


def test_not_a_pickle(tmp_path):
    d = write_fake(tmp_path / "p")
    (d / "ind.toy.ty").write_text("garbage")
    with pytest.raises(DataError, match="ind.toy.ty: not a readable pickle"):
        import_planetoid(d, "toy")
