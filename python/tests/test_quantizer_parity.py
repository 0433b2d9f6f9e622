"""Parity of the two post-training quantizers: the C++ converter (`qgnn-convert`, converter/src/quantizer.cc,
fixed_point.cc, calibration.cc) and its Python port (qgnn.qat.quantizer, used by qgnn.qat and by
`python3 -m qgnn.train --qat --qat-epochs 0`). Both quantize the same float model with min-max ranges calibrated
on the same split, and every quantization parameter of the two results is compared:

  * the bundled GIN graph classifier models/mutag_gin_f32.qgnn on models/mutag.qgd (split train), INT8 and INT4;
  * a random GCN / SAGE(mean, root) / SAGE(max) node classifier on a tiny synthetic node set (whole graph, as
    the converter calibrates node tasks), INT8 and INT4, with one all-zero output channel (its weight scale is
    raised to the 2^-32 requant floor) and one channel of tiny weights under a large bias (raised so that the
    bias stays below 2^30 steps).

Two levels of comparison:

1. **Exact (the quantizer arithmetic).** Given the activation QuantParams the converter chose, the Python
   functions reproduce everything derived from them bit for bit: per-channel weight scales (float32, bitwise),
   int weights, int32 biases, Dense requant multipliers / shifts, aggregation and pooling requants (with the
   scale left untouched, i.e. the same "lower below 2^-10" decision), GIN self_weight_q16. Both sides use the
   same float32 / double operations in the same order and the same round-half-away-from-zero rule, so nothing
   but equality is acceptable here.

2. **End to end (ranges calibrated independently).** The converter calibrates with its own C++ float kernels, the
   Python side with the torch float forward of qgnn.qat over the same graphs (graph batches of different sizes,
   512 vs 4096 graphs, do not matter: min / max of per-node / per-graph values does not depend on batching). The
   kernels sum in different orders, so an observed min / max may differ by a few float32 ulps. Hence the
   tolerances, and only there: activation scales rel. <= 1e-5 (observed a few 1e-7), zero points within 1
   (an ulp can move round(qmin - lo / s) across a tie), weight scales rel. <= 1e-6 (equal unless raised to a floor
   that depends on s_out / s_in), int weights equal except, at most 1 % of them, by 1 LSB (a raised scale that
   moved by an ulp can flip an exact tie), biases within 1, requants equal whenever the scales they derive
   from are bitwise equal (else the represented factor m * 2^-e within rel. 1e-5). Bits, layer structure, ReLU
   flags, reductions and GIN self weights must be equal.
"""

from __future__ import annotations

import copy
import subprocess
from typing import Optional

import numpy as np
import pytest
import torch
from conftest import REPO, find_tool
from test_train_cli import node_set

import qgnn
from qgnn import nn as qnn
from qgnn import qat
from qgnn.io import write_qgd
from qgnn.model_file import GCN_CONV, GIN_CONV, LINEAR, GLOBAL_POOL, SAGE_CONV, DenseDesc, read_model
from qgnn.qat.quantizer import (DENSE_SHIFT_MAX, gin_self_weight, quantize_dense, quantize_multiplier,
                                scalar_requant, scaled_bias)
from qgnn.qgd import NODE_CLASSIFICATION, GraphSet, read_qgd
from qgnn.quantized_model import read_quantized_model
from qgnn.train.quant import calibrate

CONVERT = find_tool("qgnn-convert")
MUTAG_MODEL = REPO / "models" / "mutag_gin_f32.qgnn"
MUTAG = REPO / "models" / "mutag.qgd"

pytestmark = pytest.mark.skipif(CONVERT is None, reason="qgnn-convert is not built (cmake --build build/release)")

SCALE_RTOL = 1e-5
WEIGHT_SCALE_RTOL = 1e-6
MAX_WEIGHT_FLIP_FRACTION = 0.01


def convert(model_path, data_path, out_path, bits: int, input_bits: Optional[int] = None):
    spec = str(bits) if input_bits is None else f"*={bits},input={input_bits}"
    subprocess.run([str(CONVERT), str(model_path), "--calib", str(data_path), "--calibration", "minmax", "--split", "train",
                    "--bits", spec, "-o", str(out_path)], check=True, capture_output=True, text=True, timeout=60)
    return read_quantized_model(out_path)


