"""Sparse node features in .qgd (version 2): round trip, lazy densification, malformed CSR refused on write
and on read, the planetoid --features switch, and variants on sparse input."""

import dataclasses
import subprocess
import sys

import flatbuffers
import numpy as np
import pytest
from conftest import PYTHON_DIR
from test_import_planetoid import write_fake

from qgnn import _fb
from qgnn.data import variants as v
from qgnn.io import NODE_CLASSIFICATION, FormatError, GraphSet, SparseFeatures, read_qgd, write_qgd
from qgnn.qgd import from_bytes, to_bytes
from qgnn.schema import qgd_generated as fbd

DENSE = np.array([[0, 1.5, 0, -2], [0, 0, 0, 0], [3, 0, 0, 0.25], [0, 0, 7, 0]], np.float32)


def sparse_set(**overrides) -> GraphSet:
    kw = dict(name="s", task=NODE_CLASSIFICATION, graph_ptr=[0, 4], row_ptr=[0, 1, 2, 2, 3], col_idx=[1, 0, 2],
              features=None, features_csr=SparseFeatures.from_dense(DENSE), labels=[0, 1, 0, 1], num_classes=2,
              train=[0, 1], test=[2, 3])
    kw.update(overrides)
    return GraphSet(**kw)


def test_round_trip_keeps_csr_and_stamps_version_2(tmp_path):
    gs = sparse_set()
    csr = gs.features_csr
    np.testing.assert_array_equal(csr.row_ptr, [0, 2, 2, 4, 5])
    np.testing.assert_array_equal(csr.col_idx, [1, 3, 0, 3, 2])
    write_qgd(gs, tmp_path / "s.qgd")
    data = (tmp_path / "s.qgd").read_bytes()
    t = fbd.GraphSet.GetRootAs(data, 0)
    assert t.Version() == 2 and t.FeaturesLength() == 0 and t.FeatureRowPtrLength() == 5
    back = read_qgd(tmp_path / "s.qgd")
    assert back.is_sparse and back.feature_dim == 4
    for name in ("row_ptr", "col_idx", "values"):
        np.testing.assert_array_equal(getattr(back.features_csr, name), getattr(csr, name))
    # Dense files stay version 1, so version-1 readers keep reading them.
    back.densify()
    assert not back.is_sparse
    assert fbd.GraphSet.GetRootAs(to_bytes(back), 0).Version() == 1


def test_features_densify_lazily_read_only():
    gs = sparse_set()
    x = gs.features
    np.testing.assert_array_equal(x, DENSE)
    assert gs.features is x  # made once
    with pytest.raises(ValueError):
        x[0, 0] = 1.0  # an edit could not reach the CSR
    assert gs.is_sparse and gs.feature_density() == pytest.approx(5 / 16)
    # dataclasses.replace (e.g. qgnn.folds) keeps the set sparse; replacing the features needs features_csr=None.
    moved = dataclasses.replace(gs, train=[1])
    assert moved.is_sparse and moved.features_csr is gs.features_csr
    with pytest.raises(ValueError, match="not both"):
        dataclasses.replace(gs, features=np.ones((4, 4), np.float32))
    dense = dataclasses.replace(gs, features=np.ones((4, 4), np.float32), features_csr=None)
    assert not dense.is_sparse and dense.features.flags.writeable
    # Assigning one form drops the other.
    gs.features = np.zeros((4, 4), np.float32)
    assert not gs.is_sparse
    gs.features_csr = SparseFeatures.from_dense(DENSE)
    np.testing.assert_array_equal(gs.features, DENSE)
    gs.features_csr = None
    assert not gs.is_sparse and gs.features.flags.writeable
    np.testing.assert_array_equal(gs.features, DENSE)
    assert GraphSet(**sparse_set().__dict__).is_sparse
    with pytest.raises(ValueError, match="needs features"):
        sparse_set(features_csr=None)


def csr(row_ptr, col_idx, values, dim=4):
    return SparseFeatures(row_ptr, col_idx, values, dim)


@pytest.mark.parametrize("features_csr, message", [
    (csr([0, 2, 2, 4], [1, 3, 0, 3], [1, 1, 1, 1]), "feature_row_ptr holds 4 offsets, expected num_nodes \\+ 1 = 5"),
    (csr([0, 2, 1, 4, 4], [1, 3, 0, 3], [1, 1, 1, 1]), "non-decreasing"),
    (csr([1, 2, 2, 4, 4], [1, 3, 0, 3], [1, 1, 1, 1]), "start at 0"),
    (csr([0, 2, 2, 4, 5], [1, 3, 0, 3], [1, 1, 1, 1]), "end at nnz = 4"),
    (csr([0, 2, 2, 4, 4], [1, 3, 0], [1, 1, 1, 1]), "3 columns but feature_values 4"),
    (csr([0, 2, 2, 4, 4], [1, 4, 0, 3], [1, 1, 1, 1]), "feature_col_idx\\[1\\] = 4 is not a feature column"),
    (csr([0, 2, 2, 4, 4], [1, -1, 0, 3], [1, 1, 1, 1]), "feature_col_idx\\[1\\] = -1"),
    (csr([0, 2, 2, 4, 4], [3, 1, 0, 3], [1, 1, 1, 1]), "feature_col_idx\\[1\\] = 1 of node 0 does not increase"),
    (csr([0, 2, 2, 4, 4], [1, 3, 2, 2], [1, 1, 1, 1]), "feature_col_idx\\[3\\] = 2 of node 2 does not increase"),
    (csr([0, 2, 2, 4, 4], [1, 3, 0, 3], [1, np.nan, 1, 1]), "feature_values\\[1\\] is NaN"),
    (csr([0, 2, 2, 4, 4], [1, 3, 0, 3], [1, 1, np.inf, 1]), "infinity"),
])
def test_malformed_csr_refused_on_write_and_read(tmp_path, features_csr, message):
    gs = sparse_set(features_csr=features_csr)
    with pytest.raises(FormatError, match=message):
        write_qgd(gs, tmp_path / "bad.qgd")
    assert not list(tmp_path.iterdir())
    with pytest.raises(FormatError, match=message):
        from_bytes(unchecked_bytes(gs))


