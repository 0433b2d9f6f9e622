"""Fashion-MNIST import: IDX fixtures written here (exact nodes, edges, features, splits), malformed IDX,
the CLI, and the real files of the Debian package dataset-fashion-mnist when installed."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from qgnn.data.__main__ import main
from qgnn.data.common import DataError
from qgnn.data.fashion_mnist import CLASS_NAMES, grid_csr, import_fashion_mnist, read_idx
from qgnn.io import GRAPH_CLASSIFICATION, read_qgd

REAL = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray, magic: bytes = None) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    head = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    return head + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


def write_set(d: Path, train_x, train_y, test_x, test_y, gz: bool = True, **raw: bytes) -> Path:
    """The four files in d (gzip unless gz=False); `raw` replaces a file's bytes: train_images=b'...'."""
    d.mkdir(parents=True, exist_ok=True)
    arrays = {"train_images": train_x, "train_labels": train_y, "test_images": test_x, "test_labels": test_y}
    names = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
    for key, stem in names.items():
        data = raw.get(key, idx_bytes(arrays[key]) if arrays[key] is not None else None)
        if data is None:
            continue
        if gz:
            (d / (stem + ".gz")).write_bytes(gzip.compress(data, mtime=0))
        else:
            (d / stem).write_bytes(data)
    return d


def fixture_arrays(n_train: int = 13, n_test: int = 2, h: int = 12, w: int = 8):
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (n_train, h, w)), np.arange(n_train) % 10,
            rng.integers(0, 256, (n_test, h, w)), (np.arange(n_test) + 3) % 10)


def edges_of(row_ptr, col_idx, nodes):
    dst = np.repeat(np.arange(nodes), np.diff(row_ptr[:nodes + 1]))
    return sorted(zip(col_idx[:row_ptr[nodes]].tolist(), dst.tolist()))


def test_grid_csr_8_neighbours():
    # 3 x 2 grid, nodes row-major:  0 1 / 2 3 / 4 5
    row_ptr, col_idx = grid_csr(3, 2)
    want = {0: [1, 2, 3], 1: [0, 2, 3], 2: [0, 1, 3, 4, 5], 3: [0, 1, 2, 4, 5], 4: [2, 3, 5], 5: [2, 3, 4]}
    for i in range(6):
        assert col_idx[row_ptr[i]:row_ptr[i + 1]].tolist() == want[i]
    # 7 x 7 (28 x 28 images, patch 4): 2 * (7*6 + 6*7 + 2*6*6) = 312 directed edges.
    assert grid_csr(7, 7)[1].size == 312
    assert grid_csr(1, 1)[1].size == 0


def test_fixture_graphs(tmp_path):
    train_x, train_y, test_x, test_y = fixture_arrays()
    gs = import_fashion_mnist(write_set(tmp_path, train_x, train_y, test_x, test_y), patch=4)
    gs.validate()
    assert gs.task == GRAPH_CLASSIFICATION and gs.num_classes == 10 and gs.class_names == CLASS_NAMES
    assert gs.num_graphs == 15 and gs.num_nodes == 15 * 6 and gs.num_edges == 15 * 22
    assert gs.feature_dim == 16 + 2 and gs.fold is None
    np.testing.assert_array_equal(gs.graph_ptr, np.arange(16) * 6)
    np.testing.assert_array_equal(gs.labels, np.concatenate([train_y, test_y]))
    # 13 train-file images: val = the last 13 // 12 = 1; test = the 2 t10k images after them.
    np.testing.assert_array_equal(gs.train, np.arange(12))
    np.testing.assert_array_equal(gs.val, [12])
    np.testing.assert_array_equal(gs.test, [13, 14])
    # Every graph has the same grid, shifted by its first node.
    rp, ci = grid_csr(3, 2)
    for g in (0, 7, 14):
        lo = g * 6
        np.testing.assert_array_equal(gs.row_ptr[lo:lo + 7] - gs.row_ptr[lo], rp)
        np.testing.assert_array_equal(gs.col_idx[gs.row_ptr[lo]:gs.row_ptr[lo + 6]] - lo, ci)
    # Features: node r*2+c of graph g = pixels [4r:4r+4, 4c:4c+4] / 255 row-major, then r / 2, c / 1.
    images = np.concatenate([train_x, test_x])
    for g in (0, 5, 13):
        for r in range(3):
            for c in range(2):
                row = gs.features[g * 6 + r * 2 + c]
                np.testing.assert_allclose(row[:16], images[g, 4 * r:4 * r + 4, 4 * c:4 * c + 4].reshape(-1) / 255,
                                           rtol=1e-6)
                np.testing.assert_allclose(row[16:], [r / 2, c / 1])
    assert gs.features.min() >= 0 and gs.features.max() <= 1


def test_patch_and_limits_and_uncompressed(tmp_path):
    train_x, train_y, test_x, test_y = fixture_arrays()
    d = write_set(tmp_path, train_x, train_y, test_x, test_y, gz=False)
    gs = import_fashion_mnist(d, patch=2, limit_train=5, limit_test=1)
    # 6 x 4 grid of 2 x 2 patches: 24 nodes, 2 * (6*3 + 5*4 + 2*5*3) = 136 edges; 5 // 12 = 0 val images.
    assert gs.num_graphs == 6 and gs.num_nodes == 6 * 24 and gs.num_edges == 6 * 136 and gs.feature_dim == 6
    assert (gs.train.size, gs.val.size, gs.test.size) == (5, 0, 1)
    np.testing.assert_array_equal(gs.labels, np.concatenate([train_y[:5], test_y[:1]]))
    # A patch as large as the image: one node per graph, no edges, coordinates 0.
    train_x, train_y, test_x, test_y = fixture_arrays(h=8, w=8)
    one = import_fashion_mnist(write_set(tmp_path / "one", train_x, train_y, test_x, test_y), patch=8)
    assert one.num_nodes == one.num_graphs == 15 and one.num_edges == 0
    np.testing.assert_array_equal(one.features[:, -2:], 0)
    np.testing.assert_allclose(one.features[3, :64], train_x[3].reshape(-1) / 255, rtol=1e-6)


