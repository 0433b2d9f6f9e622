"""The C++ runtime's float path (qgnn-run) agrees with the PyTorch modules.

Skipped unless qgnn-run is built (build/release/qgnn-run or build*/tools/qgnn-run). qgnn-run reports only
correct/evaluated counts, so predictions are compared by scoring the runtime against a copy of the data set
whose labels are the PyTorch predictions: it must score 100%, except for items whose two best PyTorch logits
are within 1e-4 (relative) of each other, where float summation order may flip the argmax; the number of such
near-ties is the allowed mismatch count (0 in practice).
"""

import json
import subprocess
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import REPO, find_tool, require_dir

import qgnn
from qgnn import nn as qnn
from qgnn.io import read_qgd, write_qgd
from qgnn.train import batch_graphs, whole

QGNN_RUN = find_tool("qgnn-run")
pytestmark = pytest.mark.skipif(QGNN_RUN is None, reason="qgnn-run is not built (cmake --preset release && "
                                                          "cmake --build build/release)")
NEAR_TIE = 1e-4


def run_tool(model, data, split):
    r = subprocess.run([str(QGNN_RUN), str(model), str(data), "--json", "--split", split],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"qgnn-run failed: {r.stderr}"
    return json.loads(r.stdout)


def torch_logits(model, gs, split):
    idx = gs.split(split).astype(np.int64)
    model.eval()
    with torch.no_grad():
        if gs.task == 0:
            x, graph, _ = batch_graphs(gs, idx)
            return model(x, graph).numpy()
        x, graph = whole(gs)
        return model(x, graph).numpy()[idx]


def near_ties(logits):
    top2 = np.sort(logits, axis=1)[:, -2:]
    return int(np.count_nonzero(top2[:, 1] - top2[:, 0] <= NEAR_TIE * (1 + np.abs(top2[:, 1]))))


def assert_same_predictions(model_path, gs, tmp_path, split="all"):
    """Score the runtime against PyTorch's own predictions of the float model read back from the file."""
    model = qgnn.load(model_path)
    logits = torch_logits(model, gs, split)
    labels = gs.labels.copy()
    labels[gs.split(split).astype(np.int64)] = logits.argmax(axis=1)
    relabelled = replace(gs, labels=labels, num_classes=logits.shape[1], class_names=[])
    data = tmp_path / "relabelled.qgd"
    write_qgd(relabelled, data)
    rep = run_tool(model_path, data, split)
    assert rep["quantized"] is False and rep["evaluated"] == logits.shape[0]
    allowed = near_ties(logits)
    assert rep["evaluated"] - rep["correct"] <= allowed, (
        f"runtime and PyTorch disagree on {rep['evaluated'] - rep['correct']} of {rep['evaluated']} "
        f"predictions ({allowed} near-ties allowed)")


def test_demo_model_accuracy_matches_pytorch(tmp_path):
    model_path, data_path = REPO / "models" / "mutag_gin_f32.qgnn", REPO / "models" / "mutag.qgd"
    if not model_path.exists() or not data_path.exists():
        pytest.skip("models/ not built (scripts/make_demo_models.sh)")
    gs = read_qgd(data_path)
    model = qgnn.load(model_path)
    for split in ("train", "val", "test"):
        logits = torch_logits(model, gs, split)
        torch_correct = int((logits.argmax(1) == gs.labels[gs.split(split).astype(np.int64)]).sum())
        rep = run_tool(model_path, data_path, split)
        assert rep["evaluated"] == logits.shape[0]
        assert abs(rep["correct"] - torch_correct) <= near_ties(logits), \
            (split, rep["correct"], torch_correct)
    assert_same_predictions(model_path, gs, tmp_path)


def test_every_layer_kind_on_mutag(tmp_path, datasets):
    from qgnn.data import import_tu

    gs = import_tu(require_dir(datasets / "tu" / "MUTAG"))
    torch.manual_seed(1)
    for pool in ("sum", "mean", "max"):
        model = qnn.GraphModel(
            qnn.GCNConv(7, 16, relu=True),
            qnn.SAGEConv(16, 16, reduce="mean", relu=True),
            qnn.SAGEConv(16, 12, reduce="max", root_weight=False, relu=True),
            qnn.GINConv(qnn.gin_mlp([12, 12, 12]), eps=0.3, relu=True),
            qnn.GlobalPool(pool),
            qnn.Linear(12, 8, relu=True),
            qnn.Linear(8, 4),
        )
        path = tmp_path / f"every_{pool}.qgnn"
        qgnn.export(model, path)
        assert_same_predictions(path, gs, tmp_path)


def test_node_classification_on_cora(tmp_path, datasets):
    from qgnn.data import import_planetoid

    pytest.importorskip("scipy")
    gs = import_planetoid(require_dir(datasets / "planetoid"), "cora")
    torch.manual_seed(2)
    model = qnn.GraphModel(qnn.GCNConv(1433, 16, relu=True), qnn.SAGEConv(16, 16, reduce="max", relu=True),
                           qnn.GCNConv(16, 7))
    path = tmp_path / "cora.qgnn"
    qgnn.export(model, path)
    assert_same_predictions(path, gs, tmp_path, split="test")


def test_demo_int8_model_runs():
    """The committed INT8 model loads and runs (its accuracy is the converter's business; see docs)."""
    model_path, data_path = REPO / "models" / "mutag_gin_int8.qgnn", REPO / "models" / "mutag.qgd"
    if not model_path.exists():
        pytest.skip("models/mutag_gin_int8.qgnn not made (needs qgnn-convert)")
    rep = run_tool(model_path, data_path, "test")
    assert rep["quantized"] is True and rep["evaluated"] == read_qgd(data_path).test.size


def test_unfolded_batchnorm_runs_in_the_runtime_like_the_folded_model(tmp_path):
    """A float model exported with fold_batchnorm=False: the runtime executes each BatchNorm (after the
    Dense's bias, before its ReLU) and predicts what PyTorch and the folded export predict."""
    from qgnn.export_model import from_desc
    from qgnn.train import Hyper, fit

    data_path = REPO / "models" / "mutag.qgd"
    gs = read_qgd(data_path)
    hp = Hyper.defaults(gs.task)
    hp.epochs, hp.hidden, hp.layers = 5, 16, 2
    model, _ = fit("gin", gs, hp, seed=0)  # GIN MLPs Linear-BatchNorm1d-ReLU-Linear, trained statistics
    bn_path, folded_path = tmp_path / "bn.qgnn", tmp_path / "folded.qgnn"
    desc = qgnn.export(model, bn_path, fold_batchnorm=False)
    qgnn.export(model, folded_path)
    assert sum(d.batch_norm is not None for layer in desc.layers for d in layer.denses()) == 2
    # A meaningful test: ignoring the BatchNorms would change predictions (an old runtime skips the field).
    logits = torch_logits(qgnn.load(bn_path), gs, "all")
    for layer in desc.layers:
        for d in layer.denses():
            d.batch_norm = None
    ignored = torch_logits(from_desc(desc), gs, "all")
    assert np.count_nonzero(logits.argmax(1) != ignored.argmax(1)) > near_ties(logits) + 5
    assert len(set(logits.argmax(1).tolist())) == 2
    assert_same_predictions(bn_path, gs, tmp_path)
    bn_rep, folded_rep = run_tool(bn_path, data_path, "all"), run_tool(folded_path, data_path, "all")
    assert abs(bn_rep["correct"] - folded_rep["correct"]) <= near_ties(logits)


def test_gat_on_cora_and_on_graphs_with_self_loops(tmp_path, datasets):
    """qgnn.nn.GATConv and the runtime's float GATConv predict alike: Cora with the paper's shape (8 heads of 8,
    then 1 head), and random graphs with explicit self-loops and duplicate edges, concatenated and averaged
    heads. On those graphs the runtime counts an explicit self-loop beside the one it adds: a module that
    dropped the duplicate would predict differently (checked, so the comparison can fail)."""
    from test_sim_runtime import random_graph_set

    from qgnn.data import import_planetoid
    from qgnn.io import NODE_CLASSIFICATION

    pytest.importorskip("scipy")
    cora = import_planetoid(require_dir(datasets / "planetoid"), "cora")
    torch.manual_seed(3)
    model = qnn.GraphModel(qnn.GATConv(1433, 8, heads=8, relu=True, dropout=0.6), qnn.GATConv(64, 7))
    path = tmp_path / "cora_gat.qgnn"
    qgnn.export(model, path)
    assert_same_predictions(path, cora, tmp_path, split="test")

    gs = random_graph_set(21, NODE_CLASSIFICATION, 6, 5)
    dst = np.repeat(np.arange(gs.num_nodes), np.diff(gs.row_ptr))
    loops = dst == gs.col_idx
    assert loops.sum() > 5  # explicit self-loop edges present
    torch.manual_seed(4)
    model = qnn.GraphModel(qnn.GATConv(6, 5, heads=3, relu=True), qnn.GATConv(15, 5, heads=4, concat=False))
    with torch.no_grad():  # sharper attention, so the attention weights decide the predictions
        for conv in model.layers:
            conv.att_src.mul_(4.0)
            conv.att_dst.mul_(4.0)
    path = tmp_path / "gat_loops.qgnn"
    qgnn.export(model, path)
    assert_same_predictions(path, gs, tmp_path)
    logits = torch_logits(qgnn.load(path), gs, "all")
    keep = ~loops
    degree = np.bincount(dst[keep], minlength=gs.num_nodes)
    deduped = replace(gs, row_ptr=np.concatenate([[0], np.cumsum(degree)]), col_idx=gs.col_idx[keep])
    assert np.count_nonzero(torch_logits(qgnn.load(path), deduped, "all").argmax(1) != logits.argmax(1)) > 0