def python_ptq(model_path, gs, bits: int, input_bits: Optional[int] = None):
    """What `qgnn.train --qat --qat-epochs 0` does: min-max observers combined absolutely over one float pass
    over the train split, then qgnn.qat.quantizer. input_bits: named, as convert's "input=" (a bare width
    leaves the input at 8 bits)."""
    spec = bits if input_bits is None else {"default": bits, "input": input_bits}
    q = qat.prepare(qgnn.load(model_path).eval(), bits=spec, ranges="minmax", momentum=None)
    calibrate(q, gs, "train")
    return q.quantized_model()


def dense_scales(layer, in_scale):
    """(Dense, s_in, s_out) of every Dense of a quantized layer, as the converter wires them."""
    s_out = layer.output.scale
    if layer.kind == LINEAR:
        return [(layer.dense, in_scale, s_out)]
    if layer.kind == GCN_CONV:
        return [(layer.dense, layer.aggregation.scale, s_out)]
    if layer.kind == SAGE_CONV and layer.transform_first:  # the neighbour Dense writes the messages
        out = [(layer.dense, in_scale, layer.message.scale)]
        return out + ([(layer.root, in_scale, s_out)] if layer.root is not None else [])
    if layer.kind == SAGE_CONV:
        out = [(layer.dense, layer.aggregation.scale, s_out)]
        return out + ([(layer.root, in_scale, s_out)] if layer.root is not None else [])
    if layer.kind == GIN_CONV:
        scales = [layer.aggregation.scale] + [h.scale for h in layer.hidden] + [s_out]
        return [(d, scales[k], scales[k + 1]) for k, d in enumerate(layer.mlp)]
    return []


def float_denses(layer_desc):
    if layer_desc.kind == GIN_CONV:
        return list(layer_desc.mlp)
    if layer_desc.kind == GLOBAL_POOL:
        return []
    return [layer_desc.dense] + ([layer_desc.root] if layer_desc.root is not None else [])


def check_exact(desc, cq):
    """Level 1: the Python functions applied to the converter's activation QuantParams reproduce the converter's
    derived parameters bit for bit."""
    in_q = cq.input_quant
    for i, (fl, ql) in enumerate(zip(desc.layers, cq.layers)):
        where = f"layer {i} ({ql.name})"
        tf_sage = ql.kind == SAGE_CONV and ql.transform_first
        assert ql.kind != GCN_CONV or not ql.transform_first, f"{where}: a transform-first GCNConv is not wired here"
        if ql.kind in (GCN_CONV, SAGE_CONV, GIN_CONV):
            agg = copy.deepcopy(ql.aggregation)
            # transform-first SAGEConv: the mean of the messages rescales s_m / s_a
            rq = scalar_requant(ql.message.scale if tf_sage else in_q.scale, agg)
            assert np.float32(agg.scale) == np.float32(ql.aggregation.scale), where
            assert rq.multiplier.tolist() == ql.aggregation_requant.multiplier.tolist(), where
            assert rq.shift.tolist() == ql.aggregation_requant.shift.tolist(), where
        if tf_sage:
            # the neighbour bias at s_a, and one output requant s_a / s_out
            np.testing.assert_array_equal(scaled_bias(fl.dense.bias, ql.aggregation.scale), ql.dense.bias,
                                          err_msg=where)
            m, e = quantize_multiplier(float(ql.aggregation.scale) / float(ql.output.scale), DENSE_SHIFT_MAX)
            assert (ql.output_requant.multiplier.tolist(), ql.output_requant.shift.tolist()) == ([m], [e]), where
        if ql.kind == GLOBAL_POOL:
            out = copy.deepcopy(ql.output)
            rq = scalar_requant(in_q.scale, out)
            assert np.float32(out.scale) == np.float32(ql.output.scale), where
            assert (rq.multiplier.tolist(), rq.shift.tolist()) == (ql.requant.multiplier.tolist(),
                                                                   ql.requant.shift.tolist()), where
        if ql.kind == GIN_CONV:
            assert gin_self_weight(fl.eps) == ql.self_weight_q16, where
        wired = dense_scales(ql, in_q.scale)
        fds = float_denses(fl)
        assert len(wired) == len(fds), where
        for k, ((cd, s_in, s_out), fd) in enumerate(zip(wired, fds)):
            w = f"{where} dense {k}"
            if tf_sage and k == 0:  # quantized without its bias (checked above, at s_a)
                fd, cd = DenseDesc(fd.weight, None, fd.relu), copy.copy(cd)
                cd.bias = None
            pd = quantize_dense(fd, cd.weight_bits, np.float32(s_in), np.float32(s_out), fd.relu)
            np.testing.assert_array_equal(pd.weight_scales.astype(np.float32).view(np.uint32),
                                          np.asarray(cd.weight_scales, np.float32).view(np.uint32), err_msg=w)
            np.testing.assert_array_equal(pd.weight.astype(np.int32), cd.weight.astype(np.int32), err_msg=w)
            assert (pd.bias is None) == (cd.bias is None), w
            if cd.bias is not None:
                np.testing.assert_array_equal(pd.bias.astype(np.int64), cd.bias.astype(np.int64), err_msg=w)
            np.testing.assert_array_equal(pd.requant.multiplier, cd.requant.multiplier, err_msg=w)
            np.testing.assert_array_equal(pd.requant.shift, cd.requant.shift, err_msg=w)
        in_q = ql.output


