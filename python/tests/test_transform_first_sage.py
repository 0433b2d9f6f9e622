"""Transform-first SAGEConv on the Python side (docs/quantization.md, "Transform-first SAGEConv"): the integer
step of qgnn.sim on the doc's worked example, the .qgnn fields (order, message, message_range, output_requant,
format version 6) and the reader's checks, the float order of qgnn.nn, the quantizer, qgnn.qat's forward and
component bits, and qgnn.train --qat --order. Runtime parity: test_sim_runtime.py (converted models) and
test_runtime_parity_of_a_qat_model below (a QAT-exported model through qgnn-run)."""

import numpy as np
import pytest
import torch
from conftest import find_tool
from test_train_cli import node_set
from test_train_qat import run
from test_transform_first import cora_like, cora_like_path  # noqa: F401 (fixture)

from qgnn import model_file
from qgnn import nn as qnn
from qgnn import qat, sim
from qgnn._fb import FormatError
from qgnn.export_model import from_desc, to_desc
from qgnn.io import NODE_CLASSIFICATION
from qgnn.model_file import (AGGREGATE_FIRST, TRANSFORM_FIRST, auto_order, check_model, from_bytes, read_model,
                             read_quantized_model, to_bytes)
from qgnn.qat.quantizer import quantize_multiplier
from qgnn.quantized_model import QDense, QLayer, QuantizedModel, QuantParams, Requant

ONE = Requant(np.array([1 << 30]), np.array([30]))  # factor 1
HALF = Requant(np.array([1 << 30]), np.array([31]))  # factor 0.5
THIRD = Requant(*(np.array([v]) for v in quantize_multiplier(1.0 / 3.0, 40)))  # factor 1/3


def tf_sage(bias=(2,), relu=False, root=True, reduce="mean"):
    """The doc's example as a two-node model: input scale 1, zero point 0; node 0's one in-neighbour is node 1.
    W_n = [[1]] onto the messages with factor 1 (m = x, z_m = 0), the mean onto the aggregation with factor 1/3
    and z_a = 1, the bias at s_a, output factor 0.5, root W_r = [[-1]] with factor 1, zo = 0."""
    neighbor = QDense(np.array([[1]], np.int8), 8, np.ones(1, np.float32),
                      None if bias is None else np.array(bias, np.int32), ONE, False)
    root_dense = QDense(np.array([[-1]], np.int8), 8, np.ones(1, np.float32), None, ONE, False) if root else None
    layer = QLayer("SAGEConv", "conv1", relu, QuantParams(8, np.float32(0.5), 0), dense=neighbor, root=root_dense,
                   reduce=reduce, order=TRANSFORM_FIRST, message=QuantParams(8, np.float32(1.0), 0),
                   aggregation=QuantParams(8, np.float32(3.0), 1), aggregation_requant=THIRD,
                   output_requant=HALF)
    return QuantizedModel(6, "tf_sage", "", "test", NODE_CLASSIFICATION, [], 1, False,
                          QuantParams(8, np.float32(1.0), 0), [layer], (0, 0, 0, 0))


X, ROW_PTR, COL_IDX = np.array([[3.0], [9.0]]), [0, 1, 1], [1]


def test_doc_example():
    """quantization.md: one neighbour with m - z_m = 9, factor 1/3, z_a = 1 -> a = 1 + rescale(3) = 4; b = 2,
    s_a / s_out = 0.5, root term -3, zo = 0 -> out = rescale(2 + 3, 1/2) - 3 = 3 - 3 = 0 (2.5 rounds up).
    Node 1 has no neighbour: a = z_a, out = rescale(2 + 0, 1/2) + rescale(-9) = 1 - 9 = -8."""
    res = sim.run(to_bytes(tf_sage()), X, ROW_PTR, COL_IDX, keep_intermediates=True)
    inp, message, aggregation, out = res.intermediates
    assert message.tolist() == [[3], [9]]
    assert aggregation.tolist() == [[4], [1]]
    assert out.tolist() == res.logits_q.tolist() == [[0], [-8]]
    # the ReLU clamps at zo; no root: no second term; no bias: the aggregation alone (3 * 0.5 = 1.5 -> 2)
    assert sim.run(to_bytes(tf_sage(relu=True)), X, ROW_PTR, COL_IDX).logits_q.tolist() == [[0], [0]]
    assert sim.run(to_bytes(tf_sage(root=False)), X, ROW_PTR, COL_IDX).logits_q.tolist() == [[3], [1]]
    assert sim.run(to_bytes(tf_sage(bias=None)), X, ROW_PTR, COL_IDX).logits_q.tolist() == [[2 - 3], [0 - 9]]


