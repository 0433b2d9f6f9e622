"""QAT of GATConv (qgnn.qat): the fake-quantized forward runs GATConv's integer step (terms, int8 logits, the
table softmax, alpha) and hands on exactly its dequantized output; gradients reach W, a_src, a_dst and the bias
through the float softmax; Degree-Quant masks apply to the node rows; the quantized model it writes is what
qgnn-convert computes from the float model with the same (stored) ranges, and runs bit for bit in qgnn-run;
`python3 -m qgnn.train --model gat --qat` trains, quantizes and scores it."""

import subprocess

import numpy as np
import pytest
import torch
from test_sim_runtime import QGNN_CONVERT, QGNN_RUN, assert_bit_exact, needs_convert, needs_run, random_graph_set
from test_train_qat import run

from qgnn import nn as qnn
from qgnn import qat, sim
from qgnn.io import NODE_CLASSIFICATION, write_qgd
from qgnn.model_file import read_model
from qgnn.quantized_model import read_quantized_model
from qgnn.train import whole


def gat_model(seed=0):
    torch.manual_seed(seed)
    return qnn.GraphModel(qnn.GATConv(5, 3, heads=4, relu=True), qnn.GATConv(12, 4, heads=3, concat=False))


@pytest.fixture(scope="module")
def nodes():
    return random_graph_set(14, NODE_CLASSIFICATION, 5, 4)


def calibrated(model, gs, bits, **kwargs):
    q = qat.prepare(model, bits=bits, input_scales="tensor", **kwargs)
    x, g = whole(gs)
    q.calibrating = True
    with torch.no_grad():
        q(x, g)
    q.calibrating = False
    return q, x, g


@pytest.mark.parametrize("bits", [8, 4, {"default": 4, "aggregation": 4}, {"default": 8, "attention": 4},
                                  {"default": 4, "layers": {1: {"attention": 4}}}])
def test_eval_forward_is_the_integer_model(nodes, bits):
    q, x, g = calibrated(gat_model(), nodes, bits)
    q.eval()
    with torch.no_grad():
        y = q(x, g).numpy()
    qm = q.quantized_model()
    assert qm.limits[2] == (1 << 22) // 3 - 1  # the mean of 3 heads bounds the in-degree, as qgnn-convert
    expect_m = 4 if isinstance(bits, dict) and bits.get("aggregation") == 4 else 8
    # 8-bit logits unless named (a bare 4 leaves them at 8), as qgnn-convert's `att`
    expect_e = [4, 4] if isinstance(bits, dict) and bits.get("attention") == 4 else (
        [8, 4] if isinstance(bits, dict) and "layers" in bits else [8, 8])
    assert [l.message.bits for l in qm.layers] == [expect_m] * 2 and [l.logit.bits for l in qm.layers] == expect_e
    r = sim.run(qm, nodes.features, nodes.row_ptr, nodes.col_idx)
    assert np.array_equal(r.logits_float, y)


def test_training_forward_and_gradients(nodes):
    q, x, g = calibrated(gat_model(1), nodes, 8, degree_quant=True)
    q.train()
    y = q(x, g)
    loss = torch.nn.functional.cross_entropy(y, torch.from_numpy(nodes.labels.astype(np.int64)))
    loss.backward()
    for name, p in q.model.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    names = [n for n, _ in q.named_observers()]
    assert "layer 0 (GATConv) attention logits" in names and "layer 1 (GATConv) message" in names
    # without masks the training forward is the integer model too
    q.degree_quant = False
    with torch.no_grad():
        y = q(x, g).numpy()
    r = sim.run(q.last_quantized, nodes.features, nodes.row_ptr, nodes.col_idx)
    assert np.array_equal(r.logits_float, y)


