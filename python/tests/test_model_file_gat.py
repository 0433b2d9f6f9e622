"""GATConv in .qgnn files (qgnn.model_file): float and quantized descriptions round-trip through the Python
writer and reader, the reader refuses what the runtime's Init refuses, qgnn-convert and the runtime take the
Python files, qgnn.sim runs them bit for bit as the runtime, and qgnn.load builds the qgnn.nn module."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from test_sim_runtime import QGNN_CONVERT, QGNN_RUN, convert, needs_convert, needs_run, random_graph_set, run_tool

import qgnn.export_model
from qgnn import sim
from qgnn.export_model import from_desc
from qgnn.io import NODE_CLASSIFICATION, write_qgd
from qgnn.model_file import (GAT_CONV, DenseDesc, FormatError, LayerDesc, ModelDesc, QuantParams, Requant,
                             check_model, from_bytes, read_quantized_model, to_bytes, write_model)
from qgnn.sim.__main__ import main as sim_main

IN, HEADS0, HEADS1, F, CLASSES = 6, 4, 2, 3, 3


def gat_layer(rng, name, in_dim, heads, concat, relu):
    cols = heads * F
    bound = 1.0 / math.sqrt(in_dim)
    return LayerDesc(GAT_CONV, name, relu, dense=DenseDesc(rng.uniform(-bound, bound, (cols, in_dim)), None),
                     heads=heads, head_dim=F, concat=concat,
                     att_src=rng.uniform(-1, 1, cols).astype(np.float32),
                     att_dst=rng.uniform(-1, 1, cols).astype(np.float32),
                     output_bias=rng.uniform(-0.1, 0.1, cols if concat else F).astype(np.float32))


def float_gat(seed=0) -> ModelDesc:
    """4 concatenated heads of 3 (6 -> 12, ReLU), then the mean of 2 heads of 3 (12 -> 3 classes)."""
    rng = np.random.default_rng(seed)
    return ModelDesc(input_dim=IN, name="gat", task=NODE_CLASSIFICATION, class_names=["a", "b", "c"],
                     layers=[gat_layer(rng, "gat0", IN, HEADS0, True, True),
                             gat_layer(rng, "gat1", HEADS0 * F, HEADS1, False, False)])


def requant(n, multiplier=1 << 30, shift=38):
    return Requant(np.full(n, multiplier, np.int64), np.full(n, shift, np.int64))


def quantized_gat() -> ModelDesc:
    """One quantized GATConv layer, 2 averaged heads of 3, made by hand (no converter): every field the
    runtime's Init checks, valid."""
    rng = np.random.default_rng(5)
    cols = HEADS1 * F
    table = np.array([round(32768 * math.exp(-0.05 * k)) for k in range(256)], np.uint16)
    layer = LayerDesc(GAT_CONV, "gat", False, heads=HEADS1, head_dim=F, concat=False,
                      dense=DenseDesc(rng.integers(-127, 128, (cols, IN)).astype(np.int8), None, weight_bits=8,
                                      weight_scales=np.full(cols, 0.01, np.float32), requant=requant(cols)),
                      att_src=rng.integers(-127, 128, cols).astype(np.int8),
                      att_dst=rng.integers(-127, 128, cols).astype(np.int8), att_scale=0.02,
                      output_bias=rng.integers(-1000, 1000, F).astype(np.int32),
                      output=QuantParams(8, np.float32(0.1), 3), message=QuantParams(8, np.float32(0.05), -2),
                      logit=QuantParams(8, np.float32(0.05), -20), logit_requant=requant(1),
                      logit_negative_requant=requant(1, shift=40), exp_table=table, output_requant=requant(F))
    return ModelDesc(input_dim=IN, layers=[layer], name="qgat", task=NODE_CLASSIFICATION,
                     input_quant=QuantParams(8, np.float32(0.02), 0), limits=(0, 0, (1 << 21) - 1, 0))


def test_float_gat_round_trips():
    m = float_gat()
    assert check_model(m) == CLASSES and m.num_classes == CLASSES
    data = to_bytes(m)
    back = from_bytes(data)
    assert not back.quantized and back.num_classes == CLASSES
    for a, b in zip(m.layers, back.layers):
        assert (b.kind, b.name, b.relu, b.heads, b.head_dim, b.concat) == (a.kind, a.name, a.relu, a.heads,
                                                                          a.head_dim, a.concat)
        assert b.dense.bias is None and np.array_equal(b.dense.weight, a.dense.weight.astype(np.float32))
        for name in ("att_src", "att_dst", "output_bias"):
            assert np.array_equal(getattr(b, name), getattr(a, name)), name
    assert back.layers[0].output_width(IN) == HEADS0 * F and back.layers[1].output_width(HEADS0 * F) == F
    assert to_bytes(back) == data