def test_identity_step_rescales_bias_and_aggregation_together():
    """One rescale of (b + a - z_a), not two: b = 1 and a - z_a = 1 at factor 0.5 give rescale(2) = 1, where
    rescaling them apart would give 1 + 1 = 2 (each 0.5 rounds up)."""
    qm = tf_sage(bias=(1,), root=False)
    qm.layers[0].aggregation_requant = ONE  # a = z_a + m / 1
    qm.layers[0].dense.weight = np.array([[1]], np.int8)
    x = np.array([[0.0], [1.0]])  # node 0 aggregates m_1 = 1: a - z_a = 1, b + 1 = 2 -> 1; node 1: b = 1 -> 1
    assert sim.run(to_bytes(qm), x, ROW_PTR, COL_IDX).logits_q.ravel().tolist() == [1, 1]
    x = np.array([[0.0], [2.0]])  # a - z_a = 2: rescale(3, 1/2) = 2
    assert sim.run(to_bytes(qm), x, ROW_PTR, COL_IDX).logits_q.ravel().tolist() == [2, 1]


# ------------------------------------------------------------------------------------------ model file


def test_quantized_round_trip_and_version():
    qm = tf_sage()
    qm.version = 1
    back = from_bytes(to_bytes(qm))
    layer = back.layers[0]
    assert back.version == 6  # a transform-first SAGEConv raises the version to 6
    assert layer.order == TRANSFORM_FIRST and layer.transform_first and layer.has_aggregation
    assert (layer.message.bits, float(layer.message.scale), layer.message.zero_point) == (8, 1.0, 0)
    assert (layer.aggregation.bits, float(layer.aggregation.scale), layer.aggregation.zero_point) == (8, 3.0, 1)
    assert (layer.output_requant.multiplier.tolist(), layer.output_requant.shift.tolist()) == ([1 << 30], [31])
    assert layer.aggregation_requant.multiplier.tolist() == THIRD.multiplier.tolist()
    assert layer.dense.bias.tolist() == [2] and layer.root.weight.tolist() == [[-1]]
    # aggregate-first: no new field is written, the file keeps its version and its bytes
    af = tf_sage()
    af.version = 1
    l0 = af.layers[0]
    l0.order, l0.message, l0.output_requant = AGGREGATE_FIRST, None, None
    data = to_bytes(af)
    back = from_bytes(data)
    assert back.version == 1 and back.layers[0].order == AGGREGATE_FIRST
    assert back.layers[0].message is None and back.layers[0].output_requant is None
    assert to_bytes(back) == data


@pytest.mark.parametrize("breakage,message", [
    (lambda l: setattr(l, "message", None), "message: QuantParams missing"),
    (lambda l: setattr(l, "aggregation", None), "aggregation: QuantParams missing"),
    (lambda l: setattr(l, "output_requant", None), "output_requant: missing"),
    (lambda l: setattr(l, "output_requant", Requant(np.array([1 << 30] * 2), np.array([31] * 2))),
     "output_requant: 2 multipliers"),
    (lambda l: setattr(l, "output_requant", Requant(np.array([1 << 30]), np.array([63]))), "shift outside"),
    (lambda l: setattr(l, "reduce", "max"), "needs reduce MEAN"),
    (lambda l: setattr(l.dense, "bias", np.array([1 << 30], np.int32)), "2\\^30"),
])
def test_reader_refuses_broken_transform_first_sage(breakage, message):
    qm = tf_sage()
    breakage(qm.layers[0])
    with pytest.raises(FormatError, match=message):
        to_bytes(qm)


def test_reader_refuses_a_version_5_file_with_a_transform_first_sage(monkeypatch):
    monkeypatch.setattr(model_file, "_file_version", lambda m: 5)
    with pytest.raises(FormatError, match="needs version 6"):
        to_bytes(tf_sage())


