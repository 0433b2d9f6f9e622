"""qgnn.nn.GATConv against a loop-by-loop oracle of the runtime's float formulas
(runtime/src/ops/float/gat_conv_f32.cc), its attention dropout, and what export refuses."""

import math

import numpy as np
import pytest
import torch

import qgnn
from qgnn import nn as qnn
from qgnn.export_model import ExportError


def oracle(conv: qnn.GATConv, x: np.ndarray, row_ptr, col_idx) -> np.ndarray:
    """The runtime's float GATConv, one row and head at a time in float64: the self-loop first, then the
    edges in CSR order."""
    w = conv.lin.weight.detach().double().numpy()
    a_s = conv.att_src.detach().double().numpy()
    a_d = conv.att_dst.detach().double().numpy()
    H, F = conv.heads, conv.head_dim
    m = (x @ w.T).reshape(-1, H, F)
    n = len(row_ptr) - 1
    out = np.zeros((n, H * F if conv.concat else F))
    for i in range(n):
        rows = [i] + list(col_idx[row_ptr[i]:row_ptr[i + 1]])
        heads = []
        for h in range(H):
            e = [a_s[h] @ m[j, h] + a_d[h] @ m[i, h] for j in rows]
            e = [v if v >= 0 else 0.2 * v for v in e]
            t = [math.exp(v - max(e)) for v in e]
            heads.append(sum(tk / sum(t) * m[j, h] for tk, j in zip(t, rows)))
        y = np.concatenate(heads) if conv.concat else np.mean(heads, axis=0)
        if conv.bias is not None:
            y = y + conv.bias.detach().double().numpy()
        out[i] = np.maximum(y, 0) if conv.relu else y
    return out


GRAPH = ([0, 2, 2, 5, 6, 8], [1, 3, 0, 2, 2, 3, 4, 0])  # node 1 without in-edges, explicit loops 2->2, 4->4


@pytest.mark.parametrize("heads,concat,relu", [(1, True, False), (3, True, True), (4, False, False)])
def test_matches_the_runtime_formulas(heads, concat, relu):
    torch.manual_seed(heads)
    conv = qnn.GATConv(4, 3, heads=heads, concat=concat, relu=relu)
    with torch.no_grad():
        conv.bias.uniform_(-0.5, 0.5)
    x = np.random.default_rng(heads).normal(0, 1, (5, 4))
    y = conv.eval()(torch.tensor(x, dtype=torch.float32), qnn.Graph(*GRAPH)).detach().double().numpy()
    assert conv.out_features == y.shape[1]
    np.testing.assert_allclose(y, oracle(conv, x, *GRAPH), rtol=1e-5, atol=1e-5)


def test_attention_dropout_in_training_only():
    torch.manual_seed(0)
    conv = qnn.GATConv(4, 3, heads=2, dropout=0.5)
    x = torch.randn(5, 4)
    g = qnn.Graph(*GRAPH)
    conv.eval()
    ref = conv(x, g)
    assert torch.equal(conv(x, g), ref)
    conv.train()
    assert not torch.allclose(conv(x, g), ref)
    with pytest.raises(ValueError, match="dropout"):
        qnn.GATConv(4, 3, dropout=1.0)
    with pytest.raises(ValueError, match="heads"):
        qnn.GATConv(4, 3, heads=0)


def test_gradients_reach_every_parameter():
    torch.manual_seed(1)
    conv = qnn.GATConv(4, 3, heads=2, concat=False)
    conv(torch.randn(5, 4), qnn.Graph(*GRAPH)).square().sum().backward()
    for name, p in conv.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_export_refuses_a_batchnorm_after_gat(tmp_path):
    model = qnn.GraphModel(qnn.GATConv(4, 3, heads=2), torch.nn.BatchNorm1d(6).eval())
    with pytest.raises(ExportError, match="BatchNorm1d after a GATConv"):
        qgnn.export(model, tmp_path / "m.qgnn")
    desc = qgnn.export(qnn.GraphModel(qnn.GATConv(4, 3, heads=2, dropout=0.6), torch.nn.ReLU()), tmp_path / "r.qgnn")
    assert desc.layers[0].relu and desc.layers[0].kind == "GATConv"
