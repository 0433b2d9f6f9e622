"""qgnn.qat: the QAT forward reproduces the runtime's integer arithmetic bit for bit (via qgnn.sim and, when
built, qgnn-run), straight-through gradients, range estimators, Degree-Quant masks, and a short QAT run on
MUTAG whose exported model scores exactly what the QAT model scores."""

from __future__ import annotations

import json
import subprocess
import zlib

import numpy as np
import pytest
import torch

from conftest import REPO, find_tool
from qgnn import nn as qnn
from qgnn import qat, sim
from qgnn.qgd import GRAPH_CLASSIFICATION, read_qgd
from qgnn.quantized_model import quantized_model_to_bytes, read_quantized_model
from qgnn.train import batch_graphs, fold_split, train_graph_classifier

MUTAG = REPO / "models" / "mutag.qgd"
QGNN_RUN = find_tool("qgnn-run")


def random_batch(seed, n_graphs=12, dim=5):
    """Graphs with isolated nodes, a hub of in-degree 23, odd degrees, duplicate edges and self-loops."""
    rng = np.random.default_rng(seed)
    sizes = [1, 24, 0] + [int(v) for v in rng.integers(2, 10, n_graphs)]
    rows, gp, base = [], [0], 0
    for n in sizes:
        nbrs = [[] for _ in range(n)]
        if n == 24:
            nbrs[0] = list(range(1, 24))
        elif n > 1:
            for _ in range(int(rng.integers(0, 3 * n))):
                i, j = rng.integers(0, n, 2)
                nbrs[i].append(int(j))
        rows += [sorted(base + j for j in r) for r in nbrs]
        base += n
        gp.append(base)
    row_ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    col_idx = np.array([j for r in rows for j in r], dtype=np.int64)
    x = rng.normal(0, 1.5, (base, dim)).astype(np.float32)
    x[rng.random(x.shape) < 0.3] = 0.0
    x[:, 0] = np.round(x[:, 0] * 4) / 4
    return torch.from_numpy(x), qnn.Graph(row_ptr, col_idx, np.array(gp))


def make_model(kind, seed, dim=5, pool="sum"):
    torch.manual_seed(seed)
    if kind == "gcn":
        layers = [qnn.GCNConv(dim, 8, relu=True), qnn.GCNConv(8, 6)]
    elif kind == "sage_mean":
        layers = [qnn.SAGEConv(dim, 8, reduce="mean", relu=True), qnn.SAGEConv(8, 6, root_weight=False)]
    elif kind == "sage_max":
        layers = [qnn.SAGEConv(dim, 8, reduce="max", relu=True), qnn.SAGEConv(8, 6, reduce="max")]
    elif kind == "gin":
        layers = [qnn.GINConv(qnn.gin_mlp([dim, 8, 8], batch_norm=True), eps=0.3, relu=True),
                  qnn.GINConv(qnn.gin_mlp([8, 7, 5, 6]), eps=-0.5)]
    else:  # linear
        layers = [qnn.Linear(dim, 8, relu=True), torch.nn.Linear(8, 6), torch.nn.ReLU()]
    layers += [qnn.GlobalPool(pool), qnn.Linear(6, 3)]
    m = qnn.GraphModel(*layers)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
    return m


def sim_logits(qm, x, graph):
    data = quantized_model_to_bytes(qm)
    return sim.run(data, x.numpy(), graph.row_ptr.numpy(), graph.col_idx.numpy(), graph.graph_ptr.numpy())


BITS = {"int8": 8, "int4": 4,
        "mixed": {"input": 8, "weights": 4, "aggregation": 8, "output": 4, "layers": {1: 8}}}


@pytest.mark.parametrize("bits", list(BITS))
@pytest.mark.parametrize("kind,pool", [("gcn", "sum"), ("sage_mean", "mean"), ("sage_max", "max"),
                                       ("gin", "sum"), ("linear", "mean")])