def test_float_order_and_ranges_round_trip():
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.SAGEConv(6, 4, relu=True), qnn.SAGEConv(4, 9), qnn.SAGEConv(9, 3, reduce="max"),
                           qnn.SAGEConv(3, 2, order=AGGREGATE_FIRST))
    desc = to_desc(model)
    # auto: narrowing mean -> transform-first, widening -> aggregate-first, max -> aggregate-first; forced
    assert [l.order for l in desc.layers] == [TRANSFORM_FIRST, AGGREGATE_FIRST, AGGREGATE_FIRST, AGGREGATE_FIRST]
    back = from_bytes(to_bytes(desc))
    assert back.version == 6 and [l.order for l in back.layers] == [l.order for l in desc.layers]
    # stored ranges: a transform-first SAGEConv needs its message range and its (messages') aggregation range
    desc.input_range = (-1.0, 2.0)
    for layer in desc.layers:
        layer.output_range, layer.aggregation_range = (0.0, 1.0), (-1.0, 1.0)
    with pytest.raises(FormatError, match="message range is missing"):
        to_bytes(desc)
    desc.layers[0].message_range = (-0.5, 0.75)
    desc.layers[0].aggregation_range = None
    with pytest.raises(FormatError, match="aggregation range is missing"):
        to_bytes(desc)
    desc.layers[0].aggregation_range = (-0.25, 0.5)
    back = from_bytes(to_bytes(desc))
    assert back.layers[0].message_range == (-0.5, 0.75) and back.layers[0].aggregation_range == (-0.25, 0.5)
    loaded = from_desc(back)  # qgnn.load builds the order back
    assert [m.order for m in loaded.layers if isinstance(m, qnn.SAGEConv)] == [l.order for l in back.layers]
    # a float SAGEConv without a transform-first layer keeps the version it had
    assert from_bytes(to_bytes(to_desc(qnn.GraphModel(qnn.SAGEConv(3, 5))))).version == 1


def test_float_checks_refuse_max_and_unfolded_batchnorm():
    desc = to_desc(qnn.GraphModel(qnn.SAGEConv(6, 4)))
    desc.layers[0].reduce = "max"
    with pytest.raises(FormatError, match="needs reduce mean"):
        check_model(desc)
    model = qnn.GraphModel(qnn.SAGEConv(6, 4), torch.nn.BatchNorm1d(4))
    with pytest.raises(ValueError, match="unfolded BatchNorm"):
        to_desc(model.eval(), fold_batchnorm=False)
    assert to_desc(model.eval()).layers[0].order == TRANSFORM_FIRST  # folded: fine
    with pytest.raises(ValueError, match="needs reduce 'mean'"):
        qnn.SAGEConv(6, 4, reduce="max", order=TRANSFORM_FIRST)
    with pytest.raises(ValueError, match="order"):
        qnn.SAGEConv(6, 4, order="sideways")


def test_float_orders_compute_the_same_function():
    torch.manual_seed(1)
    x = torch.randn(7, 12)
    g = qnn.Graph(torch.tensor([0, 2, 3, 3, 5, 6, 6, 8]), torch.tensor([1, 2, 0, 0, 6, 3, 5, 1]))
    tf = qnn.SAGEConv(12, 5, relu=True)
    af = qnn.SAGEConv(12, 5, relu=True, order=AGGREGATE_FIRST)
    af.load_state_dict(tf.state_dict())
    assert tf.resolved_order == TRANSFORM_FIRST and auto_order(12, 5, "max") == AGGREGATE_FIRST
    assert torch.allclose(tf(x, g), af(x, g), atol=1e-5)
    assert int((tf(x, g) > 0).sum()) > 5  # not all clamped away: the comparison means something


# ------------------------------------------------------------------------------------------ QAT


def graph_tensors(gs):
    return torch.from_numpy(gs.features), qnn.Graph(torch.from_numpy(gs.row_ptr.astype(np.int64)),
                                                    torch.from_numpy(gs.col_idx.astype(np.int64)))