def test_quantized_gat_round_trips():
    m = quantized_gat()
    data = to_bytes(m)
    back = from_bytes(data, quantized=True)
    a, b = m.layers[0], back.layers[0]
    assert back.num_classes == F and (b.heads, b.head_dim, b.concat) == (HEADS1, F, False)
    assert b.att_src.dtype == np.int8 and np.array_equal(b.att_src, a.att_src)
    assert np.array_equal(b.att_dst, a.att_dst) and np.float32(b.att_scale) == np.float32(a.att_scale)
    assert b.output_bias.dtype == np.int32 and np.array_equal(b.output_bias, a.output_bias)
    assert np.array_equal(b.exp_table, a.exp_table) and b.logit == a.logit and b.message == a.message
    for name in ("logit_requant", "logit_negative_requant", "output_requant"):
        assert np.array_equal(getattr(b, name).shift, getattr(a, name).shift), name
    assert to_bytes(back) == data


def broken(field, value):
    def apply(layer: LayerDesc):
        setattr(layer, field, value)
    return apply


FLOAT_DEFECTS = {
    "dense has no bias or BatchNorm": lambda l: setattr(l.dense, "bias", np.zeros(6, np.float32)),
    "att_src must have heads x head_dim": lambda l: setattr(l, "att_src", l.att_src[:-1]),
    "att_dst has a non-finite value": lambda l: l.att_dst.__setitem__(0, np.nan),
    "output_bias must have 3 values": lambda l: setattr(l, "output_bias", np.zeros(6, np.float32)),
    "heads of 3 features": broken("heads", 0),
    "does not have heads x head_dim": broken("head_dim", 4),
}


@pytest.mark.parametrize("message", sorted(FLOAT_DEFECTS))
def test_check_model_refuses_a_malformed_float_gat(message):
    m = float_gat()
    FLOAT_DEFECTS[message](m.layers[1])
    with pytest.raises(FormatError, match=message):
        to_bytes(m)


def test_check_model_refuses_more_than_64_averaged_heads():
    rng = np.random.default_rng(1)
    m = ModelDesc(input_dim=IN, task=NODE_CLASSIFICATION, layers=[gat_layer(rng, "g", IN, 65, False, False)])
    with pytest.raises(FormatError, match="the mean of 65 heads"):
        check_model(m)


QUANTIZED_DEFECTS = {
    "exp_table.0. = 32767": lambda m: m.layers[0].exp_table.__setitem__(0, 32767),
    "exp_table increases": lambda m: m.layers[0].exp_table.__setitem__(9, m.layers[0].exp_table[8] + 1),
    "exp_table has 255 entries": lambda m: setattr(m.layers[0], "exp_table", m.layers[0].exp_table[:255]),
    "logit: bits = 2 .4 or 8.": lambda m: setattr(m.layers[0], "logit", QuantParams(2, np.float32(0.1), 0)),
    "logit: zero point 8 outside the 4-bit range": lambda m: setattr(m.layers[0], "logit",
                                                                     QuantParams(4, np.float32(0.1), 8)),
    "output_requant: 6 multipliers": lambda m: setattr(m.layers[0], "output_requant", requant(6)),
    "logit_requant: shift outside": lambda m: setattr(m.layers[0], "logit_requant", requant(1, shift=63)),
    "dense has a bias": lambda m: setattr(m.layers[0].dense, "bias", np.zeros(6, np.int32)),
    "bias has shape": lambda m: setattr(m.layers[0], "output_bias", np.zeros(6, np.int32)),
    r"\|bias\| >= 2\^30": lambda m: m.layers[0].output_bias.__setitem__(1, 1 << 30),
    r"needs Limits.max_degree <= 2097151": lambda m: setattr(m, "limits", (0, 0, 0, 0)),
    "has Layer.aggregation": lambda m: setattr(m.layers[0], "aggregation", QuantParams(8, np.float32(1), 0)),
}