def _rel(a, b) -> np.ndarray:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def _same_f32(*pairs) -> bool:
    return all(np.float32(a) == np.float32(b) for a, b in pairs)


def compare_end_to_end(cq, pq, stats):
    """Level 2: the two independently calibrated models agree within the tolerances of the module docstring."""

    def qp(a, b, where):
        assert a.bits == b.bits, where
        r = float(_rel(b.scale, a.scale))
        stats["max_scale_rel"] = max(stats["max_scale_rel"], r)
        assert r <= SCALE_RTOL, f"{where}: scale {a.scale} (C++) vs {b.scale} (Python)"
        assert abs(a.zero_point - b.zero_point) <= 1, f"{where}: zero point {a.zero_point} vs {b.zero_point}"
        if a.zero_point != b.zero_point:
            stats["zero_points_off_by_1"] += 1
            assert not _same_f32((a.scale, b.scale)), f"{where}: same scale, different zero point"

    def requant(ra, rb, scales_equal, where):
        assert len(ra.multiplier) == len(rb.multiplier), where
        if scales_equal is True or (np.ndim(scales_equal) and np.all(scales_equal)):
            np.testing.assert_array_equal(ra.multiplier, rb.multiplier, err_msg=where)
            np.testing.assert_array_equal(ra.shift, rb.shift, err_msg=where)
        fa = ra.multiplier.astype(np.float64) * np.exp2(-ra.shift.astype(np.float64))
        fb = rb.multiplier.astype(np.float64) * np.exp2(-rb.shift.astype(np.float64))
        assert np.all(_rel(fb, fa) <= SCALE_RTOL), where
        stats["requants_differing"] += int(np.sum((ra.multiplier != rb.multiplier) | (ra.shift != rb.shift)))

    assert (cq.task, cq.input_dim, cq.input_int8) == (pq.task, pq.input_dim, pq.input_int8)
    assert len(cq.layers) == len(pq.layers)
    # the input range is the features' own min / max on both sides (no arithmetic): exactly equal
    assert (cq.input_quant.bits, np.float32(cq.input_quant.scale), cq.input_quant.zero_point) == \
        (pq.input_quant.bits, np.float32(pq.input_quant.scale), pq.input_quant.zero_point)
    in_c, in_p = cq.input_quant, pq.input_quant
    for i, (a, b) in enumerate(zip(cq.layers, pq.layers)):
        where = f"layer {i} ({a.name})"
        assert (a.kind, a.name, a.relu, a.reduce) == (b.kind, b.name, b.relu, b.reduce), where
        qp(a.output, b.output, where + " output")
        assert a.order == b.order, where
        agg_in_c, agg_in_p = in_c, in_p
        if a.kind == SAGE_CONV and a.transform_first:
            qp(a.message, b.message, where + " message")
            agg_in_c, agg_in_p = a.message, b.message  # the mean of the messages
            requant(a.output_requant, b.output_requant,
                    _same_f32((a.aggregation.scale, b.aggregation.scale), (a.output.scale, b.output.scale)),
                    where + " output requant")
        if a.kind in (GCN_CONV, SAGE_CONV, GIN_CONV):
            qp(a.aggregation, b.aggregation, where + " aggregation")
            requant(a.aggregation_requant, b.aggregation_requant,
                    _same_f32((agg_in_c.scale, agg_in_p.scale), (a.aggregation.scale, b.aggregation.scale)),
                    where + " agg")
        if a.kind == GLOBAL_POOL:
            requant(a.requant, b.requant, _same_f32((in_c.scale, in_p.scale), (a.output.scale, b.output.scale)),
                    where + " pool")
        if a.kind == GIN_CONV:
            assert a.self_weight_q16 == b.self_weight_q16, where
            assert len(a.hidden) == len(b.hidden), where
            for k, (ha, hb) in enumerate(zip(a.hidden, b.hidden)):
                qp(ha, hb, f"{where} hidden {k}")
        da, db = dense_scales(a, in_c.scale), dense_scales(b, in_p.scale)
        assert len(da) == len(db), where
        for k, ((ca, sia, soa), (cb, sib, sob)) in enumerate(zip(da, db)):
            w = f"{where} dense {k}"
            assert (ca.weight_bits, ca.relu, ca.weight.shape) == (cb.weight_bits, cb.relu, cb.weight.shape), w
            ws_a = np.asarray(ca.weight_scales, np.float32)
            ws_b = np.asarray(cb.weight_scales, np.float32)
            r = float(_rel(ws_b, ws_a).max())
            stats["max_weight_scale_rel"] = max(stats["max_weight_scale_rel"], r)
            assert r <= WEIGHT_SCALE_RTOL, w
            diff = ca.weight.astype(np.int32) - cb.weight.astype(np.int32)
            assert np.abs(diff).max(initial=0) <= 1, w
            flips = int(np.count_nonzero(diff))
            stats["weights_differing"] += flips
            stats["weights"] += diff.size
            assert flips <= MAX_WEIGHT_FLIP_FRACTION * diff.size, w
            assert not np.any((diff != 0) & (ws_a == ws_b)[:, None]), f"{w}: same weight scale, different weight"
            assert (ca.bias is None) == (cb.bias is None), w
            if ca.bias is not None:
                bd = np.abs(ca.bias.astype(np.int64) - cb.bias.astype(np.int64)).max(initial=0)
                stats["max_bias_diff"] = max(stats["max_bias_diff"], int(bd))
                assert bd <= 1, w
            same = (ws_a == ws_b) & _same_f32((sia, sib), (soa, sob))
            requant(ca.requant, cb.requant, same, w)
        in_c, in_p = a.output, b.output


