"""Batching for PyTorch, and the bundled demo artifacts in models/ (consistent with their descriptions)."""

import re

import numpy as np
import pytest
import torch
from conftest import REPO

import qgnn
from qgnn import nn as qnn
from qgnn.io import read_model_info, read_qgd
from qgnn.train import accuracy, batch_graphs
from test_qgd_io import small_set

MODELS = REPO / "models"


def test_batch_graphs_relabels_and_keeps_order():
    gs = small_set()
    x, graph, labels = batch_graphs(gs, [2, 0, 0])
    np.testing.assert_array_equal(graph.graph_ptr.numpy(), [0, 1, 4, 7])
    np.testing.assert_array_equal(labels.numpy(), [1, 0, 0])
    np.testing.assert_array_equal(x.numpy(), gs.features[[5, 0, 1, 2, 0, 1, 2]])
    # Graph 0 (edges 1->0, 0->1, 2->1, 1->2) appears twice, shifted to nodes 1-3 and 4-6; graph 2 has none.
    np.testing.assert_array_equal(graph.row_ptr.numpy(), [0, 0, 1, 3, 4, 5, 7, 8])
    np.testing.assert_array_equal(graph.col_idx.numpy(), [2, 1, 3, 2, 5, 4, 6, 5])
    # A batch gives the same per-graph outputs as the graphs one by one.
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.GINConv(qnn.gin_mlp([2, 4, 3]), relu=True), qnn.GlobalPool("sum")).eval()
    with torch.no_grad():
        together = model(x, graph)
        alone = torch.cat([model(*batch_graphs(gs, [g])[:2]) for g in (2, 0, 0)])
    torch.testing.assert_close(together, alone)


def test_demo_float_model():
    model_path, data_path = MODELS / "mutag_gin_f32.qgnn", MODELS / "mutag.qgd"
    if not model_path.exists() or not data_path.exists():
        pytest.skip("models/ not built (scripts/make_demo_models.sh)")
    assert 100_000 < data_path.stat().st_size < 200_000
    gs = read_qgd(data_path)
    info = read_model_info(model_path)
    assert info["quantized"] is False and info["input_dim"] == gs.feature_dim == 7
    assert info["class_names"] == gs.class_names
    assert "scripts/train_demo_model.py" in info["description"]
    model = qgnn.load(model_path)
    # The accuracies recorded in the description are those of the file's model on the same splits.
    for split in ("train", "val", "test"):
        m = re.search(rf"{split} ([0-9.]+) \((\d+)/(\d+)\)", info["description"])
        assert m, f"no {split} accuracy in the description"
        n = gs.split(split).size
        assert int(m.group(3)) == n
        assert round(accuracy(model, gs, split) * n) == int(m.group(2))


def test_demo_int8_model_header():
    path = MODELS / "mutag_gin_int8.qgnn"
    if not path.exists():
        pytest.skip("models/mutag_gin_int8.qgnn not made (needs qgnn-convert)")
    info = read_model_info(path)
    assert info["quantized"] is True and info["input_dim"] == 7 and info["version"] == 1
