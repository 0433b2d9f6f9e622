"""python3 -m qgnn.train: node and graph classification, folds, the written model, the JSON summary, bad
arguments. Tiny data sets and few epochs; the CLI runs in-process except for one `-m` run."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import PYTHON_DIR, REPO

import qgnn
from qgnn.io import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, read_model, read_qgd, write_qgd
from qgnn.train import MODEL_CONV, accuracy, fold_split, num_folds
from qgnn.train.cli import main

MUTAG = REPO / "models" / "mutag.qgd"


def node_set() -> GraphSet:
    """60 nodes in 3 classes; features = noisy one-hot of the class; edges mostly inside a class."""
    rng = np.random.default_rng(0)
    n, c = 60, 3
    labels = np.arange(n) % c
    feats = np.eye(c, dtype=np.float32)[labels] + rng.normal(0, 0.8, (n, c)).astype(np.float32)
    src = rng.integers(0, n, 150)
    same_class = labels[src] + c * rng.integers(0, n // c, 150)  # node ids k with k % c == the class
    dst = np.where(rng.random(150) < 0.8, same_class, rng.integers(0, n, 150))
    from qgnn.data.common import edges_to_csr

    row_ptr, col_idx, _ = edges_to_csr(src, dst, n)
    idx = rng.permutation(n)
    return GraphSet(name="nodes", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=row_ptr, col_idx=col_idx,
                    features=feats, labels=labels, num_classes=c, class_names=["a", "b", "c"],
                    train=idx[:30], val=idx[30:45], test=idx[45:], description="synthetic")


def graph_set(folds: bool = True) -> GraphSet:
    """24 path graphs of 2..7 nodes; class = whether the graph has more than 4 nodes; 3 folds."""
    sizes = [2 + k % 6 for k in range(24)]
    graph_ptr = np.concatenate([[0], np.cumsum(sizes)])
    src, dst = [], []
    for start, size in zip(graph_ptr[:-1], sizes):
        a = np.arange(start, start + size - 1)
        src += [a, a + 1]
        dst += [a + 1, a]
    from qgnn.data.common import edges_to_csr

    n = int(graph_ptr[-1])
    row_ptr, col_idx, _ = edges_to_csr(np.concatenate(src), np.concatenate(dst), n)
    labels = (np.array(sizes) > 4).astype(np.int32)
    fold = np.arange(24) % 3
    return GraphSet(name="paths", task=GRAPH_CLASSIFICATION, graph_ptr=graph_ptr, row_ptr=row_ptr,
                    col_idx=col_idx, features=np.ones((n, 2), np.float32), labels=labels, num_classes=2,
                    class_names=["short", "long"], train=np.flatnonzero(fold == 2), val=np.flatnonzero(fold == 1),
                    test=np.flatnonzero(fold == 0), fold=fold if folds else None, description="synthetic")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("train_data")
    write_qgd(node_set(), d / "nodes.qgd")
    write_qgd(graph_set(), d / "paths.qgd")
    write_qgd(graph_set(folds=False), d / "paths_nofold.qgd")
    return d


def run(capsys, *argv):
    """main(argv) with --json; returns the parsed JSON summary and the progress output (stderr)."""
    assert main(list(argv) + ["--json"]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1, out  # stdout holds the summary only
    return json.loads(lines[0]), err


def check_summary(summary, path, task):
    assert path.is_file() and summary["output"] == str(path) and summary["output_bytes"] == path.stat().st_size
    assert summary["task"] == task
    for key in ("train_acc", "val_acc", "test_acc"):
        assert 0.0 <= summary[key] <= 1.0
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temporary left behind


def test_gin_mutag_fold0_module_entry(tmp_path):
    if not MUTAG.exists():
        pytest.skip("models/mutag.qgd not built (scripts/make_demo_models.sh)")
    out = tmp_path / "gin.qgnn"
    r = subprocess.run([sys.executable, "-m", "qgnn.train", "--data", str(MUTAG), "--model", "gin", "--fold", "0",
                        "--epochs", "2", "--hidden", "16", "--json", "-o", str(out)],
                       cwd=PYTHON_DIR, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    check_summary(summary, out, "graph_classification")
    assert summary["fold"] == 0 and summary["num_folds"] == 10 and summary["model"] == "gin"
    gs = read_qgd(MUTAG)
    model = qgnn.load(out)
    # Fold 0 is the stored split; the file's model scores what the summary says.
    data = fold_split(gs, 0)
    np.testing.assert_array_equal(data.test, gs.test)
    np.testing.assert_array_equal(data.val, gs.val)
    assert round(accuracy(model, data, "test"), 6) == summary["test_acc"]
    desc = read_model(out)
    assert desc.class_names == gs.class_names and desc.name == "mutag_gin"
    assert "--fold 0" in desc.description and "fold 0 of 10" in desc.description
    assert [layer.kind for layer in desc.layers] == ["GINConv", "GINConv", "GINConv", "GlobalPool", "Linear"]
    assert all(len(layer.mlp) == 2 for layer in desc.layers[:3])  # BatchNorm folded into the MLP's Linear


@pytest.mark.parametrize("model,extra", [("gcn", []), ("sage", []), ("sage", ["--aggr", "max"])])
def test_node_classification(capsys, data_dir, tmp_path, model, extra):
    out = tmp_path / "m.qgnn"
    summary, _ = run(capsys, "--data", str(data_dir / "nodes.qgd"), "--model", model, "--epochs", "30",
                     "-o", str(out), *extra)
    check_summary(summary, out, "node_classification")
    assert summary["fold"] is None and summary["hyper"]["hidden"] == 16 and summary["hyper"]["dropout"] == 0.5
    desc = read_model(out)
    assert [layer.kind for layer in desc.layers] == [MODEL_CONV[model]] * 2  # Dropout dropped at export
    if model == "sage":
        assert desc.layers[0].reduce == (extra[1] if extra else "mean") and desc.layers[0].root is not None
    gs = read_qgd(data_dir / "nodes.qgd")
    loaded = qgnn.load(out)
    assert round(accuracy(loaded, gs, "val"), 6) == summary["val_acc"]
    assert round(accuracy(loaded, gs, "test"), 6) == summary["test_acc"]
    assert summary["train_acc"] > 0.6  # it learned something from 30 epochs on an easy set


def test_folds_all_and_determinism(capsys, data_dir, tmp_path):
    data = str(data_dir / "paths.qgd")
    common = ["--data", data, "--model", "gin", "--epochs", "3", "--hidden", "8", "--layers", "2",
              "--batch-size", "8", "--seed", "3"]
    assert main(common + ["--folds", "all", "-o", str(tmp_path / "all.qgnn")]) == 0
    text = capsys.readouterr().out
    assert "test accuracy over 3 folds:" in text and "±" in text and "(mean ± std)" in text
    summary, _ = run(capsys, *common, "--folds", "all", "-o", str(tmp_path / "all.qgnn"))
    tests = [f["test"] for f in summary["folds"]]
    assert [f["fold"] for f in summary["folds"]] == [0, 1, 2] and summary["fold"] == 0
    assert summary["test_acc_mean"] == pytest.approx(np.mean(tests), abs=1e-6)
    assert summary["test_acc_std"] == pytest.approx(np.std(tests), abs=1e-6)
    assert summary["test_acc"] == tests[0]
    # A fold run alone gives the same model as inside --folds all (each fold reseeds), and the same
    # command writes the same bytes.
    one, _ = run(capsys, *common, "--fold", "1", "-o", str(tmp_path / "f1.qgnn"))
    again, _ = run(capsys, *common, "--fold", "1", "-o", str(tmp_path / "f1.qgnn"))
    assert one == again
    both, _ = run(capsys, *common, "--folds", "all", "--fold", "1", "-o", str(tmp_path / "all1.qgnn"))
    assert both["fold"] == 1 and both["test_acc"] == one["test_acc"] == summary["folds"][1]["test"]
    w1 = [d.weight for layer in read_model(tmp_path / "f1.qgnn").layers for d in layer.denses()]
    w2 = [d.weight for layer in read_model(tmp_path / "all1.qgnn").layers for d in layer.denses()]
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2)) and len(w1) == len(w2) > 0
    first = (tmp_path / "f1.qgnn").read_bytes()
    assert main(common + ["--fold", "1", "-o", str(tmp_path / "f1.qgnn"), "--json"]) == 0
    assert (tmp_path / "f1.qgnn").read_bytes() == first


def test_fold_convention_matches_tu_importer():
    gs = graph_set()
    assert num_folds(gs) == 3
    for k in range(3):
        s = fold_split(gs, k)
        assert set(s.test) == set(np.flatnonzero(gs.fold == k))
        assert set(s.val) == set(np.flatnonzero(gs.fold == (k + 1) % 3))
        assert set(s.train) == set(np.flatnonzero(gs.fold == (k + 2) % 3))
    # Fold 0 = what qgnn.data.tu stores as train/val/test.
    np.testing.assert_array_equal(fold_split(gs, 0).test, gs.test)
    np.testing.assert_array_equal(fold_split(gs, 0).val, gs.val)


@pytest.mark.parametrize("model", ["gcn", "sage"])
def test_graph_classification_stored_split(capsys, data_dir, tmp_path, model):
    out = tmp_path / "m.qgnn"
    summary, _ = run(capsys, "--data", str(data_dir / "paths_nofold.qgd"), "--model", model, "--epochs", "2",
                     "--hidden", "8", "--dropout", "0.2", "--pool", "mean", "-o", str(out))
    check_summary(summary, out, "graph_classification")
    assert summary["num_folds"] == 0 and summary["hyper"]["pool"] == "mean"
    assert [layer.kind for layer in read_model(out).layers] == [MODEL_CONV[model]] * 3 + ["GlobalPool", "Linear"]


BAD_USAGE = {  # argparse: exit status 2
    "unknown model": ["--model", "gatv2", "-o", "m.qgnn"],
    "no model": ["-o", "m.qgnn"],
    "no output": ["--model", "gcn"],
    "dropout 1": ["--model", "gcn", "--dropout", "1", "-o", "m.qgnn"],
    "hidden 0": ["--model", "gcn", "--hidden", "0", "-o", "m.qgnn"],
    "epochs not a number": ["--model", "gcn", "--epochs", "ten", "-o", "m.qgnn"],
    "negative lr": ["--model", "gcn", "--lr", "-0.1", "-o", "m.qgnn"],
    "aggr without sage": ["--model", "gcn", "--aggr", "max", "-o", "m.qgnn"],
    "bad aggr": ["--model", "sage", "--aggr", "sum", "-o", "m.qgnn"],
    "folds 5": ["--model", "gin", "--folds", "5", "-o", "m.qgnn"],
    "negative fold": ["--model", "gin", "--fold", "-1", "-o", "m.qgnn"],
    "missing output dir": ["--model", "gcn", "-o", "nodir/m.qgnn"],
}
BAD_DATA = {  # against the data set: exit status 1, "error: ..."
    "fold past k": ("paths.qgd", ["--model", "gin", "--fold", "3"], r"--fold 3 outside 0..2"),
    "fold on node set": ("nodes.qgd", ["--model", "gcn", "--fold", "0"],
                         r"--fold applies to graph classification"),
    "batch size on node set": ("nodes.qgd", ["--model", "gcn", "--batch-size", "4"], r"--batch-size applies"),
    "folds without fold array": ("paths_nofold.qgd", ["--model", "gin", "--folds", "all"], r"has no fold array"),
    "missing data": ("nope.qgd", ["--model", "gin"], r"nope.qgd"),
    "not a qgd": ("nodes.qgnn", ["--model", "gin"], r"file identifier|too short"),
}


@pytest.mark.parametrize("case", sorted(BAD_USAGE))
def test_bad_usage(capsys, data_dir, tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    argv = ["--data", str(data_dir / "nodes.qgd"), *BAD_USAGE[case]]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data(capsys, data_dir, tmp_path, case):
    name, extra, pattern = BAD_DATA[case]
    (data_dir / "nodes.qgnn").write_bytes(b"\0" * 64)
    out = tmp_path / "m.qgnn"
    assert main(["--data", str(data_dir / name), "-o", str(out), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert re.search(pattern, err), err
    assert not out.exists()