def test_eval_forward_equals_sim_bit_exact(kind, pool, bits):
    x, graph = random_batch(zlib.crc32(f"{kind}{bits}".encode()) % 1000)
    q = qat.prepare(make_model(kind, 1, pool=pool), bits=BITS[bits], ranges="minmax")
    q.train()
    for _ in range(2):  # observe ranges (the first call calibrates from the float model)
        q(x, graph)
    q.eval()
    with torch.no_grad():
        out = q(x, graph)
    res = sim_logits(q.quantized_model(), x, graph)
    assert np.array_equal(out.numpy(), res.logits_float)  # exact, bit for bit
    assert len(np.unique(res.logits_q)) > 2  # not a degenerate model


def test_train_forward_without_masks_is_the_integer_pipeline_too():
    x, graph = random_batch(7)
    q = qat.prepare(make_model("gin", 2), bits=4, ranges="minmax", momentum=None)
    q.train()
    q(x, graph)
    qm = q.quantized_model()  # absolute ranges: a second pass on the same batch changes nothing
    out = q(x, graph)
    assert np.array_equal(out.detach().numpy(), sim_logits(qm, x, graph).logits_float)


def test_ste_gradient_inside_and_outside_the_range():
    lin = qnn.Linear(2, 2)
    q = qat.prepare(qnn.GraphModel(lin), bits=8)
    q.input_obs.lo, q.input_obs.hi = -1.0, 1.0
    q.obs[0]["output"].lo, q.obs[0]["output"].hi = -10.0, 10.0
    q.eval()  # no observation: the ranges stay as set
    x = torch.tensor([[0.5, -0.25], [5.0, -3.0]], requires_grad=True)
    q(x, qnn.Graph([0, 0, 0], [])).sum().backward()
    assert torch.all(x.grad[0] != 0)  # inside [-1, 1]: straight through
    assert torch.all(x.grad[1] == 0)  # clipped: no gradient
    assert lin.weight.grad is not None and torch.any(lin.weight.grad != 0)
    # an output clipped at the top of its range passes no gradient either
    q.obs[0]["output"].lo, q.obs[0]["output"].hi = -1e-3, 1e-3
    lin.weight.grad = None
    x2 = torch.tensor([[0.5, -0.25]], requires_grad=True)
    q(x2, qnn.Graph([0, 0], [])).sum().backward()
    assert torch.all(x2.grad == 0) and torch.all(lin.weight.grad == 0)