def new_stats():
    return {"max_scale_rel": 0.0, "zero_points_off_by_1": 0, "max_weight_scale_rel": 0.0, "weights_differing": 0,
            "weights": 0, "max_bias_diff": 0, "requants_differing": 0}


@pytest.fixture(scope="module")
def mutag():
    return read_qgd(MUTAG)


@pytest.fixture(scope="module")
def node_case(tmp_path_factory):
    """A random GCN / SAGE(mean) / SAGE(max) node model on a tiny synthetic node set, with two channels whose
    weight scale the quantizer must raise. The mean SAGE narrows (8 -> 6): both quantizers run it
    transform-first (the auto rule)."""
    tmp = tmp_path_factory.mktemp("parity")
    gs = node_set()
    data = tmp / "nodes.qgd"
    write_qgd(gs, data)
    torch.manual_seed(3)
    model = qnn.GraphModel(qnn.GCNConv(3, 8, relu=True), qnn.SAGEConv(8, 6, reduce="mean", relu=True),
                           qnn.SAGEConv(6, 3, reduce="max"))
    with torch.no_grad():
        lin = model.layers[0].lin
        lin.weight[2].zero_()  # max|W_c| = 0 and no bias: s_w raised to the requant floor
        lin.bias[2] = 0.0
        lin.weight[5] = torch.tensor([1e-9, -2e-9, 5e-10])  # tiny weights, bias >= 2^30 steps of s_in * s_w
        lin.bias[5] = 3.0
    path = tmp / "nodes_f32.qgnn"
    qgnn.export(model, path, name="nodes")
    return path, data, read_qgd(data)


