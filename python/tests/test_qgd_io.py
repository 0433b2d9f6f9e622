"""The .qgd reader/writer: round trip, atomic writes, rejection of bad files and bad contents."""

import numpy as np
import pytest

from qgnn.io import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, FormatError, GraphSet, read_qgd, write_qgd
from qgnn.schema import qgd_generated as fbd


def small_set(**overrides) -> GraphSet:
    # Two graphs: nodes 0-2 (path 0-1-2), node 3-4 (edge 3->4 only), plus an isolated graph of one node (5).
    kw = dict(
        name="tiny ✓",  # non-ASCII on purpose
        task=GRAPH_CLASSIFICATION,
        graph_ptr=[0, 3, 5, 6],
        row_ptr=[0, 1, 3, 4, 4, 5, 5],
        col_idx=[1, 0, 2, 1, 3],
        features=np.arange(12, dtype=np.float32).reshape(6, 2) / 7,
        labels=[0, 2, 1],
        num_classes=3,
        class_names=["a", "b", "c"],
        train=[0],
        val=[1],
        test=[2],
        fold=[0, 1, 2],
        description="hand-made",
    )
    kw.update(overrides)
    return GraphSet(**kw)


def test_round_trip(tmp_path):
    gs = small_set()
    path = tmp_path / "t.qgd"
    write_qgd(gs, path)
    data = path.read_bytes()
    assert data[4:8] == b"QGD1"
    back = read_qgd(path)
    for field in ("name", "task", "num_classes", "class_names", "description"):
        assert getattr(back, field) == getattr(gs, field)
    for field in ("graph_ptr", "row_ptr", "col_idx", "features", "labels", "train", "val", "test", "fold"):
        np.testing.assert_array_equal(getattr(back, field), getattr(gs, field))
    # Header counts as the schema asks, through the generated bindings directly.
    t = fbd.GraphSet.GetRootAs(data, 0)
    assert (t.Version(), t.NumNodes(), t.NumEdges(), t.FeatureDim(), t.NumClasses()) == (1, 6, 5, 2, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["t.qgd"]  # no temporary file left behind


def test_node_task_without_fold(tmp_path):
    gs = small_set(task=NODE_CLASSIFICATION, graph_ptr=[0, 6], labels=[0, 1, 2, 0, 1, 2], fold=None,
                   train=[0, 1], val=[2], test=[3, 4, 5])
    write_qgd(gs, tmp_path / "n.qgd")
    back = read_qgd(tmp_path / "n.qgd")
    assert back.fold is None and back.task == NODE_CLASSIFICATION
    np.testing.assert_array_equal(back.split("all"), np.arange(6))


@pytest.mark.parametrize("overrides, message", [
    (dict(col_idx=[1, 0, 2, 1, 9]), "outside"),
    (dict(col_idx=[1, 0, 2, 3, 3]), "different graphs"),
    (dict(row_ptr=[0, 1, 3, 2, 4, 5, 5]), "row_ptr"),
    (dict(graph_ptr=[0, 3, 5, 7]), "graph_ptr"),
    (dict(labels=[0, 3, 1]), "labels outside"),
    (dict(labels=[0, 1]), "expected 3 labels"),
    (dict(test=[3]), "split test"),
    (dict(class_names=["a"]), "class names"),
    (dict(features=np.full((6, 2), np.nan, np.float32)), "NaN"),
    (dict(fold=[0, 1]), "fold"),
])
def test_invalid_contents_rejected(tmp_path, overrides, message):
    with pytest.raises(FormatError, match=message):
        write_qgd(small_set(**overrides), tmp_path / "bad.qgd")
    assert not list(tmp_path.iterdir())


def test_failed_write_keeps_old_file(tmp_path):
    path = tmp_path / "t.qgd"
    write_qgd(small_set(), path)
    before = path.read_bytes()
    with pytest.raises(FormatError):
        write_qgd(small_set(labels=[7, 7, 7]), path)
    assert path.read_bytes() == before


def test_bad_files_rejected(tmp_path):
    good = tmp_path / "t.qgd"
    write_qgd(small_set(), good)
    data = good.read_bytes()
    cases = {
        "short.qgd": b"QGD",
        "ident.qgd": data[:4] + b"QGNN" + data[8:],
        "trunc.qgd": data[: len(data) // 2],
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FormatError):
            read_qgd(tmp_path / name)