@pytest.mark.parametrize("bits", [8, 4])
def test_qat_forward_equals_sim_for_both_orders(bits):
    gs = node_set()
    x, g = graph_tensors(gs)
    for order in (TRANSFORM_FIRST, AGGREGATE_FIRST):
        torch.manual_seed(3)
        model = qnn.GraphModel(qnn.SAGEConv(3, 8, relu=True), qnn.SAGEConv(8, 3))
        q = qat.prepare(model, bits=bits, order=order, degree_quant=True)
        q.train()
        q(x, g)
        q(x, g).sum().backward()  # gradients reach the weights through the messages, the bias and the root
        for conv in model.layers:
            assert conv.lin_neighbor.weight.grad.abs().sum() > 0 and conv.lin_neighbor.bias.grad.abs().sum() > 0
            assert conv.lin_root.weight.grad.abs().sum() > 0
        q.eval()
        with torch.no_grad():
            y = q(x, g).numpy()
        qm = q.quantized_model()
        assert [l.order for l in qm.layers] == [order] * 2
        res = sim.run(to_bytes(qm), gs.features, gs.row_ptr, gs.col_idx)
        assert np.array_equal(res.logits_float, y)
        names = [n for n, _ in q.named_observers()]
        assert ("layer 0 (SAGEConv) message" in names) == (order == TRANSFORM_FIRST)
        assert "layer 0 (SAGEConv) aggregation" in names


def test_component_bits_keep_messages_and_aggregation_at_8_bits_under_a_bare_width():
    """A bare width (--bits 4) leaves a transform-first SAGEConv's messages and aggregation at 8 bits (every
    aggregation stays 8, and the first layer's weights); the "aggregation" key (or the layer) sets both."""
    from qgnn.qat.model import _component_bits

    gs = node_set()
    x, g = graph_tensors(gs)

    def quantized(bits, order):
        torch.manual_seed(0)
        q = qat.prepare(qnn.GraphModel(qnn.SAGEConv(3, 8, relu=True), qnn.SAGEConv(8, 3)), bits=bits, order=order)
        q.calibrating = True
        with torch.no_grad():
            q(x, g)
        return q.quantized_model()

    qm = quantized(4, TRANSFORM_FIRST)
    assert [(l.message.bits, l.aggregation.bits, l.dense.weight_bits, l.root.weight_bits) for l in qm.layers] == \
        [(8, 8, 8, 8), (8, 8, 4, 4)]
    assert qm.layers[0].output.bits == 4 and qm.layers[1].output.bits == 8  # the logits stay 8 bits
    qm = quantized({"default": 4, "aggregation": 4}, TRANSFORM_FIRST)
    assert [(l.message.bits, l.aggregation.bits) for l in qm.layers] == [(4, 4)] * 2
    qm = quantized(4, AGGREGATE_FIRST)
    assert [l.aggregation.bits for l in qm.layers] == [8, 8] and qm.layers[0].message is None
    _, bits = _component_bits({"default": 4, "layers": {1: 4}}, 2)
    assert [b.aggregation for b in bits] == [8, 4]


def test_quantizer_fields_of_a_transform_first_sage():
    """The exported fields follow quantization.md: bias round(b / s_a), neighbour requant s_in s_wn / s_m,
    aggregation requant s_m / s_a, output requant s_a / s_out, root requant s_in s_wr / s_out."""
    gs = node_set()
    x, g = graph_tensors(gs)
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.SAGEConv(3, 8, relu=True), qnn.SAGEConv(8, 3))
    q = qat.prepare(model, bits=8, order=TRANSFORM_FIRST, input_scales="tensor")
    q.calibrating = True
    with torch.no_grad():
        q(x, g)
    qm = q.quantized_model()
    s_in = float(qm.input_quant.scale)
    for conv, layer in zip(model.layers, qm.layers):
        s_m, s_a, s_out = (float(p.scale) for p in (layer.message, layer.aggregation, layer.output))

        def factor(rq, c=0):
            return int(rq.multiplier[c]) * 2.0 ** -int(rq.shift[c])

        b = conv.lin_neighbor.bias.detach().numpy().astype(np.float64)
        assert np.abs(layer.dense.bias - b / s_a).max() <= 0.5 + 1e-9 and np.any(layer.dense.bias != 0)
        for c in range(3):
            assert factor(layer.dense.requant, c) == pytest.approx(s_in * layer.dense.weight_scales[c] / s_m, 1e-6)
            assert factor(layer.root.requant, c) == pytest.approx(s_in * layer.root.weight_scales[c] / s_out, 1e-6)
        assert factor(layer.aggregation_requant) == pytest.approx(s_m / s_a, rel=1e-6)
        assert factor(layer.output_requant) == pytest.approx(s_a / s_out, rel=1e-6)
        assert layer.root.bias is None
        s_in = s_out


