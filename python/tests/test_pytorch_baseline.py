"""bench/pytorch_baseline.py's standard formulation (bench/torch_standard.py) runs the same network as the
float .qgnn: its outputs equal qgnn.load's (the runtime's semantics in PyTorch) to float rounding, and the
runtime's float path (qgnn-run) predicts what it predicts. Without that, a speed-up "over PyTorch" would
compare different networks."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import REPO, find_tool

import qgnn
from qgnn import nn as qnn
from qgnn.io import NODE_CLASSIFICATION, GRAPH_CLASSIFICATION, GraphSet, read_qgd, write_qgd

sys.path.insert(0, str(REPO / "bench"))
import pytorch_baseline  # noqa: E402
import torch_standard  # noqa: E402

# Float rounding only: the two formulations sum the same products in a different order.
REL = 1e-5
NEAR_TIE = 1e-4


def random_graph(rng, n, avg_degree, graph_ptr=None):
    """Symmetric CSR without self-loops, a few isolated nodes, edges only inside each graph of graph_ptr."""
    graph_ptr = [0, n] if graph_ptr is None else graph_ptr
    rows = [[] for _ in range(n)]
    for g0, g1 in zip(graph_ptr[:-1], graph_ptr[1:]):
        size = g1 - g0
        for _ in range(size * avg_degree // 2):
            a, b = rng.integers(g0, g1, 2)
            if a != b and a < g1 - 1 and b < g1 - 1:  # the last node of each graph stays isolated
                rows[a].append(b)
                rows[b].append(a)
    row_ptr = np.cumsum([0] + [len(r) for r in rows])
    col_idx = np.array([j for r in rows for j in r], dtype=np.int64)
    return row_ptr, col_idx


def sparse_features(rng, n, f, density):
    x = rng.standard_normal((n, f)).astype(np.float32)
    x[rng.random((n, f)) > density] = 0.0
    return x


def node_set(rng, n=60, f=40, classes=3, density=0.08):
    row_ptr, col_idx = random_graph(rng, n, 4)
    idx = np.arange(n)
    return GraphSet(name="small", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=row_ptr, col_idx=col_idx,
                    features=sparse_features(rng, n, f, density), labels=idx % classes, num_classes=classes,
                    train=idx[:30], val=idx[30:45], test=idx[45:])


def gcn_model(f, hidden, classes):
    torch.manual_seed(2)  # a seed whose 4-class predictions spread over the classes (0.4 / 0.37 / 0.14 / 0.1)
    model = qnn.GraphModel(qnn.GCNConv(f, hidden, relu=True), qnn.GCNConv(hidden, classes))
    with torch.no_grad():
        # Non-zero biases exercise the "+ b after aggregation" placement; weights large enough that the
        # predictions depend on the node, not on the last bias alone.
        for layer in model.layers:
            layer.lin.weight.mul_(4.0)
            layer.lin.bias.uniform_(-0.2, 0.2)
    return model


def outputs(std, ref, gs, sparse=False, layout="coo"):
    rp, ci, gp = gs.row_ptr.astype(np.int64), gs.col_idx.astype(np.int64), gs.graph_ptr.astype(np.int64)
    graph = qnn.Graph(rp, ci, gp)
    x = torch.from_numpy(gs.features.copy())
    adj = torch_standard.Adjacency(graph, layout)
    with torch.no_grad():
        y = std(x.to_sparse() if sparse else x, adj, graph)
        return y.numpy(), ref(x, graph).numpy()


def assert_same(y, ref):
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=0, atol=REL * np.abs(ref).max())


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_gcn_standard_equals_qgnn_semantics(tmp_path, layout):
    gs = node_set(np.random.default_rng(0))
    path = tmp_path / "gcn.qgnn"
    qgnn.export(gcn_model(40, 16, 3), path)
    ref = qgnn.load(path)
    std = torch_standard.standard_from_qgnn(ref)
    assert isinstance(std.layers[0], torch_standard.GCN) and std.takes_sparse_features()
    for sparse in (False, True):
        y, r = outputs(std, ref, gs, sparse, layout)
        assert np.abs(r).max() > 0.1  # a network that outputs zeros would prove nothing
        assert_same(y, r)


def test_gcn_standard_predicts_what_the_runtime_predicts(tmp_path):
    """Score the float model in qgnn-run against labels set to the standard formulation's predictions."""
    qgnn_run = find_tool("qgnn-run")
    if qgnn_run is None:
        pytest.skip("qgnn-run is not built (cmake --build build/release --target qgnn-run)")
    gs = node_set(np.random.default_rng(1), n=200, f=64, classes=4, density=0.5)
    path = tmp_path / "gcn.qgnn"
    qgnn.export(gcn_model(64, 16, 4), path)
    std = torch_standard.standard_from_qgnn(qgnn.load(path))
    y, _ = outputs(std, qgnn.load(path), gs)
    assert np.bincount(y.argmax(1)).max() < 0.8 * len(y)  # node-dependent predictions: a wrong Â changes some
    top2 = np.sort(y, axis=1)[:, -2:]
    ties = int(np.count_nonzero(top2[:, 1] - top2[:, 0] <= NEAR_TIE * (1 + np.abs(top2[:, 1]))))
    data = tmp_path / "relabelled.qgd"
    write_qgd(replace(gs, labels=y.argmax(1)), data)
    r = subprocess.run([str(qgnn_run), str(path), str(data), "--json", "--split", "all"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["quantized"] is False and rep["evaluated"] == gs.num_nodes
    assert rep["evaluated"] - rep["correct"] <= ties


def test_sage_and_gin_follow_pyg_and_equal_qgnn_semantics(tmp_path):
    rng = np.random.default_rng(2)
    gs = node_set(rng)
    torch.manual_seed(4)
    sage = qnn.GraphModel(qnn.SAGEConv(40, 16, reduce="mean", relu=True), qnn.SAGEConv(16, 8, reduce="max"),
                          qnn.Linear(8, 3))
    qgnn.export(sage, tmp_path / "sage.qgnn")
    ref = qgnn.load(tmp_path / "sage.qgnn")
    std = torch_standard.standard_from_qgnn(ref)
    assert not std.takes_sparse_features()  # PyG's SAGEConv gathers raw rows first
    assert_same(*outputs(std, ref, gs))

    # A leading Linear also takes sparse features (torch.sparse.mm(X, W)), then the GCN its dense output.
    torch.manual_seed(5)
    mlp_first = qnn.GraphModel(qnn.Linear(40, 16, relu=True), qnn.GCNConv(16, 3))
    qgnn.export(mlp_first, tmp_path / "mlp_first.qgnn")
    ref = qgnn.load(tmp_path / "mlp_first.qgnn")
    std = torch_standard.standard_from_qgnn(ref)
    assert isinstance(std.layers[0], torch_standard.FirstLinear) and std.takes_sparse_features()
    assert_same(*outputs(std, ref, gs, sparse=True))

    graph_ptr = [0, 10, 25, 31, 40]
    row_ptr, col_idx = random_graph(rng, 40, 3, graph_ptr)
    graphs = GraphSet(name="graphs", task=GRAPH_CLASSIFICATION, graph_ptr=graph_ptr, row_ptr=row_ptr,
                      col_idx=col_idx, features=sparse_features(rng, 40, 7, 0.3), labels=[0, 1, 0, 1],
                      num_classes=2, train=[0, 1, 2, 3])
    gin = qnn.GraphModel(qnn.GINConv(qnn.gin_mlp([7, 16, 16]), eps=0.25, relu=True), qnn.GlobalPool("sum"),
                         qnn.Linear(16, 2))
    qgnn.export(gin, tmp_path / "gin.qgnn")
    ref = qgnn.load(tmp_path / "gin.qgnn")
    assert_same(*outputs(torch_standard.standard_from_qgnn(ref), ref, graphs))


def test_baseline_runs_every_variant_and_labels_the_old_one(tmp_path):
    gs = node_set(np.random.default_rng(5))
    write_qgd(gs, tmp_path / "small.qgd")
    qgnn.export(gcn_model(40, 16, 3), tmp_path / "gcn.qgnn")
    r = pytorch_baseline.run(str(tmp_path / "gcn.qgnn"), str(tmp_path / "small.qgd"), batch=1, threads=1,
                             warmup=0, repeat=2, semantics="all")
    assert list(r["variants"]) == ["dense", "sparse", "int8-dynamic", "qgnn-semantics"] and not r["skipped"]
    for name, v in r["variants"].items():
        assert len(v["pass_us"]) == 2 and 0 < v["invoke_us"]["p50"] <= v["invoke_us"]["p99"]
        assert v["vs_qgnn_nn"]["max_rel_diff"] <= (0.1 if name == "int8-dynamic" else 1e-5), name
    assert "not how users run it" in r["variants"]["qgnn-semantics"]["label"]
    # Dense features (above --sparse auto's 10 %) get no sparse variant, and the JSON says why.
    dense = replace(gs, features=np.random.default_rng(6).random(gs.features.shape).astype(np.float32))
    write_qgd(dense, tmp_path / "dense.qgd")
    r = pytorch_baseline.run(str(tmp_path / "gcn.qgnn"), str(tmp_path / "dense.qgd"), batch=1, threads=1,
                             warmup=0, repeat=1)
    assert list(r["variants"]) == ["dense", "int8-dynamic"] and "non-zero" in r["skipped"]["sparse"]


def test_baseline_refuses_a_different_network(tmp_path, monkeypatch):
    gs = node_set(np.random.default_rng(7))
    write_qgd(gs, tmp_path / "small.qgd")
    qgnn.export(gcn_model(40, 16, 3), tmp_path / "gcn.qgnn")
    # A GCN that forgets the self-loops of Â is a different function: the agreement check must catch it.
    monkeypatch.setattr(torch_standard.Adjacency, "__init__", _without_self_loops(torch_standard.Adjacency.__init__))
    with pytest.raises(RuntimeError, match="not the same network"):
        pytorch_baseline.run(str(tmp_path / "gcn.qgnn"), str(tmp_path / "small.qgd"), batch=1, threads=1,
                             warmup=0, repeat=1)


def _without_self_loops(init):
    def patched(self, graph, layout="coo"):
        init(self, graph, layout)
        self.gcn = self.sum
    return patched


def test_bundled_cora_model_standard_equals_qgnn_semantics(datasets, tmp_path):
    model_path = REPO / "models" / "cora_gcn_f32.qgnn"
    planetoid = datasets / "planetoid"
    if not model_path.exists() or not planetoid.is_dir():
        pytest.skip("models/cora_gcn_f32.qgnn or ../shared/datasets/planetoid is absent")
    data = tmp_path / "cora.qgd"
    subprocess.run([sys.executable, "-m", "qgnn.data", "planetoid", str(planetoid), "cora", "-o", str(data)],
                   check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO / "python")))
    ref = qgnn.load(model_path)
    std = torch_standard.standard_from_qgnn(ref)
    gs = read_qgd(data)
    for sparse in (False, True):
        assert_same(*outputs(std, ref, gs, sparse))
