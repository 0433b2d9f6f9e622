"""qgnn.folds: qgnn.train's fold semantics shared with qgnn.sim --fold (and, bit for bit, qgnn-run --fold), the
note for stored splits of sets with folds, the training-fold warning; every fold qgnn.data tu stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import PYTHON_DIR, REPO, find_tool
from qgnn import folds
from qgnn.qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, read_qgd

MUTAG_QGD = REPO / "models" / "mutag.qgd"
MUTAG_INT8 = REPO / "models" / "mutag_gin_int8.qgnn"


def folded_set(graphs: int = 20, k: int = 5, stored: int = 0) -> GraphSet:
    """`graphs` one-node graphs, graph g in fold g % k, stored split = fold `stored`'s."""
    fold = np.arange(graphs) % k
    idx = np.arange(graphs, dtype=np.uint32)
    val = (stored + 1) % k
    return GraphSet(name="folded", task=GRAPH_CLASSIFICATION, graph_ptr=np.arange(graphs + 1),
                    row_ptr=np.zeros(graphs + 1, np.int32), col_idx=np.zeros(0, np.int32),
                    features=np.ones((graphs, 1), np.float32), labels=(idx % 2).astype(np.int32), num_classes=2,
                    train=idx[(fold != stored) & (fold != val)], val=idx[fold == val], test=idx[fold == stored],
                    fold=fold.astype(np.uint8))


def test_train_reuses_the_one_definition():
    pytest.importorskip("torch")
    import qgnn.train as train

    assert train.fold_split is folds.fold_split and train.num_folds is folds.num_folds


@pytest.mark.parametrize("fold", range(5))
def test_fold_k_is_test_k_val_k_plus_1_train_the_rest(fold):
    gs = folded_set(23, 5)
    sel = {s: folds.select_split(gs, s, fold) for s in folds.FOLD_SPLITS}
    assert np.array_equal(sel["test"].indices, np.flatnonzero(gs.fold == fold))
    assert np.array_equal(sel["val"].indices, np.flatnonzero(gs.fold == (fold + 1) % 5))
    together = np.sort(np.concatenate([s.indices for s in sel.values()]))
    assert np.array_equal(together, np.arange(23))
    assert sel["test"].note is None and sel["test"].fold == fold and sel["test"].num_folds == 5
    assert sel["test"].description.startswith(f"split test of fold {fold} of 5 (test = fold {fold}, val = fold "
                                              f"{(fold + 1) % 5}, train = the rest): ")
    split = folds.fold_split(gs, fold)
    for s in folds.FOLD_SPLITS:
        assert np.array_equal(split.split(s), sel[s].indices)


def test_stored_split_says_which_fold_it_is():
    sel = folds.select_split(folded_set(20, 5, stored=3), "train")
    assert sel.fold is None and sel.description == "split train (stored): 12 graphs, 12 nodes"
    assert sel.note.startswith("split train = fold 3's train graphs")
    other = folded_set(20, 5)
    other.train[-1], other.test[-1] = other.test[-1], other.train[-1]
    assert "no fold's" in folds.select_split(other, "test").note
    assert folds.select_split(folded_set(20, 5), "all").note is None


@pytest.mark.parametrize("k,split,fold,message", [
    (0, "test", 0, "has no fold array"),
    (2, "test", 0, "has 2 folds; cross-validation needs at least 3"),
    (5, "test", 5, "--fold 5 outside 0..4"),
    (5, "all", 1, "--split all is every graph"),
    (5, "test", -1, "negative"),
    (5, "bogus", None, "unknown split"),
])
def test_clear_errors(k, split, fold, message):
    gs = folded_set(20, max(k, 1))
    if k == 0:
        gs.fold = None
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        folds.select_split(gs, split, fold)


def test_node_classification_has_no_folds():
    gs = folded_set(1, 1)
    gs.task = NODE_CLASSIFICATION
    gs.fold = None
    with pytest.raises(ValueError, match="is node classification"):
        folds.select_split(gs, "train", 0)


def test_training_fold_is_read_only_from_qgnn_trains_sentence():
    s = "x. Trained in float on fold 3 of 10 (test = fold 3, val = fold 4, train = the rest) of m.qgd: ..."
    assert folds.training_fold(s) == (3, 10)
    for other in ("Trained in float on the stored train/val/test split of m.qgd", "",
                  "Trained in float on fold 3 of 10 (test = fold 3, val = fold 5, train = the rest)"):
        assert folds.training_fold(other) is None
    gs = folded_set(20, 5)
    trained1 = "Trained in float on fold 1 of 5 (test = fold 1, val = fold 2, train = the rest)"
    assert folds.fold_mismatch_warning(trained1, gs, folds.select_split(gs, "test", 1)) is None
    w = folds.fold_mismatch_warning(trained1, gs, folds.select_split(gs, "test"))
    assert "trained on fold 1 of 5" in w and "the stored one, fold 0's" in w and "use --fold 1" in w


def test_tu_import_stores_every_fold(datasets, tmp_path):
    """qgnn.data tu keeps the whole fold array: every fold of k is a full, disjoint, stratified split."""
    src = datasets / "tu" / "MUTAG"
    if not src.is_dir():
        pytest.skip(f"{src} is absent")
    from qgnn.data.tu import import_tu

    gs = import_tu(src)
    k = folds.num_folds(gs)
    assert k == 10 and gs.fold.shape == (gs.num_graphs,)
    assert folds.stored_split_fold(gs) == 0
    for f in range(k):
        sel = {s: folds.select_split(gs, s, f).indices for s in folds.FOLD_SPLITS}
        assert sum(v.size for v in sel.values()) == gs.num_graphs
        assert abs(sel["test"].size - gs.num_graphs / k) <= 1


def _env(pythonpath: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = pythonpath
    return env


def test_sim_fold_matches_qgnn_run_fold(tmp_path):
    """qgnn.sim --fold runs the same graphs in the same order as qgnn-run --fold: identical logits."""
    cmd = [sys.executable, "-m", "qgnn.sim", str(MUTAG_INT8), str(MUTAG_QGD), "--split", "test", "--fold", "3",
           "--json"]
    r = subprocess.run(cmd, cwd=tmp_path, env=_env(str(PYTHON_DIR)), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    sim = json.loads(r.stdout)
    assert sim["fold"] == 3 and sim["selection"]["num_folds"] == 10 and sim["graphs"] == sim["selection"]["graphs"]
    assert "split test of fold 3 of 10" in sim["selection"]["description"]
    stored = subprocess.run(cmd[:-3] + ["--json"], cwd=tmp_path, env=_env(str(PYTHON_DIR)), capture_output=True,
                            text=True, timeout=300)
    assert "qgnn.sim: note: split test = fold 0's test graphs" in stored.stderr
    bad = subprocess.run(cmd[:-1] + ["--split", "all"], cwd=tmp_path, env=_env(str(PYTHON_DIR)),
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "--split all is every graph" in bad.stderr
    tool = find_tool("qgnn-run")
    if tool is None:
        pytest.skip("qgnn-run is not built (set QGNN_BUILD to require it)")
    run = subprocess.run([str(tool), str(MUTAG_INT8), str(MUTAG_QGD), "--split", "test", "--fold", "3", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    native = json.loads(run.stdout)
    assert native["outputs_sha256"] == sim["outputs_sha256"]
    assert native["selection"] == sim["selection"]