def test_qat_cli_writes_transform_first_sage(tmp_path, capsys, cora_like_path):  # noqa: F811
    out, flt = tmp_path / "tf.qgnn", tmp_path / "tf_float.qgnn"
    s, _ = run(capsys, "--data", cora_like_path, "--model", "sage", "--epochs", "20", "--qat", "--qat-epochs",
               "1", "--bits", "4", "--float-out", flt, "-o", out)
    qm = read_quantized_model(out)
    assert qm.version == 6 and [l.order for l in qm.layers] == [TRANSFORM_FIRST, TRANSFORM_FIRST]
    assert qm.layers[0].dense.weight.shape == (16, 1433) and qm.layers[0].dense.weight_bits == 8  # first layer
    assert qm.layers[1].dense.weight_bits == 4
    assert [(l.message.bits, l.aggregation.bits) for l in qm.layers] == [(8, 8), (8, 8)]
    assert s["quantized_acc"]["test"] == round(sim.evaluate(qm, cora_like(), "test", 1).accuracy, 6)
    f = read_model(flt)
    assert [l.order for l in f.layers] == [TRANSFORM_FIRST, TRANSFORM_FIRST]
    for layer in f.layers:
        assert layer.message_range[0] < layer.message_range[1]
        assert layer.aggregation_range[0] < layer.aggregation_range[1]

    af = tmp_path / "af.qgnn"
    s, _ = run(capsys, "--data", cora_like_path, "--model", "sage", "--epochs", "20", "--qat", "--qat-epochs",
               "0", "--order", "aggregate-first", "-o", af)
    qm = read_quantized_model(af)
    assert [l.order for l in qm.layers] == [AGGREGATE_FIRST, AGGREGATE_FIRST] and qm.version < 6
    assert qm.layers[0].message is None and s["qat"]["order"] == "aggregate-first"


# ------------------------------------------------------------------------------------------ runtime parity

QGNN_RUN = find_tool("qgnn-run")


@pytest.mark.skipif(QGNN_RUN is None, reason="qgnn-run is not built (cmake --build build/release --target qgnn-run)")
@pytest.mark.parametrize("bits", [8, 4])
def test_runtime_parity_of_a_qat_model(tmp_path, bits):
    """A quantized transform-first SAGE model written by qgnn.qat (no converter involved) gives qgnn-run's
    outputs bit for bit: the hash of every logit, on a set with isolated nodes, duplicate edges and hubs."""
    from test_sim_runtime import assert_bit_exact, random_graph_set

    from qgnn.io import write_qgd

    gs = random_graph_set(21, NODE_CLASSIFICATION, 6, 3)
    data = tmp_path / "nodes.qgd"
    write_qgd(gs, data)
    x, g = graph_tensors(gs)
    torch.manual_seed(5)
    model = qnn.GraphModel(qnn.SAGEConv(6, 5, relu=True), qnn.SAGEConv(5, 4, root_weight=False, relu=True),
                           qnn.SAGEConv(4, 3))
    q = qat.prepare(model, bits=bits, order=TRANSFORM_FIRST)
    q.calibrating = True
    with torch.no_grad():
        q(x, g)
    path = tmp_path / "tf_sage.qgnn"
    qm = qat.export_quantized(q, path, task=NODE_CLASSIFICATION)
    assert [l.order for l in qm.layers] == [TRANSFORM_FIRST] * 3 and read_quantized_model(path).version == 6
    rep = assert_bit_exact(path, data, "all")
    assert rep["evaluated"] == gs.num_nodes


def test_forced_transform_first_refuses_a_max_sage_as_qgnn_convert_does():
    model = qnn.GraphModel(qnn.SAGEConv(6, 4, relu=True), qnn.SAGEConv(4, 3, reduce="max"))
    with pytest.raises(ValueError, match="layer 1 is a max SAGEConv"):
        qat.prepare(model, bits=8, order=TRANSFORM_FIRST)
    assert qat.prepare(model, bits=8, order="auto").entries[1].module.resolved_order == AGGREGATE_FIRST
