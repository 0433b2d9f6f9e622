"""Transform-first GCNConv on the Python side (docs/quantization.md, "Transform-first GCNConv"): the integer
step of qgnn.sim on hand-computed cases, the .qgnn fields (order, message, message_range, format version 5)
and the reader's checks, the float order of qgnn.nn, and qgnn.qat / qgnn.train --qat choosing the order.
The runtime parity of transform-first files is in test_sim_runtime.py and test_sim_handmade.py."""

import numpy as np
import pytest
import torch
from test_train_cli import node_set
from test_train_qat import run

from qgnn import nn as qnn
from qgnn import qat, sim
from qgnn._fb import FormatError
from qgnn.export_model import from_desc, to_desc
from qgnn.io import NODE_CLASSIFICATION, GraphSet, write_qgd
from qgnn.model_file import (AGGREGATE_FIRST, TRANSFORM_FIRST, auto_order, from_bytes, read_model,
                             read_quantized_model, to_bytes)
from qgnn.quantized_model import QDense, QLayer, QuantizedModel, QuantParams, Requant
from qgnn.sim import kernels as K

ONE = Requant(np.array([1 << 30]), np.array([30]))  # factor 1
HALF = Requant(np.array([1 << 30]), np.array([31]))  # factor 0.5
QUARTER = Requant(np.array([1 << 30]), np.array([32]))  # factor 0.25


def tf_model(weight, bias, dense_rq, message, agg_rq, output, relu, input_dim=None):
    """One transform-first GCNConv, input scale 1 and zero point 0 (so x - zx = x)."""
    w = np.array(weight, np.int8)
    dense = QDense(w, 8, np.ones(w.shape[0], np.float32), np.array(bias, np.int32), dense_rq, False)
    layer = QLayer("GCNConv", "conv1", relu, output, dense=dense, order=TRANSFORM_FIRST, message=message,
                   aggregation_requant=agg_rq)
    return QuantizedModel(5, "tf", "", "test", NODE_CLASSIFICATION, [], input_dim or w.shape[1], False,
                          QuantParams(8, np.float32(1.0), 0), [layer], (0, 0, 0, 0))


def test_doc_example():
    """quantization.md: x - zx = [10, -4], w = [[3, 1]], M/2^E = 0.25, z_m = 2 -> m = 9 (6.5 rounds half up);
    t = 7, b = 5, factor 0.5, zo = -1, ReLU -> 5."""
    qm = tf_model([[3, 1]], [5], QUARTER, QuantParams(8, np.float32(0.1), 2), HALF,
                  QuantParams(8, np.float32(0.2), -1), relu=True)
    res = sim.run(to_bytes(qm), np.array([[10.0, -4.0]]), [0, 0], np.zeros(0, np.int32), keep_intermediates=True)
    assert res.intermediates[1].tolist() == [[9]]  # the message
    assert res.logits_q.tolist() == [[5]]


def test_two_nodes_bias_and_relu_hand_computed():
    """Node 1 has in-neighbour 0 (d = 2, n = 23170; node 0: d = 1, n = 32768). Messages = x (factor 1, z_m 0):
    t_0 = 20, t_1 = (10 * 23170 + 20 * 32768) * 23170 >> 30 (rounded) = 19 (the GCN example of quantization.md).
    Bias 3: out = 23, 22. Bias -30: -10, -11; with ReLU (zo = 0) both clamp to 0; zo = -128 leaves ReLU at
    qmin."""
    x, row_ptr, col_idx = np.array([[20.0], [10.0]]), [0, 0, 1], [0]
    m = QuantParams(8, np.float32(0.1), 0)

    def logits(bias, relu, zo=0):
        qm = tf_model([[1]], [bias], ONE, m, ONE, QuantParams(8, np.float32(0.1), zo), relu)
        return sim.run(to_bytes(qm), x, row_ptr, col_idx).logits_q.ravel().tolist()

    assert logits(3, False) == [23, 22]
    assert logits(-30, False) == [-10, -11]
    assert logits(-30, True) == [0, 0]
    assert logits(-30, True, zo=-128) == [-128, -128]  # -138, -139 saturate at qmin either way
    assert logits(-30, False, zo=5) == [-5, -6]
    assert logits(-30, True, zo=5) == [5, 5]