@needs_run
@needs_convert
@pytest.mark.parametrize("bits,spec", [(8, "8"), (4, "4"), ({"default": 8, "attention": 4}, "*.att=4")])
def test_exported_model_is_what_qgnn_convert_computes_from_the_stored_ranges(tmp_path, nodes, bits, spec):
    data = tmp_path / "nodes.qgd"
    write_qgd(nodes, data)
    q, x, g = calibrated(gat_model(2), nodes, bits)
    opt = torch.optim.Adam(q.parameters(), lr=0.01)  # a step, so the weights are not the float model's
    q.train()
    torch.nn.functional.cross_entropy(q(x, g), torch.from_numpy(nodes.labels.astype(np.int64))).backward()
    opt.step()
    q.eval()
    mine = qat.export_quantized(q, tmp_path / "qat.qgnn", task=NODE_CLASSIFICATION)
    qat.export_float(q, tmp_path / "f.qgnn", task=NODE_CLASSIFICATION)
    stored = read_model(tmp_path / "f.qgnn")
    assert all(l.logit_range is not None and l.message_range is not None for l in stored.layers)
    r = subprocess.run([str(QGNN_CONVERT), str(tmp_path / "f.qgnn"), "--calib", str(data), "--bits", spec,
                        "--input-scales", "tensor", "-o", str(tmp_path / "conv.qgnn")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    theirs = read_quantized_model(tmp_path / "conv.qgnn")
    assert theirs.input_quant == mine.input_quant and theirs.limits == mine.limits
    assert [l.logit.bits for l in theirs.layers] == [4 if spec == "*.att=4" else 8] * 2
    for a, b in zip(mine.layers, theirs.layers):
        assert (a.message, a.logit, a.output) == (b.message, b.logit, b.output)
        assert np.float32(a.att_scale) == np.float32(b.att_scale)
        for name in ("att_src", "att_dst", "output_bias", "exp_table"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        for name in ("logit_requant", "logit_negative_requant", "output_requant"):
            assert np.array_equal(getattr(a, name).multiplier, getattr(b, name).multiplier), name
            assert np.array_equal(getattr(a, name).shift, getattr(b, name).shift), name
        assert np.array_equal(a.dense.weight, b.dense.weight) and np.array_equal(a.dense.weight_scales,
                                                                                 b.dense.weight_scales)
        assert np.array_equal(a.dense.requant.multiplier, b.dense.requant.multiplier)
    tool = assert_bit_exact(tmp_path / "qat.qgnn", data, "all")
    assert tool["outputs_sha256"] == assert_bit_exact(tmp_path / "conv.qgnn", data, "all")["outputs_sha256"]


def test_qgnn_train_gat_qat_cli(tmp_path, capsys):
    from test_train_cli import node_set

    gs = node_set()
    data = tmp_path / "n.qgd"
    write_qgd(gs, data)
    out, flt = tmp_path / "q4.qgnn", tmp_path / "f.qgnn"
    s, _ = run(capsys, "--data", data, "--model", "gat", "--epochs", "15", "--heads", "2", "--hidden", "4",
               "--output-heads", "2", "--qat", "--qat-epochs", "2", "--bits", "4", "--attention-bits", "4",
               "--degree-quant", "--float-out", flt, "-o", out)
    qm = read_quantized_model(out)
    assert [l.logit.bits for l in qm.layers] == [4, 4]
    assert s["qat"]["bits"]["attention"] == 4
    assert [(l.kind, l.heads, l.concat) for l in qm.layers] == [("GATConv", 2, True), ("GATConv", 2, False)]
    assert qm.layers[1].dense.weight_bits == 4 and qm.layers[0].output.bits == 4 and qm.layers[1].output.bits == 8
    assert s["hyper"]["heads"] == 2 and s["hyper"]["output_heads"] == 2 and s["hyper"]["lr"] == 0.005
    assert s["quantized_acc"]["test"] == round(sim.evaluate(qm, gs, "test", 1).accuracy, 6)
    assert all(l.logit_range is not None for l in read_model(flt).layers)


def test_heads_flags_need_gat(tmp_path, capsys):
    from qgnn.train.cli import main

    with pytest.raises(SystemExit):
        main(["--data", "x.qgd", "--model", "gcn", "--heads", "2", "-o", str(tmp_path / "m.qgnn")])
    assert "--heads applies to --model gat only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--data", "x.qgd", "--model", "gcn", "--qat", "--attention-bits", "4", "-o", str(tmp_path / "m.qgnn")])
    assert "--attention-bits applies to --model gat only" in capsys.readouterr().err
