"""Bit-exactness on hand-made quantized models whose numbers make every rounding rule matter.

Converted models have arbitrary factors, so exact halves almost never occur there and a wrong tie rule would
go unnoticed. These models are written with qgnn.quantized_model (no converter needed) and use factors that
are powers of two (or 1.5 times one), small integer weights, GIN self weights of 0.5 / 1.5 / 2.25, features
that are exact multiples of half the input step, mean degrees 3, 5, 6, 9, 12, 13, 46: ties in quantize_float, in
rescale, in the mean's m_d and in the GIN self term are everywhere. An "identity" model hands the quantized
input straight to the logits to check quantize_float (one float32 division, halves away from zero, the ±1e6
clamp) value by value against the runtime."""

import json
import subprocess

import numpy as np
import pytest
from conftest import find_tool
from test_sim_runtime import random_graph_set

from qgnn import sim
from qgnn.io import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, write_qgd
from qgnn.quantized_model import QDense, QLayer, QuantizedModel, QuantParams, Requant, quantized_model_from_bytes, \
    quantized_model_to_bytes

QGNN_RUN = find_tool("qgnn-run")
pytestmark = pytest.mark.skipif(QGNN_RUN is None, reason="qgnn-run is not built (cmake --preset release && "
                                                         "cmake --build --preset release)")


