"""bench/torch_standard.py's GAT (PyG's GATConv formulation: edge-wise logits, scatter softmax, weighted scatter
sum) computes the float GAT file's network: it equals the layer's definition (a dense masked softmax, float64)
to float rounding, the runtime's float path (qgnn-run) predicts what it predicts, and bench/pytorch_baseline.py
runs a GAT file (the model qgnn-bench-gat-model writes) with that check. Without that, "INT8 is N x PyTorch's
GAT" would compare different networks."""

import json
import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import REPO, find_tool
from test_pytorch_baseline import NEAR_TIE, node_set

from qgnn import nn as qnn
from qgnn.io import write_qgd
from qgnn.model_file import GAT_CONV, LINEAR, DenseDesc, LayerDesc, ModelDesc, read_model, write_model

sys.path.insert(0, str(REPO / "bench"))
import pytorch_baseline  # noqa: E402
import torch_standard  # noqa: E402

REL = 1e-5


def gat_layer(rng, name, in_dim, heads, head_dim, concat, relu):
    cols = heads * head_dim
    bound = 1.0 / math.sqrt(in_dim)
    # Attention vectors of norm ~ 2 per head: logits spread over a few units, so the softmax weights differ
    # between neighbours (flat weights would make GAT a mean, which a wrong softmax could still match).
    return LayerDesc(GAT_CONV, name, relu, dense=DenseDesc(rng.uniform(-bound, bound, (cols, in_dim)), None),
                     heads=heads, head_dim=head_dim, concat=concat,
                     att_src=rng.uniform(-2, 2, cols).astype(np.float32),
                     att_dst=rng.uniform(-2, 2, cols).astype(np.float32),
                     output_bias=rng.uniform(-0.1, 0.1, cols if concat else head_dim).astype(np.float32))


def gat_model(f, classes, seed=0, mean_last=False) -> ModelDesc:
    rng = np.random.default_rng(seed)
    last = gat_layer(rng, "gat1", 4 * 4, 2 if mean_last else 1, classes, not mean_last, False)
    return ModelDesc(input_dim=f, name="gat", task=1, layers=[gat_layer(rng, "gat0", f, 4, 4, True, True), last])


def run(desc, gs, sparse=False):
    graph = qnn.Graph(gs.row_ptr.astype(np.int64), gs.col_idx.astype(np.int64), gs.graph_ptr.astype(np.int64))
    x = torch.from_numpy(gs.features.copy())
    std = torch_standard.standard_gat_from_file(desc)
    with torch.no_grad():
        y = std(x.to_sparse() if sparse else x, torch_standard.Adjacency(graph), graph)
    return y.numpy(), torch_standard.gat_dense_reference(desc, x, graph).numpy()


@pytest.mark.parametrize("mean_last", [False, True])
def test_gat_formulation_equals_the_definition(tmp_path, mean_last):
    rng = np.random.default_rng(3)
    gs = node_set(rng)
    # Duplicate edges count twice in a row's softmax, as in the runtime's sum over the CSR row.
    gs = replace(gs, col_idx=np.concatenate([gs.col_idx[:1], gs.col_idx]),
                 row_ptr=np.concatenate([[0], gs.row_ptr[1:] + 1]))
    path = tmp_path / "gat.qgnn"
    write_model(gat_model(40, 3, mean_last=mean_last), path)
    desc = read_model(path)
    assert torch_standard.is_gat_file(desc)
    std = torch_standard.standard_gat_from_file(desc)
    assert isinstance(std.layers[0], torch_standard.GAT) and std.takes_sparse_features()
    for sparse in (False, True):
        y, ref = run(desc, gs, sparse)
        assert y.shape == (gs.num_nodes, 3) and np.abs(ref).max() > 0.1
        np.testing.assert_allclose(y, ref, rtol=0, atol=REL * np.abs(ref).max())
    # The tolerance separates networks: the same one with a_src zeroed (the logits of the destination only)
    # is far outside it.
    desc_no_att = replace(desc, layers=[replace(desc.layers[0], att_src=desc.layers[0].att_src * 0)] +
                          desc.layers[1:])
    y2, _ = run(desc_no_att, gs)
    assert np.abs(y2 - ref).max() > 1e-3 * np.abs(ref).max()


def test_gat_formulation_refuses_other_kinds():
    rng = np.random.default_rng(4)
    desc = gat_model(40, 3)
    desc.layers.insert(1, LayerDesc("GCNConv", "gcn", True, dense=DenseDesc(rng.standard_normal((16, 16)), None)))
    with pytest.raises(ValueError, match="GATConv and Linear layers only"):
        torch_standard.standard_gat_from_file(desc)
    head = ModelDesc(input_dim=40, name="g", task=1,
                     layers=[gat_model(40, 3).layers[0],
                             LayerDesc(LINEAR, "head", False, dense=DenseDesc(rng.standard_normal((3, 16)), None))])
    assert isinstance(torch_standard.standard_gat_from_file(head).layers[1], torch.nn.Linear)


def test_gat_predicts_what_the_runtime_predicts(tmp_path):
    """qgnn-bench-gat-model's float model in qgnn-run, scored against the PyTorch formulation's predictions."""
    qgnn_run, writer = find_tool("qgnn-run"), find_tool("qgnn-bench-gat-model")
    if qgnn_run is None or writer is None:
        pytest.skip("qgnn-run / qgnn-bench-gat-model are not built (cmake --build build/release --target qgnn-run "
                    "qgnn-bench-gat-model)")
    gs = node_set(np.random.default_rng(1), n=300, f=64, classes=7, density=0.5)
    data, model = tmp_path / "small.qgd", tmp_path / "gat.qgnn"
    write_qgd(gs, data)
    r = subprocess.run([str(writer), str(data), "-o", str(model)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    desc = read_model(model)
    assert [(l.kind, l.heads, l.head_dim, l.concat, l.relu) for l in desc.layers] == [
        (GAT_CONV, 8, 8, True, True), (GAT_CONV, 1, 7, True, False)]
    y, ref = run(desc, gs)
    np.testing.assert_allclose(y, ref, rtol=0, atol=REL * np.abs(ref).max())
    assert np.bincount(y.argmax(1)).max() < 0.8 * len(y)  # node-dependent predictions
    top2 = np.sort(y, axis=1)[:, -2:]
    ties = int(np.count_nonzero(top2[:, 1] - top2[:, 0] <= NEAR_TIE * (1 + np.abs(top2[:, 1]))))
    relabelled = tmp_path / "relabelled.qgd"
    write_qgd(replace(gs, labels=y.argmax(1)), relabelled)
    r = subprocess.run([str(qgnn_run), str(model), str(relabelled), "--json", "--split", "all"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["quantized"] is False and rep["evaluated"] == gs.num_nodes
    assert rep["evaluated"] - rep["correct"] <= ties

    # The baseline script runs the same file: every standard variant, checked against the definition.
    out = pytorch_baseline.run(str(model), str(data), batch=1, threads=1, warmup=0, repeat=2, semantics="all",
                               sparse="yes")
    assert list(out["variants"]) == ["dense", "sparse", "int8-dynamic"]
    assert "no GATConv" in out["skipped"]["qgnn-semantics"] and "GAT definition" in out["reference"]
    for name, v in out["variants"].items():
        assert "GAT" in v["label"] and v["invoke_us"]["p50"] > 0
        assert v["vs_qgnn_nn"]["max_rel_diff"] <= (0.1 if name == "int8-dynamic" else 1e-5), name