def test_aggregate_kernel_bias_and_relu():
    """kernels.aggregate: the bias is added to acc (sum) / t (gcn) before the rescale; mean / max refuse it."""
    x = np.array([[4, -6], [2, 8]])
    row_ptr, col_idx = np.array([0, 1, 2]), np.array([1, 0])
    plain = K.aggregate("sum", x, 0, row_ptr, col_idx, 1 << 30, 31, 0, 8)
    assert plain.tolist() == [[1, 4], [2, -3]]  # halves of [2, 8], [4, -6] (-3 is -3 exactly)
    biased = K.aggregate("sum", x, 0, row_ptr, col_idx, 1 << 30, 31, 0, 8, bias=np.array([1, -3]))
    assert biased.tolist() == [[2, 3], [3, -4]]  # (2+1)/2 = 1.5 -> 2, (8-3)/2 = 2.5 -> 3, (4+1)/2 -> 3, -9/2 -> -4
    relu = K.aggregate("sum", x, 0, row_ptr, col_idx, 1 << 30, 31, -2, 8, bias=np.array([1, -3]), relu=True)
    assert relu.tolist() == [[0, 1], [1, -2]]
    with pytest.raises(ValueError, match="bias"):
        K.aggregate("mean", x, 0, row_ptr, col_idx, 1 << 30, 31, 0, 8, bias=np.array([1, 1]))


# ------------------------------------------------------------------------------------------ model file


def test_quantized_round_trip_and_version():
    qm = tf_model([[3, 1]], [5], QUARTER, QuantParams(4, np.float32(0.1), 2), HALF,
                  QuantParams(8, np.float32(0.2), -1), relu=True)
    qm.version = 1
    back = from_bytes(to_bytes(qm))
    layer = back.layers[0]
    assert back.version == 5  # a transform-first layer raises the version
    assert layer.order == TRANSFORM_FIRST and layer.transform_first and layer.aggregation is None
    assert (layer.message.bits, float(layer.message.scale), layer.message.zero_point) == (4, np.float32(0.1), 2)
    assert layer.dense.bias.tolist() == [5]
    # the same layer aggregate-first keeps the version it had
    af = tf_model([[3, 1]], [5], QUARTER, None, HALF, QuantParams(8, np.float32(0.2), -1), relu=True)
    af.version = 1
    af.layers[0].order = AGGREGATE_FIRST
    af.layers[0].aggregation = QuantParams(8, np.float32(0.1), 0)
    back = from_bytes(to_bytes(af))
    assert back.version == 1 and back.layers[0].order == AGGREGATE_FIRST and back.layers[0].message is None


@pytest.mark.parametrize("breakage,message", [
    (lambda l: setattr(l, "message", None), "message: QuantParams missing"),
    (lambda l: setattr(l, "aggregation", QuantParams(8, np.float32(0.1), 0)), "no aggregation quantization"),
    (lambda l: setattr(l, "aggregation_requant", Requant(np.array([1 << 30] * 2), np.array([31] * 2))),
     "aggregation_requant"),
    (lambda l: setattr(l, "aggregation_requant", Requant(np.array([1 << 30]), np.array([41]))), "shift outside"),
    (lambda l: setattr(l.dense, "bias", np.array([1 << 30], np.int32)), "2\\^30"),
    (lambda l: setattr(l, "order", "sideways"), "unknown order"),
])
def test_reader_refuses_broken_transform_first(breakage, message):
    qm = tf_model([[3, 1]], [5], QUARTER, QuantParams(8, np.float32(0.1), 2), HALF,
                  QuantParams(8, np.float32(0.2), -1), relu=True)
    breakage(qm.layers[0])
    with pytest.raises(FormatError, match=message):
        to_bytes(qm)


def test_float_order_and_message_range_round_trip(tmp_path):
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.GCNConv(6, 4, relu=True), qnn.GCNConv(4, 9), qnn.GCNConv(9, 3, order=AGGREGATE_FIRST))
    desc = to_desc(model)
    assert [l.order for l in desc.layers] == [TRANSFORM_FIRST, AGGREGATE_FIRST, AGGREGATE_FIRST]  # auto, forced
    back = from_bytes(to_bytes(desc))
    assert back.version == 5 and [l.order for l in back.layers] == [l.order for l in desc.layers]
    # stored ranges: a transform-first layer needs its message range, not an aggregation range
    desc.input_range = (-1.0, 2.0)
    for layer in desc.layers:
        layer.output_range = (0.0, 1.0)
        layer.aggregation_range = None if layer.transform_first else (-1.0, 1.0)
    with pytest.raises(FormatError, match="message range is missing"):
        to_bytes(desc)
    desc.layers[0].message_range = (-0.5, 0.75)
    desc.layers[2].message_range = (-2.0, 2.0)  # an aggregate-first layer may store one too
    back = from_bytes(to_bytes(desc))
    assert back.layers[0].message_range == (-0.5, 0.75) and back.layers[0].aggregation_range is None
    assert back.layers[2].message_range == (-2.0, 2.0)
    # no transform-first layer and no other new field: the version stays what it was
    desc_af = to_desc(qnn.GraphModel(qnn.GCNConv(3, 5)))
    assert from_bytes(to_bytes(desc_af)).version == 1
    # qgnn.load builds the order back
    loaded = from_desc(back)
    assert [m.order for m in loaded.layers if isinstance(m, qnn.GCNConv)] == [l.order for l in back.layers]