def test_cli_writes_file(tmp_path, capsys):
    train_x, train_y, test_x, test_y = fixture_arrays()
    d = write_set(tmp_path / "src", train_x, train_y, test_x, test_y)
    out = tmp_path / "fm.qgd"
    assert main(["fashion-mnist", "--source", str(d), "--limit-test", "1", "-o", str(out)]) == 0
    assert "14 graphs" in capsys.readouterr().out
    gs = read_qgd(out)
    assert gs.name == "Fashion-MNIST" and gs.num_graphs == 14 and "8-neighbour" in gs.description


def _bad(tmp_path, **raw):
    train_x, train_y, test_x, test_y = fixture_arrays()
    return write_set(tmp_path / "bad", train_x, train_y, test_x, test_y, **raw)


TRAIN_X, TRAIN_Y, _, _ = fixture_arrays()
GOOD_IMAGES = idx_bytes(TRAIN_X)
BAD_CASES = {
    "bad magic": (dict(train_images=b"\x08\x03" + GOOD_IMAGES[2:]), r"bad IDX magic 0803"),
    "wrong element type": (dict(train_images=GOOD_IMAGES[:2] + b"\x0d" + GOOD_IMAGES[3:]), r"element type 0x0d"),
    "labels given as images": (dict(train_labels=GOOD_IMAGES), r"3 dimensions, expected 1"),
    "truncated header": (dict(train_images=GOOD_IMAGES[:10]), r"truncated IDX header"),
    "truncated data": (dict(train_images=GOOD_IMAGES[:-7]), r"truncated: dimensions \[13, 12, 8\]"),
    "trailing bytes": (dict(train_images=GOOD_IMAGES + b"\0\0"), r"2 bytes after"),
    "count mismatch": (dict(train_labels=idx_bytes(TRAIN_Y[:12])), r"13 images but .* 12 labels"),
    "label out of range": (dict(test_labels=idx_bytes(np.array([1, 10]))), r"label 10 of item 1 outside 0..9"),
    "size mismatch": (dict(test_images=idx_bytes(np.zeros((2, 8, 8)))), r"train images are \(12, 8\)"),
    "corrupt gzip": (dict(), r"cannot read or decompress"),
    "missing file": (dict(test_labels=None), r"missing file .*t10k-labels-idx1-ubyte.gz"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_malformed(tmp_path, capsys, case):
    raw, pattern = BAD_CASES[case]
    if case == "missing file":
        train_x, train_y, test_x, test_y = fixture_arrays()
        d = write_set(tmp_path / "bad", train_x, train_y, test_x, None)
    else:
        d = _bad(tmp_path, **raw)
    if case == "corrupt gzip":
        p = d / "train-labels-idx1-ubyte.gz"
        p.write_bytes(p.read_bytes()[:12] + b"garbage")
    with pytest.raises(DataError, match=pattern):
        import_fashion_mnist(d)
    out = tmp_path / "out.qgd"
    assert main(["fashion-mnist", "--source", str(d), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and not out.exists()


def test_bad_patch_and_source(tmp_path):
    train_x, train_y, test_x, test_y = fixture_arrays()
    d = write_set(tmp_path, train_x, train_y, test_x, test_y)
    with pytest.raises(DataError, match=r"patch size 5 does not divide the 12 x 8 images"):
        import_fashion_mnist(d, patch=5)
    with pytest.raises(DataError, match=r"--patch must be >= 1"):
        import_fashion_mnist(d, patch=0)
    with pytest.raises(DataError, match=r"limit must be >= 1"):
        import_fashion_mnist(d, limit_train=0)
    with pytest.raises(DataError, match=r"is not a directory"):
        import_fashion_mnist(tmp_path / "nope")
    assert read_idx(d / "t10k-labels-idx1-ubyte.gz", 1).tolist() == test_y.tolist()


def test_real_data(tmp_path, capsys):
    if not (REAL / "t10k-labels-idx1-ubyte.gz").exists():
        pytest.skip(f"{REAL} absent (apt-get install dataset-fashion-mnist)")
    out = tmp_path / "fm.qgd"
    assert main(["fashion-mnist", "--limit-train", "200", "--limit-test", "100", "-o", str(out)]) == 0
    gs = read_qgd(out)
    assert (gs.num_graphs, gs.num_nodes, gs.num_edges, gs.feature_dim) == (300, 300 * 49, 300 * 312, 18)
    assert (gs.train.size, gs.val.size, gs.test.size) == (184, 16, 100)
    assert gs.class_names == CLASS_NAMES
    # The first labels of the official files (Fashion-MNIST's README: train starts 9, 0, 0, 3; t10k 9, 2, 1, 1).
    assert gs.labels[:4].tolist() == [9, 0, 0, 3] and gs.labels[200:204].tolist() == [9, 2, 1, 1]
    assert 0 <= gs.features.min() and gs.features.max() <= 1