def test_range_estimators():
    rng = np.random.default_rng(0)
    v = rng.normal(0.0, 1.0, 100000)
    v[0] = 1000.0  # outlier
    lo, hi = qat.batch_range(v, "minmax")
    assert hi == 1000.0
    lo, hi = qat.batch_range(v, "pauta", bits=4)  # 4-bit default: mean +- 3 sigma (sigma = sqrt(11) with the outlier): clipped
    mu, sd = v.mean(), v.std()  # no exact zeros in v: the non-zero statistics are those of all values
    assert (lo, hi) == pytest.approx((max(mu - 3 * sd, v.min()), mu + 3 * sd)) and hi < 11.0
    relu = np.concatenate([np.zeros(900), np.arange(1.0, 100.0), [1000.0]])  # a point mass at 0
    nz = relu[relu != 0]
    assert qat.batch_range(relu, "pauta", bits=4) == pytest.approx((0.0, nz.mean() + 3 * nz.std()))
    # 8-bit activations default to k = 5 (the converter's effective_sigma): a wider clip where rounding is finer.
    assert qat.batch_range(relu, "pauta") == pytest.approx((0.0, min(nz.mean() + 5 * nz.std(), relu.max())))
    assert qat.batch_range(np.zeros(5), "pauta") == (0.0, 0.0)
    lo, hi = qat.batch_range(v[1:], "pauta", k=2.0)
    assert hi == pytest.approx(2.0, abs=0.05) and lo == pytest.approx(-2.0, abs=0.05)
    w = np.sort(rng.uniform(0, 1000, 100001))  # percentiles of positive values, widened down to 0
    assert qat.batch_range(w, "percentile", bits=8) == pytest.approx((0.0, 999.0), abs=3.0)
    assert qat.batch_range(w, "percentile", bits=4) == pytest.approx((0.0, 990.0), abs=5.0)
    assert qat.batch_range(w - 500, "percentile", bits=4) == pytest.approx((-490.0, 490.0), abs=5.0)
    small = np.array([-1.0, 2.0])
    assert qat.batch_range(small, "pauta") == (-1.0, 2.0)  # intersected with [min, max]
    # ranges always include 0: all-positive values still give real 0 exactly
    qp = qat.activation_quant_params((2.0, 5.0), 8)
    assert qp.zero_point == -128 and qp.scale == np.float32(5.0 / 255)
    # min/max contains 0 too (the batch statistics the EMA combines, as the converter's)
    assert qat.batch_range(np.array([2.0, 5.0]), "minmax") == (0.0, 5.0)
    assert qat.batch_range(np.array([-3.0, -1.0]), "minmax") == (-3.0, 0.0)
    # EMA vs absolute
    ob = qat.RangeObserver("minmax", momentum=0.5)
    ob.update(torch.tensor([0.0, 2.0]))
    ob.update(torch.tensor([0.0, 4.0]))
    assert ob.range() == (0.0, 3.0)
    ob = qat.RangeObserver("minmax", momentum=None)
    ob.update(torch.tensor([-1.0, 2.0]))
    ob.update(torch.tensor([0.0, 4.0]))
    assert ob.range() == (-1.0, 4.0)


def test_percentile_ranges_of_a_sparse_bag_of_words_tensor():
    """Below 1 % density both percentiles of ALL values are 0 (the collapse of issue 13); over the non-zero
    values they cover the words, and match a hand computation of numpy's linear interpolation."""
    rng = np.random.default_rng(3)
    n, dim = 400, 500
    x = np.zeros((n, dim), np.float32)
    rows, cols = rng.integers(0, n, 1200), rng.integers(0, dim, 1200)
    x[rows, cols] = 0.125 / rng.integers(1, 9, 1200)  # normalised word counts, the largest 0.125 as in the issue
    nz = np.sort(x[x != 0].astype(np.float64))
    assert nz.size / x.size < 0.01
    assert tuple(np.percentile(x, [1, 99])) == (0.0, 0.0)  # what the old estimator saw
    for bits, (p_lo, p_hi) in ((8, (0.1, 99.9)), (4, (1.0, 99.0))):
        def by_hand(p):
            rank = p / 100 * (nz.size - 1)
            k = int(np.floor(rank))
            return nz[k] + (nz[min(k + 1, nz.size - 1)] - nz[k]) * (rank - k)

        lo, hi = qat.batch_range(x, "percentile", bits=bits)
        assert lo == 0.0  # all values positive: widened down to contain 0
        assert hi == pytest.approx(by_hand(p_hi), rel=1e-12) and 0.06 < hi <= 0.125  # neither 0 nor 1
        qp = qat.activation_quant_params((lo, hi), bits)
        assert qp.scale == np.float32(hi / (2 ** bits - 1))
    signed = np.where(x != 0, x - 0.5, 0.0)  # negative non-zeros too: both ends from the non-zero values
    nzs = signed[signed != 0]
    lo, hi = qat.batch_range(signed, "percentile", bits=4)
    assert (lo, hi) == pytest.approx((min(0.0, np.percentile(nzs, 1)), max(0.0, np.percentile(nzs, 99))))
    assert lo < -0.3