def test_float_orders_compute_the_same_function():
    torch.manual_seed(1)
    x = torch.randn(7, 12)
    g = qnn.Graph(torch.tensor([0, 2, 3, 3, 5, 6, 6, 8]), torch.tensor([1, 2, 0, 0, 6, 3, 5, 1]))
    tf = qnn.GCNConv(12, 5, relu=True)
    af = qnn.GCNConv(12, 5, relu=True, order=AGGREGATE_FIRST)
    af.load_state_dict(tf.state_dict())
    assert tf.resolved_order == TRANSFORM_FIRST and auto_order(5, 12) == AGGREGATE_FIRST
    assert torch.allclose(tf(x, g), af(x, g), atol=1e-5)
    assert not torch.equal(tf(x, g), torch.zeros(7, 5))
    with pytest.raises(ValueError, match="order"):
        qnn.GCNConv(3, 2, order="backwards")


# ------------------------------------------------------------------------------------------ QAT


def cora_like(seed=0, n=240, features=1433, classes=7):
    """Bag-of-words-like node set: sparse binary features, each class with its own preferred words, edges
    mostly inside a class."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    words = rng.integers(0, features, (classes, 40))
    feats = (rng.random((n, features)) < 0.004).astype(np.float32)
    for i in range(n):
        feats[i, rng.choice(words[labels[i]], 6, replace=False)] = 1.0
    src = rng.integers(0, n, 4 * n)
    dst = np.where(rng.random(4 * n) < 0.8, labels[src] + classes * rng.integers(0, n // classes, 4 * n),
                   rng.integers(0, n, 4 * n))
    from qgnn.data.common import edges_to_csr

    row_ptr, col_idx, _ = edges_to_csr(src, dst, n)
    idx = rng.permutation(n)
    return GraphSet(name="cora_like", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=row_ptr,
                    col_idx=col_idx, features=feats, labels=labels, num_classes=classes,
                    train=np.sort(idx[:120]), val=np.sort(idx[120:180]), test=np.sort(idx[180:]))


@pytest.fixture(scope="module")
def cora_like_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tf") / "cora_like.qgd"
    write_qgd(cora_like(), path)
    return path


def test_qat_cli_writes_transform_first_for_a_narrowing_gcn(tmp_path, capsys, cora_like_path):
    out, flt = tmp_path / "tf.qgnn", tmp_path / "tf_float.qgnn"
    s, _ = run(capsys, "--data", cora_like_path, "--model", "gcn", "--epochs", "30", "--qat", "--qat-epochs",
               "2", "--float-out", flt, "-o", out)
    qm = read_quantized_model(out)
    assert qm.version == 5 and [l.order for l in qm.layers] == [TRANSFORM_FIRST, TRANSFORM_FIRST]
    assert qm.layers[0].dense.weight.shape == (16, 1433) and qm.layers[0].aggregation is None
    assert s["qat"]["order"] == "auto"
    assert s["quantized_acc"]["test"] == round(sim.evaluate(qm, cora_like(), "test", 1).accuracy, 6)
    f = read_model(flt)
    assert [l.order for l in f.layers] == [TRANSFORM_FIRST, TRANSFORM_FIRST]
    assert all(l.message_range is not None and l.message_range[0] < l.message_range[1] for l in f.layers)

    af = tmp_path / "af.qgnn"
    s, _ = run(capsys, "--data", cora_like_path, "--model", "gcn", "--epochs", "30", "--qat", "--qat-epochs",
               "0", "--order", "aggregate-first", "-o", af)
    qm = read_quantized_model(af)
    assert [l.order for l in qm.layers] == [AGGREGATE_FIRST, AGGREGATE_FIRST] and qm.version < 5
    assert qm.layers[0].aggregation is not None and s["qat"]["order"] == "aggregate-first"


def test_qat_order_needs_qat(tmp_path, capsys, cora_like_path):
    from qgnn.train.cli import main

    with pytest.raises(SystemExit):
        main(["--data", str(cora_like_path), "--model", "gcn", "--order", "transform-first",
              "-o", str(tmp_path / "x.qgnn")])
    assert "--order needs --qat" in capsys.readouterr().err


@pytest.mark.parametrize("bits", [8, 4])
def test_transform_first_qat_eval_is_the_simulator_and_accurate(bits):
    """Short float training + QAT on the synthetic set: the eval forward equals qgnn.sim on the quantized model
    bit for bit, and transform-first INT8 / INT4 keep the float model's test accuracy within a few points."""
    from qgnn.train import Hyper, fit
    from qgnn.train.quant import QATConfig, quantization_aware_training, sim_accuracy

    data = cora_like()
    hp = Hyper.defaults(data.task)
    hp.epochs = 60
    model, float_acc = fit("gcn", data, hp, seed=0)
    q, acc = quantization_aware_training(model, data, QATConfig(bits=bits, epochs=5))
    qm = q.quantized_model(task=data.task)
    assert [l.order for l in qm.layers] == [TRANSFORM_FIRST, TRANSFORM_FIRST]
    assert sim_accuracy(qm, data) == {k: pytest.approx(v, abs=0) for k, v in acc.items()}
    assert float_acc["test"] > 0.6  # the set is learnable
    assert acc["test"] >= float_acc["test"] - (0.05 if bits == 8 else 0.1), (acc, float_acc)