@pytest.mark.parametrize("bits", [8, 4])
def test_mutag_gin_parity(tmp_path, mutag, bits):
    cq = convert(MUTAG_MODEL, MUTAG, tmp_path / "c.qgnn", bits)
    check_exact(read_model(MUTAG_MODEL), cq)
    stats = new_stats()
    compare_end_to_end(cq, python_ptq(MUTAG_MODEL, mutag, bits), stats)
    print(f"mutag INT{bits}:", stats)


@pytest.mark.parametrize("bits", [8, 4])
def test_node_gcn_sage_parity(tmp_path, node_case, bits):
    model_path, data_path, gs = node_case
    cq = convert(model_path, data_path, tmp_path / "c.qgnn", bits)
    desc = read_model(model_path)
    check_exact(desc, cq)
    assert [l.order for l in cq.layers] == ["aggregate-first", "transform-first", "aggregate-first"]
    # the two special channels really were raised (by both quantizers, level 1)
    d = cq.layers[0].dense
    assert np.all(d.weight[2] == 0) and np.all(d.weight[5] == 0)
    s_in, s_out = float(cq.layers[0].aggregation.scale), float(cq.layers[0].output.scale)
    assert d.weight_scales[2] == np.float32(2.0 ** -32 * (1 + 1e-5) * s_out / s_in)
    assert abs(int(d.bias[5])) < 2 ** 30 - 1 and abs(int(d.bias[5])) > 2 ** 29
    stats = new_stats()
    compare_end_to_end(cq, python_ptq(model_path, gs, bits), stats)
    print(f"nodes INT{bits}:", stats)


# Feature ranges (lo, hi) that reach the corner cases of activation_quant_params exactly through the input range:
# an exact zero-point tie (s = 2^-4, qmin - lo / s = -126.5 for INT8 / -6.5 for INT4: half away from zero gives
# -127 / -7, half to even would give -126 / -6), ranges not containing 0 (widened), and all zeros (degenerate
# [0, 0]: both quantizers use the smallest activation scale 2^-24, never a made-up [0, 1]).
INPUT_RANGES = {
    "tie8": (8, -1.5 / 16, -1.5 / 16 + 255 / 16),
    "tie4": (4, -1.5 / 16, -1.5 / 16 + 15 / 16),
    "positive": (8, 0.25, 3.0),
    "negative": (4, -5.0, -0.125),
    "zeros": (8, 0.0, 0.0),
}


@pytest.mark.parametrize("case", sorted(INPUT_RANGES))
def test_input_range_corner_cases(tmp_path, case):
    bits, lo, hi = INPUT_RANGES[case]
    rng = np.random.default_rng(1)
    n, dim = 20, 3
    feats = rng.uniform(lo, hi, (n, dim)).astype(np.float32)
    feats[0, 0], feats[1, 1] = lo, hi
    gs = GraphSet(name="corner", task=NODE_CLASSIFICATION, graph_ptr=[0, n], row_ptr=np.zeros(n + 1, np.int64),
                  col_idx=np.zeros(0, np.int64), features=feats, labels=np.arange(n) % 2, num_classes=2,
                  class_names=["a", "b"], train=np.arange(n), val=np.zeros(0, np.int64),
                  test=np.zeros(0, np.int64), description="corner")
    data = tmp_path / "corner.qgd"
    write_qgd(gs, data)
    torch.manual_seed(5)
    path = tmp_path / "corner_f32.qgnn"
    qgnn.export(qnn.GraphModel(qnn.Linear(dim, 4, relu=True), qnn.Linear(4, 2)), path, name="corner")
    cq = convert(path, data, tmp_path / "c.qgnn", bits, input_bits=bits)  # the input at the case's width
    check_exact(read_model(path), cq)
    stats = new_stats()
    compare_end_to_end(cq, python_ptq(path, read_qgd(data), bits, input_bits=bits), stats)
    if case.startswith("tie"):
        assert cq.input_quant.scale == np.float32(1 / 16)
        assert cq.input_quant.zero_point == (-127 if bits == 8 else -7)  # half away from zero
    elif case == "zeros":
        assert cq.input_quant.scale == np.float32(2.0 ** -24)
        assert cq.input_quant.zero_point == -2 ** (bits - 1)