def test_degenerate_ranges_are_not_made_up():
    """No non-zero value -> [0, 0] (not [0, 1]), quantized at the smallest activation scale 2^-24, the
    converter's floor for collapsed ranges; reported by the QAT model and on stderr at export."""
    from qgnn.qat.quantizer import MIN_ACTIVATION_SCALE, degenerate_range

    for method in qat.METHODS:
        assert qat.batch_range(np.zeros(50), method) == (0.0, 0.0)
    for rng_ in ((0.0, 0.0), (np.inf, -np.inf), (0.0, -0.0)):
        assert degenerate_range(rng_)
        for bits in (8, 4):
            qp = qat.activation_quant_params(rng_, bits)
            assert qp.scale == np.float32(MIN_ACTIVATION_SCALE) and qp.zero_point == -2 ** (bits - 1)
    assert not degenerate_range((0.0, 1e-3)) and not degenerate_range((2.0, 5.0))


def test_degenerate_activation_is_reported(tmp_path, capsys):
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.Linear(3, 4, relu=True), qnn.Linear(4, 2))
    with torch.no_grad():
        model.layers[0].weight.fill_(-1.0)  # with positive inputs the ReLU output is all zero: a dead layer
        model.layers[0].bias.fill_(-1.0)
    q = qat.prepare(model, bits=8)
    q.calibrating = True
    q(torch.rand(6, 3) + 0.1, qnn.Graph(np.zeros(7, np.int64), np.zeros(0, np.int64)))
    q.calibrating = False
    assert q.degenerate_activations() == ["layer 0 (Linear) output"]
    qm = qat.export_quantized(q.eval(), tmp_path / "dead.qgnn")
    assert qm.layers[0].output.scale == np.float32(2.0 ** -24)
    err = capsys.readouterr().err
    assert "layer 0 (Linear) output has a degenerate range" in err


def test_degree_quant_masks_follow_the_cdf_and_vanish_in_eval():
    degree = torch.tensor([0, 1, 1, 5, 2, 9, 0, 3])
    cdf = qat.degree_cdf(degree)
    assert cdf.tolist() == [0.25, 0.5, 0.5, 0.875, 0.625, 1.0, 0.25, 0.75]
    p = qat.protection_probability(degree, 0.1, 0.2)
    assert torch.allclose(p, 0.1 + 0.1 * cdf)
    g = torch.Generator().manual_seed(0)
    freq = torch.stack([qat.protection_mask(degree, 0.1, 0.5, g) for _ in range(20000)]).double().mean(0)
    assert torch.allclose(freq, 0.1 + 0.4 * cdf, atol=0.015)
    # defaults: INT8 [0, 0.1], INT4 [0.1, 0.2]; degree_quant does not change the range method (default pauta)
    assert qat.prepare(make_model("gcn", 0), bits=8, degree_quant=True).dq_probs == (0.0, 0.1)
    assert qat.prepare(make_model("gcn", 0), bits=8, degree_quant=True).input_obs.method == "pauta"
    assert qat.prepare(make_model("gcn", 0), bits=8).input_obs.method == "pauta"
    q = qat.prepare(make_model("gcn", 0), bits=4, degree_quant=True, dq_probs=(0.5, 0.9), ranges="percentile")
    assert all(o.method == "percentile" for o in q.observers())
    x, graph = random_batch(3)
    q.train()
    q(x, graph)
    q(x, graph)
    q.eval()
    with torch.no_grad():
        e1, e2 = q(x, graph), q(x, graph)
    assert torch.equal(e1, e2)
    assert np.array_equal(e1.numpy(), sim_logits(q.quantized_model(), x, graph).logits_float)


def test_degree_quant_masks_change_training_but_not_eval():
    x, graph = random_batch(4)
    q = qat.prepare(make_model("gcn", 0), bits=4, degree_quant=True, dq_probs=(1.0, 1.0), momentum=None)
    q.train()
    q(x, graph)
    q.eval()
    with torch.no_grad():
        qe = q(x, graph)
    q.train()
    protected = q(x, graph).detach()  # every node's activations stay float (weights, pooled rows quantized)
    assert not torch.equal(protected, qe)