def test_qat_forward_equals_sim_for_both_orders():
    torch.manual_seed(3)
    gs = node_set()
    x = torch.from_numpy(gs.features)
    g = qnn.Graph(torch.from_numpy(gs.row_ptr.astype(np.int64)), torch.from_numpy(gs.col_idx.astype(np.int64)))
    for order in ("transform-first", "aggregate-first"):
        model = qnn.GraphModel(qnn.GCNConv(3, 8, relu=True), qnn.GCNConv(8, 3))
        q = qat.prepare(model, bits=8, order=order, degree_quant=True)
        q.train()
        q(x, g)
        loss = q(x, g).sum()
        loss.backward()  # gradients reach the weights through the message and the bias
        assert model.layers[0].lin.weight.grad.abs().sum() > 0 and model.layers[1].lin.bias.grad.abs().sum() > 0
        q.eval()
        with torch.no_grad():
            y = q(x, g).numpy()
        qm = q.quantized_model()
        assert all(l.order == order for l in qm.layers)
        res = sim.run(to_bytes(qm), gs.features, gs.row_ptr, gs.col_idx)
        assert np.array_equal(res.logits_float, y)
        names = [n for n, _ in q.named_observers()]
        assert ("layer 0 (GCNConv) message" in names) == (order == TRANSFORM_FIRST)


def test_int4_keeps_transform_first_messages_at_8_bits_unless_named():
    """qgnn-convert's SPEC rule (docs/converter.md "Bits"): a bare width leaves transform-first messages at 8
    bits; naming the aggregation component (or a layer) sets them."""
    from qgnn.qat.model import _component_bits

    input_bits, bits = _component_bits(4, 3)
    # (the first layer's weights and the input stay 8 too: test_qat.py's test_bare_width_keeps_the_first_layer_at_8)
    assert [(b.weights, b.aggregation, b.output) for b in bits] == [(8, 8, 4), (4, 8, 4), (4, 8, 4)]
    assert input_bits == 8
    _, bits = _component_bits({"default": 4, "aggregation": 4}, 2)
    assert [b.aggregation for b in bits] == [4, 4]
    _, bits = _component_bits({"default": 4, "layers": {1: 4}}, 2)
    assert [b.aggregation for b in bits] == [8, 4]
    # A quantized transform-first Cora-like model at --bits 4: 8-bit messages, 4-bit weights and outputs.
    from qgnn.train import Hyper, fit
    from qgnn.train.quant import QATConfig, quantization_aware_training

    data = cora_like()
    hp = Hyper.defaults(data.task)
    hp.epochs = 5
    model, _ = fit("gcn", data, hp, seed=0)
    q, _ = quantization_aware_training(model, data, QATConfig(bits=4, epochs=0))
    qm = q.quantized_model(task=data.task)
    assert [l.message.bits for l in qm.layers] == [8, 8]
    assert qm.layers[0].dense.weight_bits == 8 and qm.layers[0].output.bits == 4  # first layer: 8-bit weights
    assert qm.layers[1].dense.weight_bits == 4