@pytest.mark.parametrize("message", sorted(QUANTIZED_DEFECTS))
def test_quantized_reader_refuses_what_the_runtime_refuses(message):
    m = quantized_gat()
    to_bytes(m)  # valid as made
    QUANTIZED_DEFECTS[message](m)
    with pytest.raises(FormatError, match=message):
        to_bytes(m)  # a quantized model is checked by reading it back


def test_simulator_runs_the_hand_made_model_and_qgnn_load_builds_the_module(tmp_path, capsys):
    q = quantized_gat()
    x = np.random.default_rng(1).normal(0, 1, (2, IN)).astype(np.float32)
    res = sim.run(q, x, [0, 1, 1], [1])
    assert res.logits_q.shape == (2, F) and np.array_equal(sim.run(to_bytes(q), x, [0, 1, 1], [1]).logits_q,
                                                            res.logits_q)
    gs = random_graph_set(3, NODE_CLASSIFICATION, IN, CLASSES)
    write_model(q, tmp_path / "q.qgnn")
    write_qgd(gs, tmp_path / "g.qgd")
    assert sim_main([str(tmp_path / "q.qgnn"), str(tmp_path / "g.qgd")]) == 0
    assert "sha256" in capsys.readouterr().out
    desc = float_gat()
    model = from_desc(desc)
    assert [(m.heads, m.head_dim, m.concat, m.relu) for m in model.layers] == [(HEADS0, F, True, True),
                                                                              (HEADS1, F, False, False)]
    assert np.array_equal(model.layers[1].att_dst.detach().numpy().reshape(-1), desc.layers[1].att_dst)
    back = qgnn.export_model.to_desc(model)
    for a, b in zip(desc.layers, back.layers):
        assert (b.heads, b.head_dim, b.concat, b.relu) == (a.heads, a.head_dim, a.concat, a.relu)
        for name in ("att_src", "att_dst", "output_bias"):
            assert np.array_equal(np.float32(getattr(b, name)), np.float32(getattr(a, name))), name
        assert np.array_equal(b.dense.weight, np.float32(a.dense.weight)) and b.dense.bias is None


@needs_run
@needs_convert
def test_converter_and_runtime_take_the_python_files(tmp_path):
    """Python writes the float model; qgnn-run runs it and qgnn-convert quantizes it; Python reads the quantized
    file and writes it again, and the runtime gives the rewritten file the same outputs, bit for bit."""
    assert QGNN_RUN is not None and QGNN_CONVERT is not None
    data = tmp_path / "g.qgd"
    write_qgd(random_graph_set(4, NODE_CLASSIFICATION, IN, CLASSES), data)
    write_model(float_gat(), tmp_path / "f.qgnn")
    float_run = run_tool(tmp_path / "f.qgnn", data)
    assert float_run["evaluated"] == float_run["nodes"] > 0
    q_path = convert(tmp_path / "f.qgnn", data, tmp_path / "q.qgnn")
    q = read_quantized_model(q_path)
    assert [(l.kind, l.heads, l.concat) for l in q.layers] == [(GAT_CONV, HEADS0, True), (GAT_CONV, HEADS1, False)]
    assert q.limits[2] == (1 << 22) // HEADS1 - 1  # the converter bounds the mean of heads' degree
    for layer in q.layers:
        assert layer.logit.bits == 8 and layer.exp_table[0] == 32768 and layer.att_src.dtype == np.int8
    rewritten = to_bytes(q)
    assert to_bytes(from_bytes(rewritten)) == rewritten
    (tmp_path / "q2.qgnn").write_bytes(rewritten)
    assert run_tool(tmp_path / "q2.qgnn", data)["outputs_sha256"] == run_tool(q_path, data)["outputs_sha256"]
    # The simulator computes the converter's file bit for bit as the runtime.
    mine = sim.evaluate(q, random_graph_set(4, NODE_CLASSIFICATION, IN, CLASSES), "all", 1)
    assert mine.outputs_sha256 == run_tool(q_path, data)["outputs_sha256"]
    # A copy with a mutated field is not the same model: the check above can fail.
    changed = copy.deepcopy(q)
    changed.layers[1].output_bias = changed.layers[1].output_bias + 20000
    (tmp_path / "q3.qgnn").write_bytes(to_bytes(changed))
    assert run_tool(tmp_path / "q3.qgnn", data)["outputs_sha256"] != run_tool(q_path, data)["outputs_sha256"]