def test_short_qat_on_mutag_exports_what_it_evaluates(tmp_path):
    gs = fold_split(read_qgd(MUTAG), 0)
    torch.manual_seed(0)
    model = qnn.GraphModel(qnn.GINConv(qnn.gin_mlp([gs.feature_dim, 16, 16], batch_norm=True), relu=True),
                           qnn.GINConv(qnn.gin_mlp([16, 16, 16], batch_norm=True), relu=True),
                           qnn.GlobalPool("sum"), qnn.Linear(16, gs.num_classes))
    train_graph_classifier(model, gs, epochs=3, log_every=None)  # a brief float warm-up
    q = qat.prepare(model, bits=8, ranges="percentile", degree_quant=True, name="mutag_qat")
    train_graph_classifier(q, gs, epochs=2, lr=0.005)
    path = tmp_path / "mutag_qat_int8.qgnn"
    qat.export_quantized(q, path, task=GRAPH_CLASSIFICATION)
    qm = read_quantized_model(path)
    assert qm.producer == "qgnn.qat" and qm.layers[0].mlp[0].weight_bits == 8
    idx = gs.split("test").astype(np.int64)
    x, graph, labels = batch_graphs(gs, idx)
    pred = q.predict(x, graph).numpy()
    qat_acc = float((pred == labels.numpy()).mean())
    res = sim.evaluate(qm, gs, "test", 1)
    assert res.accuracy == pytest.approx(qat_acc, abs=0)
    # and graph by graph, the same predictions
    r = sim.run(qm, x.numpy(), graph.row_ptr.numpy(), graph.col_idx.numpy(), graph.graph_ptr.numpy())
    assert np.array_equal(r.argmax, pred)
    if QGNN_RUN is not None:
        gs_path = tmp_path / "mutag_fold0.qgd"
        from qgnn.qgd import write_qgd
        write_qgd(gs, gs_path)
        out = subprocess.run([str(QGNN_RUN), str(path), str(gs_path), "--json", "--split", "test"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        tool = json.loads(out.stdout)
        assert tool["outputs_sha256"] == res.outputs_sha256
        assert tool["correct"] == res.correct


def test_int4_export_runs_through_sim_and_qgnn_run(tmp_path):
    x, graph = random_batch(11)
    q = qat.prepare(make_model("sage_mean", 3, pool="mean"), bits=4, ranges="pauta")
    q.train()
    q(x, graph)
    q.eval()
    with torch.no_grad():
        out = q(x, graph)
    path = tmp_path / "m.qgnn"
    qat.export_quantized(q, path)
    res = sim.run(path, x.numpy(), graph.row_ptr.numpy(), graph.col_idx.numpy(), graph.graph_ptr.numpy())
    assert np.array_equal(out.numpy(), res.logits_float)
    qm = read_quantized_model(path)
    assert qm.layers[0].dense.weight_bits == 8 and qm.layers[1].dense.weight_bits == 4


def test_bare_width_keeps_the_first_layer_at_8():
    """qgnn-convert's SPEC rule (docs/converter.md "Bits"): a bare width leaves the input and the first layer's
    weights and every aggregation at 8 bits; naming "weights", "aggregation" or "input" (or the layer) sets them."""
    from qgnn.qat.model import _component_bits

    assert _component_bits(4, 2)[0] == 8
    assert [(b.weights, b.aggregation, b.output) for b in _component_bits(4, 2)[1]] == [(8, 8, 4), (4, 8, 4)]
    assert [b.aggregation for b in _component_bits({"default": 4, "aggregation": 4}, 2)[1]] == [4, 4]
    assert [b.weights for b in _component_bits({"default": 4, "weights": 4}, 2)[1]] == [4, 4]
    assert [b.weights for b in _component_bits({"default": 4, "layers": {0: 4}}, 2)[1]] == [4, 4]
    assert _component_bits({"default": 4, "input": 4}, 2)[0] == 4
    assert _component_bits({"default": 8}, 2) == (8, _component_bits(8, 2)[1])