def run_tool(model, data, split="all", batch=1):
    r = subprocess.run([str(QGNN_RUN), str(model), str(data), "--json", "--split", split, "--batch", str(batch)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"qgnn-run failed: {r.stderr}"
    return json.loads(r.stdout)


def check(qm, gs, tmp_path, batches=(1,)):
    model, data = tmp_path / "m.qgnn", tmp_path / "d.qgd"
    model.write_bytes(quantized_model_to_bytes(qm))
    write_qgd(gs, data)
    for batch in batches:
        tool = run_tool(model, data, "all", batch)
        logits = []
        mine = sim.evaluate(qm, gs, "all", batch, logits_out=logits)
        assert mine.outputs_sha256 == tool["outputs_sha256"], batch
        assert mine.correct == tool["correct"]
    return np.concatenate(logits)


class Maker:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def q(self, bits):
        lo, hi = (-128, 127) if bits == 8 else (-8, 7)
        zero_point = int(self.rng.integers(lo // 2, hi // 2 + 1))
        return QuantParams(bits, np.float32(self.rng.uniform(0.01, 0.5)), zero_point)

    def requant(self, n, e_lo, e_hi):
        m = self.rng.choice([1 << 30, 3 << 29], n).astype(np.int64)
        return Requant(m, self.rng.integers(e_lo, e_hi + 1, n).astype(np.int64))

    def dense(self, n_in, n_out, bits=8, relu=False, bias=True):
        w = self.rng.integers(-3, 4, (n_out, n_in)).astype(np.int8)
        b = self.rng.integers(-6, 7, n_out).astype(np.int32) if bias else None
        return QDense(w, bits, np.ones(n_out, np.float32), b, self.requant(n_out, 31, 34), relu)


def tie_model(task, bits, seed, pool="mean", transform_first=False):
    """SAGE mean (root) -> GIN (eps -0.5, hidden ReLU) -> SAGE max -> GCN -> GIN (eps 1.25) [-> pool -> Linear];
    transform_first: the GCN runs transform-first (its message takes the aggregation's quantization, its bias
    and ReLU move into the aggregation)."""
    mk = Maker(seed)
    b = bits
    f, h = 4, 5
    agg = lambda: mk.requant(1, 30, 32)  # noqa: E731  factors 1, 1/2, 1/4 (x1.5)
    half = Requant(np.array([1 << 30]), np.array([31]))  # mean of an odd degree d: halves when acc = d * odd
    layers = [
        QLayer("SAGEConv", "sage_mean", True, mk.q(b), aggregation=mk.q(b), aggregation_requant=half,
               dense=mk.dense(f, h, b), root=mk.dense(f, h, b, bias=False), reduce="mean"),
        QLayer("GINConv", "gin_a", True, mk.q(b), aggregation=mk.q(b), aggregation_requant=agg(),
               mlp=[mk.dense(h, h, b, relu=True), mk.dense(h, h, b)], hidden=[mk.q(b)], self_weight_q16=32768,
               eps=-0.5),
        QLayer("SAGEConv", "sage_max", False, mk.q(b), aggregation=mk.q(b), aggregation_requant=agg(),
               dense=mk.dense(h, h, b), root=mk.dense(h, h, b, bias=True), reduce="max"),
        QLayer("GCNConv", "gcn", True, mk.q(b), aggregation_requant=agg(), dense=mk.dense(h, h, b),
               **({"message": mk.q(b), "order": "transform-first"} if transform_first else {"aggregation": mk.q(b)})),
        QLayer("GINConv", "gin_b", False, mk.q(b), aggregation=mk.q(b), aggregation_requant=agg(),
               mlp=[mk.dense(h, h, b, relu=False), mk.dense(h, h, b, relu=True), mk.dense(h, 3, b)],
               hidden=[mk.q(b), mk.q(b)], self_weight_q16=147456, eps=1.25),
    ]
    if task == GRAPH_CLASSIFICATION:
        layers[-1].mlp[-1] = mk.dense(h, h, b)
        layers += [QLayer("GlobalPool", "pool", False, mk.q(b), reduce=pool, requant=half),
                   QLayer("Linear", "fc", False, mk.q(8), dense=mk.dense(h, 3, b))]
    inq = QuantParams(8, np.float32(0.25), -3)
    return QuantizedModel(1, "ties", "", "test", task, [], f, False, inq, layers, (0, 0, 0, 0))


def tie_data(task, seed):
    gs = random_graph_set(seed, task, 4, 3)
    rng = np.random.default_rng(seed)
    # multiples of 0.125 = half the input step 0.25: x / s is an exact half about half of the time
    gs.features = (rng.integers(-100, 101, gs.features.shape) * 0.125).astype(np.float32)
    return gs


@pytest.mark.parametrize("bits", [8, 4])
def test_tie_heavy_node_model(tmp_path, bits):
    gs = tie_data(NODE_CLASSIFICATION, 21)
    logits = check(tie_model(NODE_CLASSIFICATION, bits, 1), gs, tmp_path)
    assert len(np.unique(logits)) > 3  # not collapsed onto a constant


@pytest.mark.parametrize("bits", [8, 4])
def test_tie_heavy_transform_first_gcn(tmp_path, bits):
    """A transform-first GCN (quantization.md "Transform-first GCNConv") inside the tie-heavy stack: the dense
    without bias onto the message, the aggregation with the bias and the ReLU (zero points below and above qmin)."""
    gs = tie_data(NODE_CLASSIFICATION, 23)
    qm = tie_model(NODE_CLASSIFICATION, bits, 4, transform_first=True)
    assert quantized_model_from_bytes(quantized_model_to_bytes(qm)).version == 5
    logits = check(qm, gs, tmp_path)
    assert len(np.unique(logits)) > 3
    gs = tie_data(GRAPH_CLASSIFICATION, 24)
    check(tie_model(GRAPH_CLASSIFICATION, bits, 5, "mean", transform_first=True), gs, tmp_path, batches=(1, 6))


@pytest.mark.parametrize("pool", ["sum", "mean", "max"])
def test_tie_heavy_graph_model(tmp_path, pool):
    gs = tie_data(GRAPH_CLASSIFICATION, 22)
    check(tie_model(GRAPH_CLASSIFICATION, 8, 2, pool), gs, tmp_path, batches=(1, 6))
    check(tie_model(GRAPH_CLASSIFICATION, 4, 3, pool), gs, tmp_path, batches=(4,))


def identity_model(f, bits, scale, zero_point):
    """Linear with an identity weight and factor 1, output quantization = input quantization: logits = q_in."""
    w = np.eye(f, dtype=np.int8)
    d = QDense(w, 8, np.ones(f, np.float32), None,
               Requant(np.full(f, 1 << 30, np.int64), np.full(f, 30, np.int64)), False)
    q = QuantParams(bits, np.float32(scale), zero_point)
    return QuantizedModel(1, "identity", "", "test", NODE_CLASSIFICATION, [], f, False, q,
                          [QLayer("Linear", "id", False, q, dense=d)], (0, 0, 0, 0))


@pytest.mark.parametrize("bits,scale,zp", [(8, 0.0371, -5), (8, 3.0, 17), (4, 0.7, 2)])
def test_input_quantization_value_by_value(tmp_path, bits, scale, zp):
    s = np.float32(scale)
    rng = np.random.default_rng(bits)
    k = rng.integers(-140, 141, 600) + 0.5  # halves, some past the int8 range
    exact = (k * s).astype(np.float32)  # float32 x near (k + 0.5) * s ...
    up, down = np.nextafter(exact, np.float32(np.inf)), np.nextafter(exact, -np.float32(np.inf))
    vals = np.concatenate([exact, up, down,
                           rng.normal(0, 4, 300).astype(np.float32) * s,
                           np.array([1e30, -1e30, 3e38, -3e38, 1e-45, -1e-45, 0.0, -0.0, 1e6, -1e6], np.float32)])
    f = 8
    vals = np.concatenate([vals, np.zeros((-len(vals)) % f, np.float32)]).astype(np.float32)
    n = len(vals) // f
    gs = random_graph_set(5, NODE_CLASSIFICATION, f, f)
    from qgnn.io import GraphSet

    gs = GraphSet(name="quant", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=np.zeros(n + 1, np.int32),
                  col_idx=np.zeros(0, np.int32), features=vals.reshape(n, f), labels=np.zeros(n, np.int32),
                  num_classes=f)
    qm = identity_model(f, bits, s, zp)
    logits = check(qm, gs, tmp_path)
    # ... and the values are quantize_float's, element by element; float64 division would differ somewhere.
    assert logits.reshape(-1).tolist() == sim.quantize_float(vals, s, zp, bits).tolist()
    with np.errstate(over="ignore", invalid="ignore"):
        v = vals / s
        halves = np.abs(v - np.trunc(v)) == 0.5
    assert halves.sum() > 100
