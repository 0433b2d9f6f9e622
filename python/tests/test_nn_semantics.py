"""qgnn.nn layers against naive per-node loops of the runtime's semantics (reference.h / docs/format.md)."""

import numpy as np
import pytest
import torch

from qgnn import nn as qnn


def random_graph(seed: int):
    """Several graphs (one empty, isolated nodes, duplicate and one-way edges) as a block-diagonal CSR."""
    rng = np.random.default_rng(seed)
    sizes = [5, 0, 1, 7, 3]
    graph_ptr = np.concatenate([[0], np.cumsum(sizes)])
    n = int(graph_ptr[-1])
    rows = [[] for _ in range(n)]
    for g, size in enumerate(sizes):
        base = graph_ptr[g]
        for _ in range(2 * size):
            if size > 2:
                i, j = rng.integers(0, size - 1, 2)  # the graph's last node never gets an edge: isolated
                rows[base + i].append(base + j)  # edge j -> i (may be a self-loop or a duplicate)
    row_ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    col_idx = np.array([j for r in rows for j in r], dtype=np.int64)
    return row_ptr, col_idx, graph_ptr, rows


def in_neighbours(rows, i):
    return rows[i]


def naive_aggregate(x, rows, mode, eps=0.0):
    n, f = x.shape
    out = np.zeros((n, f))
    deg = np.array([len(r) for r in rows])
    for i in range(n):
        nb = in_neighbours(rows, i)
        if mode == "gcn":
            out[i] = x[i] / (deg[i] + 1)
            for j in nb:
                out[i] += x[j] / np.sqrt((deg[i] + 1) * (deg[j] + 1))
        elif mode == "gin":
            out[i] = (1 + eps) * x[i] + sum((x[j] for j in nb), np.zeros(f))
        elif nb and mode == "mean":
            out[i] = np.mean([x[j] for j in nb], axis=0)
        elif nb and mode == "max":
            out[i] = np.max([x[j] for j in nb], axis=0)
    return out


def dense(lin, x):
    w = lin.weight.detach().double().numpy()
    b = lin.bias.detach().double().numpy() if lin.bias is not None else 0
    return x @ w.T + b


def run(layer, x, graph):
    with torch.no_grad():
        return layer.double()(torch.from_numpy(x), graph).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layers_match_naive_loops(seed):
    torch.manual_seed(seed)
    row_ptr, col_idx, graph_ptr, rows = random_graph(seed)
    graph = qnn.Graph(row_ptr, col_idx, graph_ptr)
    x = np.random.default_rng(100 + seed).normal(size=(graph.num_nodes, 4))
    relu = lambda v: np.maximum(v, 0)  # noqa: E731

    gcn = qnn.GCNConv(4, 3, relu=True)
    np.testing.assert_allclose(run(gcn, x, graph), relu(dense(gcn.lin, naive_aggregate(x, rows, "gcn"))),
                               rtol=1e-12, atol=1e-12)

    for reduce in ("mean", "max"):
        sage = qnn.SAGEConv(4, 3, reduce=reduce)
        expect = dense(sage.lin_neighbor, naive_aggregate(x, rows, reduce)) + dense(sage.lin_root, x)
        np.testing.assert_allclose(run(sage, x, graph), expect, rtol=1e-12, atol=1e-12)
    sage = qnn.SAGEConv(4, 3, reduce="max", root_weight=False, bias=False, relu=True)
    expect = relu(dense(sage.lin_neighbor, naive_aggregate(x, rows, "max")))
    np.testing.assert_allclose(run(sage, x, graph), expect, rtol=1e-12, atol=1e-12)

    gin = qnn.GINConv(qnn.gin_mlp([4, 5, 3]), eps=0.25)
    h = naive_aggregate(x, rows, "gin", eps=0.25)
    expect = dense(gin.mlp[2], relu(dense(gin.mlp[0], h)))
    np.testing.assert_allclose(run(gin, x, graph), expect, rtol=1e-12, atol=1e-12)

    for reduce, fn in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        expect = np.array([fn(x[graph_ptr[g]:graph_ptr[g + 1]], axis=0) if graph_ptr[g + 1] > graph_ptr[g]
                           else np.zeros(4) for g in range(len(graph_ptr) - 1)])
        np.testing.assert_allclose(run(qnn.GlobalPool(reduce), x, graph), expect, rtol=1e-12, atol=1e-12)


def test_isolated_and_empty_give_zero():
    row_ptr, col_idx, graph_ptr, rows = random_graph(0)
    graph = qnn.Graph(row_ptr, col_idx, graph_ptr)
    x = torch.randn(graph.num_nodes, 2) - 10  # all negative: max over nothing must still be 0, not -inf
    isolated = [i for i in range(graph.num_nodes) if not rows[i]]
    assert isolated
    for reduce in ("mean", "max"):
        assert torch.all(qnn.aggregate(x, graph, reduce)[isolated] == 0)
    pooled = qnn.global_pool(x, graph, "max")
    assert torch.all(pooled[1] == 0)  # graph 1 has no nodes
    assert torch.all(pooled[0] < 0)


def test_model_forward_and_backward():
    row_ptr, col_idx, graph_ptr, _ = random_graph(3)
    model = qnn.GraphModel(
        qnn.GCNConv(4, 8, relu=True),
        qnn.SAGEConv(8, 8, reduce="max", relu=True),
        qnn.GINConv(qnn.gin_mlp([8, 8, 8], batch_norm=True), train_eps=True, relu=True),
        qnn.GlobalPool("mean"),
        qnn.Linear(8, 2),
    )
    x = torch.randn(int(graph_ptr[-1]), 4)
    out = model(x, row_ptr, col_idx, graph_ptr)
    assert out.shape == (len(graph_ptr) - 1, 2)
    out.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.all(torch.isfinite(p.grad)), name


def test_bad_arguments():
    with pytest.raises(ValueError):
        qnn.SAGEConv(2, 2, reduce="sum")
    with pytest.raises(ValueError):
        qnn.GlobalPool("min")
    with pytest.raises(ValueError):
        qnn.Graph([0, 2], [0])
