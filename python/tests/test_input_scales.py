"""Per-column input scales (issue 13 item 1): the choice (qgnn.qat.input_scales) on hand-computed cases, the
folding, the format (InputSpec.column_scales, version 4), the simulator's per-column input quantization, the
per-column observer, and a PTQ / QAT run where one input scale collapses and per-column scales keep the float
accuracy."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from qgnn import nn as qnn
from qgnn import sim
from qgnn._fb import FormatError
from qgnn.data.common import edges_to_csr
from qgnn.io import write_qgd
from qgnn.model_file import GIN_CONV, DenseDesc, LayerDesc, ModelDesc, from_bytes, to_bytes
from qgnn.qat.input_scales import fold_input_gains, input_column_scales
from qgnn.qat.observers import METHODS, ColumnRangeObserver, RangeObserver, batch_column_ranges
from qgnn.qat.quantizer import activation_quant_params
from qgnn.qgd import NODE_CLASSIFICATION, GraphSet
from qgnn.schema import qgnn_generated as fbm
from qgnn.sim.numerics import quantize_float
from qgnn.train import Hyper, accuracy, fit, whole
from qgnn.train.cli import main
from qgnn.train.quant import QATConfig, quantization_aware_training


def f32(v) -> float:
    return float(np.float32(v))


# ---------------------------------------------------------------------------------------------------
# The choice
# ---------------------------------------------------------------------------------------------------

def test_non_negative_columns_take_r0_and_their_highs_as_gains():
    c = input_column_scales([0, 0, -0.0], [1, 2, 500], 8)
    assert c.r == 0.0
    assert c.gains.tolist() == [1.0, 2.0, 500.0]
    s_in = np.float32(1.0 / 255.0)  # [0, 1] at 8 bits
    assert c.quant.scale == s_in and c.quant.zero_point == -128
    assert c.scales.dtype == np.float32
    assert c.scales.tolist() == [f32(float(s_in) * g) for g in (1.0, 2.0, 500.0)]
    assert c.fold.tolist() == [float(np.float32(float(s_in) * g)) / float(s_in) for g in (1.0, 2.0, 500.0)]


def test_mixed_signs_pick_the_best_candidate_r():
    # Columns [0, 1], [-538, 798], [-1, 0]. Candidates r = 538/798 (the mixed column's rho) and 1:
    #   r = 1:       g = (1, 798, 1),        f = (1/2, 1336/1596, 1/2)         sum log f = -1.5641
    #   r = 538/798: g = (1, 798, 798/538),  f = (1/(1+r), 1, 538/(798 (1+r)))  sum log f = -1.4249  <- best
    r = 538.0 / 798.0
    c = input_column_scales([0, -538, -1], [1, 798, 0], 8)
    assert c.r == r
    assert c.gains.tolist() == [1.0, 798.0, 1.0 / r]
    assert c.quant == activation_quant_params((-r, 1.0), 8)
    assert c.scales.tolist() == [f32(float(c.quant.scale) * g) for g in c.gains]


def test_r1_wins_over_both_ratios():
    # [-1, 2] (rho 1/2) and [-2, 1] (rho 2): r = 1/2 and r = 2 each leave one column half used
    # (sum log f = log 1/2); r = 1 uses 3/4 of both (log 9/16).
    c = input_column_scales([-1, -2], [2, 1], 4, mode="column")  # auto: one scale (equal spans)
    assert c.r == 1.0
    assert c.gains.tolist() == [2.0, 2.0]
    assert c.quant == activation_quant_params((-1.0, 1.0), 4)


def test_dead_columns_get_the_largest_live_gain():
    # column 1: all zero; column 3: never observed (an empty range)
    c = input_column_scales([0, 0, -3, math.inf], [1, 0, 600, -math.inf], 8)
    assert c.r == 3.0 / 600.0
    assert c.gains.tolist() == [1.0, 600.0, 600.0, 600.0]
    assert c.scales[1] == c.scales[2] == c.scales[3]


def test_auto_keeps_one_scale_for_equal_scale_columns():
    # One-hot columns (and dead ones) as in every bundled data set: per-tensor, as before.
    assert input_column_scales([0] * 5, [1, 1, 1, 0, 1], 8) is None
    assert input_column_scales([0, 0], [1, 16], 8) is None  # 1 is not < 16 / 16
    assert input_column_scales([0, 0], [1, 16.5], 8) is not None
    # "column" scales anyway: equal gains, so every scale is s_in.
    c = input_column_scales([0] * 3, [1, 1, 1], 8, mode="column")
    assert c.r == 0.0 and np.all(c.scales == c.quant.scale)


def test_tensor_mode_no_live_column_and_bad_arguments():
    assert input_column_scales([0, 0], [1, 500], 8, mode="tensor") is None
    assert input_column_scales([0, 0], [0, 0], 8) is None
    with pytest.raises(ValueError, match="every input column is 0"):
        input_column_scales([0, 0], [0, 0], 8, mode="column")
    with pytest.raises(ValueError, match="unknown input scale mode"):
        input_column_scales([0], [1], 8, mode="rows")
    with pytest.raises(ValueError, match="not finite"):
        input_column_scales([0, -math.inf], [1, 1], 8)
    assert input_column_scales([0, 0], [1, 500], 8, foldable=False) is None
    with pytest.raises(ValueError, match="GlobalPool"):
        input_column_scales([0, 0], [1, 500], 8, mode="column", foldable=False)


def test_scales_that_underflow_float32_fail_clearly():
    # A column spanning 1e-44 (a float32 denormal) needs the scale 1e-44 / 255, which float32 rounds to 0.
    with pytest.raises(ValueError, match="input column 0"):
        input_column_scales([0, 0], [1e-44, 1], 8)


def test_folding_touches_only_the_dense_ops_reading_the_input():
    rng = np.random.default_rng(1)
    w0, w1 = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    gin = LayerDesc(GIN_CONV, mlp=[DenseDesc(w0, np.zeros(4, np.float32), relu=True), DenseDesc(w1)])
    desc = ModelDesc(input_dim=3, layers=[gin], task=NODE_CLASSIFICATION)
    fold = np.array([1.0, 500.0000014, 1.0 / 3.0])
    out = fold_input_gains(desc, fold)
    np.testing.assert_array_equal(out.layers[0].mlp[0].weight, (w0.astype(np.float64) * fold).astype(np.float32))
    assert out.layers[0].mlp[1].weight is w1
    assert desc.layers[0].mlp[0].weight is w0  # the original is left alone


# ---------------------------------------------------------------------------------------------------
# Observers
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("momentum", [None, 0.1])
def test_column_observer_is_range_observer_per_column(method, momentum):
    rng = np.random.default_rng(2)
    col = ColumnRangeObserver(method, 4, momentum)
    per = [RangeObserver(method, 4, momentum) for _ in range(5)]
    for _ in range(3):
        v = rng.normal(size=(40, 5)) * np.array([1, 500, 1, 1, 0.01])
        v[rng.random(v.shape) < 0.5] = 0.0
        v[:, 3] = 0.0
        col.update(torch.from_numpy(v))
        for k, o in enumerate(per):
            o.update(v[:, k])
    lo, hi = col.range()
    np.testing.assert_allclose(lo, [o.lo for o in per], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hi, [o.hi for o in per], rtol=1e-12, atol=1e-12)
    empty_lo, empty_hi = batch_column_ranges(np.zeros((0, 3)), method)
    assert np.all(empty_lo > empty_hi)


# ---------------------------------------------------------------------------------------------------
# Data: one-hot columns that decide the class next to raw columns at +-500
# ---------------------------------------------------------------------------------------------------

def raw_attribute_set(seed: int = 0) -> GraphSet:
    """150 nodes in 3 classes: 3 one-hot class columns (10 % of the nodes' flipped to another class) next to
    2 uninformative raw columns uniform in [-500, 500]; edges mostly inside a class."""
    rng = np.random.default_rng(seed)
    n, c = 150, 3
    labels = np.arange(n) % c
    shown = np.where(rng.random(n) < 0.1, (labels + 1) % c, labels)
    feats = np.concatenate([np.eye(c)[shown], rng.uniform(-500, 500, (n, 2))], axis=1).astype(np.float32)
    src = rng.integers(0, n, 450)
    same = labels[src] + c * rng.integers(0, n // c, 450)
    dst = np.where(rng.random(450) < 0.9, same, rng.integers(0, n, 450))
    row_ptr, col_idx, _ = edges_to_csr(src, dst, n)
    idx = rng.permutation(n)
    return GraphSet(name="raw", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=row_ptr, col_idx=col_idx,
                    features=feats, labels=labels, num_classes=c, class_names=["a", "b", "c"],
                    train=idx[:90], val=idx[90:120], test=idx[120:], description="one-hot + raw columns")


@pytest.fixture(scope="module")
def trained():
    gs = raw_attribute_set()
    hp = Hyper.defaults(gs.task)
    hp.epochs, hp.dropout, hp.weight_decay = 150, 0.0, 5e-3  # GIN: generalises despite the noise columns
    model, acc = fit("gin", gs, hp, seed=0)
    return gs, model, acc


def _eval_matches_sim(q, gs):
    """The QAT model's eval forward is the exported model's integer result, bit for bit."""
    x, graph = whole(gs)
    with torch.no_grad():
        got = q(x, graph).numpy()
    res = sim.run(to_bytes(q.quantized_model(task=gs.task)), gs.features, gs.row_ptr, gs.col_idx)
    np.testing.assert_array_equal(got, res.logits_float)


def test_ptq_per_column_keeps_the_float_accuracy_where_one_scale_collapses(trained):
    gs, model, acc = trained
    assert acc["train"] >= 0.85 and acc["test"] >= 0.8, acc
    tensor, tensor_acc = quantization_aware_training(model, gs, QATConfig(bits=8, epochs=0, input_scales="tensor"))
    auto, auto_acc = quantization_aware_training(model, gs, QATConfig(bits=8, epochs=0))
    assert tensor.quantized_model().input_column_scales is None
    qm = auto.quantized_model(task=gs.task)
    assert qm.input_column_scales is not None  # auto chose per column: the raw columns span 1000, one-hot 1
    # One scale of ~1000/255 rounds every one-hot 1 to 0: the one-hot information is gone.
    assert tensor_acc["train"] <= acc["train"] - 0.3, (tensor_acc, acc)
    assert auto_acc["train"] >= acc["train"] - 0.03 and auto_acc["test"] >= acc["test"] - 0.05, (auto_acc, acc)
    _eval_matches_sim(auto, gs)
    assert sim.evaluate(qm, gs, "train").accuracy == auto_acc["train"]


def test_qat_per_column_trains_through_the_runtime_numerics(trained):
    gs, model, acc = trained
    q, qacc = quantization_aware_training(model, gs, QATConfig(bits=4, epochs=3, input_scales="column"))
    qm = q.quantized_model(task=gs.task)
    assert qm.input_column_scales is not None
    assert qacc["train"] >= acc["train"] - 0.1, (qacc, acc)
    _eval_matches_sim(q, gs)
    # The float model export_float writes keeps the raw first aggregation's range and a per-tensor input range.
    desc = q.float_desc()
    lo, hi = desc.input_range
    assert lo <= -400 and hi >= 400
    assert desc.layers[0].aggregation_range == q.raw_aggregation_obs.range()


def test_auto_is_decided_once_and_kept_through_training():
    """The EMA of a column that stops varying must not switch the input quantization mid-training."""
    from qgnn import qat

    def qat_model():
        torch.manual_seed(0)
        return qat.prepare(qnn.GraphModel(qnn.GCNConv(3, 4, relu=True), qnn.Linear(4, 2)), bits=8, momentum=0.5)

    n = 30
    graph = qnn.Graph(np.arange(n + 1), (np.arange(n) + 1) % n, np.array([0, n]))
    onehot = torch.from_numpy(np.eye(3, dtype=np.float32)[np.arange(n) % 3])
    faint = onehot * torch.tensor([1.0, 1.0, 0.01])  # column 2 spans 1/100 of the input
    q = qat_model().train()
    q(onehot, graph)
    assert q.input_scales_mode == "tensor"
    for _ in range(10):
        q(faint, graph)
    assert q.input_col_obs.range()[1][2] < 1.0 / 16  # auto would now choose per column...
    assert q.quantized_model().input_column_scales is None  # ...but the decision stands
    fresh = qat_model().train()
    fresh(faint, graph)
    assert fresh.input_scales_mode == "column" and fresh.quantized_model().input_column_scales is not None


# ---------------------------------------------------------------------------------------------------
# Format and simulator
# ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def per_column_model(trained):
    gs, model, _ = trained
    q, _ = quantization_aware_training(model, gs, QATConfig(bits=8, epochs=0, input_scales="column"))
    return q.quantized_model(task=gs.task)


def test_model_file_round_trip_with_column_scales_is_version_4(per_column_model):
    qm = per_column_model
    data = to_bytes(qm)
    m = fbm.Model.GetRootAs(data, 0)
    assert m.Version() == 4
    back = from_bytes(data)
    assert back.version == 4
    assert back.input_column_scales.dtype == np.float32
    np.testing.assert_array_equal(back.input_column_scales, qm.input_column_scales)
    assert to_bytes(back) == data
    plain = dataclasses.replace(qm, input_column_scales=None)  # without them: what QAT files have always had
    assert fbm.Model.GetRootAs(to_bytes(plain), 0).Version() == 2


@pytest.mark.parametrize("bad, message", [
    (np.ones(4, np.float32), "4 entries, expected feature_dim = 5"),
    (np.array([1, 1, 0, 1, 1], np.float32), r"column_scales\[2\] = 0.0"),
    (np.array([1, 1, 1, np.nan, 1], np.float32), r"column_scales\[3\] = nan"),
    (np.array([1, 1, 1, 1, -np.inf], np.float32), r"column_scales\[4\] = -inf"),
])
def test_bad_column_scales_are_refused_by_writer_and_reader(per_column_model, bad, message):
    qm = per_column_model
    with pytest.raises(FormatError, match=message):
        to_bytes(dataclasses.replace(qm, input_column_scales=bad))
    if bad.size == qm.input_dim:  # same length: patch a written file's bytes, the reader must refuse it
        good = np.arange(1, 6, dtype=np.float32) * np.float32(0.1234567)
        data = to_bytes(dataclasses.replace(qm, input_column_scales=good))
        assert data.count(good.tobytes()) == 1
        with pytest.raises(FormatError, match=message):
            from_bytes(data.replace(good.tobytes(), bad.tobytes()))


def test_float_models_cannot_carry_column_scales(trained):
    from qgnn.export_model import to_desc

    desc = to_desc(trained[1], task=NODE_CLASSIFICATION)
    desc.input_column_scales = np.ones(desc.input_dim, np.float32)
    with pytest.raises(FormatError, match="float model"):
        to_bytes(desc)


def test_sim_quantizes_each_column_with_its_scale(per_column_model):
    qm = per_column_model
    scales, z, bits = qm.input_column_scales, qm.input_quant.zero_point, qm.input_quant.bits
    rng = np.random.default_rng(3)
    n = 40
    x = (rng.uniform(-600, 600, (n, 5)) * np.array([0.002, 0.002, 0.002, 1, 1])).astype(np.float32)
    x[:8] = ((np.arange(8) - 4)[:, None] + np.float32(0.5)) * scales  # near the halves of every column
    row_ptr, col_idx = np.arange(n + 1), (np.arange(n) + 1) % n
    res = sim.run(qm, x, row_ptr, col_idx, keep_intermediates=True)
    expected = np.empty((n, 5), np.int64)
    for k in range(5):  # the spec's formula, one column and one scalar scale at a time
        for i in range(n):
            v = np.float32(x[i, k]) / np.float32(scales[k])  # one binary32 division
            r = math.floor(abs(float(v)) + 0.5) * (1 if v >= 0 else -1)  # round half away from zero
            expected[i, k] = min(max(r + z, -(1 << (bits - 1))), (1 << (bits - 1)) - 1)
    np.testing.assert_array_equal(res.intermediates[0], expected)
    np.testing.assert_array_equal(expected, quantize_float(x, scales, z, bits))
    assert not np.array_equal(expected, quantize_float(x, qm.input_quant.scale, z, bits))
    # An INT8-input model reads the caller's per-column quantized features as they are.
    q8 = dataclasses.replace(qm, input_int8=True)
    got = sim.run(q8, expected.astype(np.int8), row_ptr, col_idx, keep_intermediates=True)
    np.testing.assert_array_equal(got.intermediates[0], expected)
    np.testing.assert_array_equal(got.logits_q, res.logits_q)


# ---------------------------------------------------------------------------------------------------
# qgnn.train --input-scales
# ---------------------------------------------------------------------------------------------------

def test_train_cli_input_scales(tmp_path, capsys):
    data = tmp_path / "raw.qgd"
    write_qgd(raw_attribute_set(), data)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--model", "gcn", "-o", str(tmp_path / "f.qgnn"), "--input-scales", "column"])
    assert "--input-scales needs --qat" in capsys.readouterr().err
    out = tmp_path / "q.qgnn"
    assert main(["--data", str(data), "--model", "gin", "--epochs", "30", "--qat", "--qat-epochs", "0",
                 "--input-scales", "column", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["input_column_scales"] is True and report["qat"]["input_scales"] == "column"
    assert sim.load_model(str(out)).input_column_scales is not None


# ---------------------------------------------------------------------------------------------------
# Against the runtime (when qgnn-run is built)
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bits, int8_input", [(8, False), (4, False), (8, True)])
def test_sim_matches_qgnn_run_with_column_scales(trained, tmp_path, bits, int8_input):
    import subprocess

    from conftest import find_tool

    qgnn_run = find_tool("qgnn-run")
    if qgnn_run is None:
        pytest.skip("qgnn-run is not built (set QGNN_BUILD to a build with per-column input scales)")
    gs, model, _ = trained
    q, _ = quantization_aware_training(model, gs, QATConfig(bits=bits, epochs=0, input_scales="column"))
    qm = dataclasses.replace(q.quantized_model(task=gs.task), input_int8=int8_input)
    assert qm.input_column_scales is not None and q.input_fold() is not None
    model_path, data_path = tmp_path / "m.qgnn", tmp_path / "raw.qgd"
    model_path.write_bytes(to_bytes(qm))
    write_qgd(gs, data_path)
    expected = sim.evaluate(qm, gs, "all")
    for isa in ("reference", None):  # the reference kernels and the fastest twin of this machine
        argv = [str(qgnn_run), str(model_path), str(data_path), "--json"] + (["--isa", isa] if isa else [])
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        tool = json.loads(out.stdout)
        assert tool["outputs_sha256"] == expected.outputs_sha256, isa
        assert tool["correct"] == expected.correct