def unchecked_bytes(gs: GraphSet, version: int = 2, dense_beside: bool = False) -> bytes:
    """.qgd bytes of `gs` written without validation, as a hostile file would be."""
    b = flatbuffers.Builder(1024)
    c = gs.features_csr
    vec = {"GraphPtr": (gs.graph_ptr, np.int32), "RowPtr": (gs.row_ptr, np.int32),
           "ColIdx": (gs.col_idx, np.int32), "Labels": (gs.labels, np.int32),
           "Features": (np.zeros(16) if dense_beside else np.zeros(0), np.float32),
           "FeatureRowPtr": (c.row_ptr, np.int32), "FeatureColIdx": (c.col_idx, np.int32),
           "FeatureValues": (c.values, np.float32)}
    offsets = {k: _fb.create_array(b, a, t) for k, (a, t) in vec.items()}
    fbd.GraphSetStart(b)
    fbd.GraphSetAddVersion(b, version)
    fbd.GraphSetAddTask(b, gs.task)
    fbd.GraphSetAddNumNodes(b, gs.num_nodes)
    fbd.GraphSetAddNumEdges(b, gs.num_edges)
    fbd.GraphSetAddFeatureDim(b, c.dim)
    fbd.GraphSetAddNumClasses(b, gs.num_classes)
    for k, off in offsets.items():
        getattr(fbd, "GraphSetAdd" + k)(b, off)
    b.Finish(fbd.GraphSetEnd(b), file_identifier=b"QGD1")
    return bytes(b.Output())


def test_version_1_file_with_csr_and_dense_beside_refused():
    gs = sparse_set()
    assert from_bytes(unchecked_bytes(gs)).is_sparse  # the helper writes a valid file when nothing is off
    with pytest.raises(FormatError, match="sparse features need .qgd version 2"):
        from_bytes(unchecked_bytes(gs, version=1))
    with pytest.raises(FormatError, match="dense feature values beside sparse features"):
        from_bytes(unchecked_bytes(gs, dense_beside=True))
    with pytest.raises(FormatError, match="unsupported .qgd version 3"):
        from_bytes(unchecked_bytes(gs, version=3))


@pytest.mark.parametrize("flag", [[], ["--features", "dense"], ["--features", "sparse"], ["--features", "auto"]])
def test_planetoid_features_switch(tmp_path, monkeypatch, flag):
    import qgnn.data.planetoid as pl
    from qgnn.data.__main__ import main
    from qgnn.data.common import SPARSE_DENSITY

    monkeypatch.setattr(pl, "NUM_VAL", 1)
    out = tmp_path / "toy.qgd"
    assert main(["planetoid", str(write_fake(tmp_path / "toy")), "toy", "-o", str(out)] + flag) == 0
    gs = read_qgd(out)
    reference = pl.import_planetoid(tmp_path / "toy", "toy").features
    form = flag[1] if flag else "auto"
    expected = form == "sparse" or (form == "auto" and np.count_nonzero(reference) / reference.size < SPARSE_DENSITY)
    assert gs.is_sparse == expected
    np.testing.assert_array_equal(gs.features, reference)


def test_planetoid_cli_rejects_unknown_form(tmp_path):
    r = subprocess.run([sys.executable, "-m", "qgnn.data", "planetoid", str(tmp_path), "toy", "--features", "csr",
                        "-o", str(tmp_path / "x.qgd")], cwd=PYTHON_DIR, capture_output=True, text=True)
    assert r.returncode == 2 and "--features" in r.stderr


def test_variants_keep_sparse_input_sparse():
    rng = np.random.default_rng(1)
    x = (rng.random((30, 40)) < 0.1).astype(np.float32) * rng.random((30, 40)).astype(np.float32)
    gs = sparse_set(graph_ptr=[0, 30], row_ptr=np.zeros(31), col_idx=[], labels=np.arange(30) % 2,
                    train=np.arange(10), test=np.arange(10, 30), features_csr=SparseFeatures.from_dense(x))
    thin = v.thin(gs, 0.05, seed=0)
    assert thin.is_sparse and thin.feature_density() == pytest.approx(0.05, abs=1e-3)
    raw = v.raw_attributes(gs, columns=2, seed=0)
    assert raw.is_sparse and raw.feature_dim == 42
    np.testing.assert_array_equal(raw.features[:, :40], x)
    z = v.zscore(gs)
    assert not z.is_sparse  # dense by nature
    np.testing.assert_allclose(z.features.mean(axis=0), 0, atol=1e-5)
    assert gs.is_sparse  # the input is not modified
