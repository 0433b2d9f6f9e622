"""qgnn.qat.distill: QGNN-IC's self-distillation (SQD, AQD). Losses finite / >= 0 / zero for identical paths,
gradients reach the weights, attention weights, SQD randomness only in training, a few steps reduce the loss,
and the exported model after distillation still equals qgnn.sim bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qgnn import nn as qnn
from qgnn import qat
from test_qat import make_model, random_batch, sim_logits


def trained_once(kind="gin", bits=4, seed=0, **kw):
    x, graph = random_batch(seed)
    q = qat.prepare(make_model(kind, seed), bits=bits, ranges="minmax", **kw)
    q.train()
    q(x, graph)  # initialise the ranges
    return q, x, graph


@pytest.mark.parametrize("method", ["sqd", "aqd", "sqd+aqd"])
@pytest.mark.parametrize("kind", ["gin", "gcn", "sage_max"])
def test_losses_finite_nonnegative_and_reach_the_weights(kind, method):
    q, x, graph = trained_once(kind, bits=4)
    cfg = qat.DistillConfig(method=method, aqd_logit_weight=0.5)
    logits, loss, terms = qat.distill_forward(q, x, graph, cfg)
    assert torch.isfinite(loss) and float(loss) > 0.0
    assert all(np.isfinite(v) and v >= 0.0 for v in terms.values())
    loss.backward()
    grads = [p.grad for p in q.parameters() if p.requires_grad]
    assert any(g is not None and torch.any(g != 0) for g in grads)
    assert q.model.layers[0].mlp[0].weight.grad is not None if kind == "gin" else True


def test_zero_when_paths_are_identical():
    q, x, graph = trained_once("gin", bits=4)
    # SQD with nothing stochastic: the teacher is the student, exactly
    _, loss, _ = qat.distill_forward(q, x, graph, method="sqd", sqd_p_fp=0.0, sqd_stochastic_rounding=False)
    assert float(loss) == 0.0
    # quantization disabled: quantized and full-precision paths coincide (AQD features and logits, SQD)
    q.quant_enabled = False
    _, loss, terms = qat.distill_forward(q, x, graph, method="sqd+aqd", aqd_logit_weight=1.0)
    assert float(loss) == 0.0 and all(v == 0.0 for v in terms.values())
    # identical features
    f = torch.randn(10, 4)
    assert float(qat.aqd_layer_loss(f, f.clone())) == 0.0
    assert float(qat.aqd_layer_loss(f, f.clone(), graph=qnn.Graph([0] * 11, [], [0, 4, 10]), attention="node")) == 0.0
    assert float(qat.kd_kl(f, f.clone())) == 0.0


def test_less_quantization_noise_gives_less_distillation_loss():
    x, graph = random_batch(5)
    losses = {}
    for bits in (8, 4):
        q = qat.prepare(make_model("gcn", 5), bits=bits, ranges="minmax")
        q.train()
        q(x, graph)
        q.eval()  # deterministic, same ranges for both passes
        q.record_features = True
        with torch.no_grad():
            logits = q(x, graph)
            losses[bits] = float(qat.distillation_loss(q, x, graph, logits, method="aqd", aqd_logit_weight=1.0))
    assert 0.0 < losses[8] < 0.1 * losses[4]


def test_channel_attention_sums_to_one_and_favours_high_magnitude():
    f = torch.tensor([[0.1, -2.0, 0.0, 1.0], [-0.1, 3.0, 0.0, -1.0]])
    a = qat.channel_attention(f, tau=0.5)
    assert float(a.sum()) == pytest.approx(1.0, abs=1e-6)
    assert int(a.argmax()) == 1 and a[1] > a[3] > a[0] > a[2]
    assert float(qat.channel_attention(f, tau=0.1)[1]) > float(a[1])  # sharper with a lower temperature
    # an error on a high-attention channel costs more than the same error on a low-attention channel
    e_hi, e_lo = f.clone(), f.clone()
    e_hi[:, 1] += 0.3
    e_lo[:, 0] += 0.3
    assert float(qat.aqd_layer_loss(e_hi, f)) > float(qat.aqd_layer_loss(e_lo, f))
    # node attention (attention transfer): unit norm within each graph
    g = qnn.Graph([0, 0, 0, 0, 0, 0], [], [0, 2, 5])
    m = qat.node_attention_map(torch.randn(5, 3), g)
    assert float(m[:2].norm()) == pytest.approx(1.0) and float(m[2:].norm()) == pytest.approx(1.0)


def test_sqd_stochastic_path_is_random_in_training_and_absent_in_eval():
    q, x, graph = trained_once("gin", bits=4)
    with torch.no_grad():
        det = q(x, graph)
        s1 = qat.stochastic_forward(q, x, graph, p_fp=0.5)
        s2 = qat.stochastic_forward(q, x, graph, p_fp=0.5)
        sr = qat.stochastic_forward(q, x, graph, p_fp=0.0, stochastic_rounding=True)
    assert not torch.equal(s1, s2) and not torch.equal(s1, det) and not torch.equal(sr, det)
    q.eval()
    with torch.no_grad():
        e = q(x, graph)
        assert torch.equal(qat.stochastic_forward(q, x, graph, p_fp=0.5), e)
        assert torch.equal(q(x, graph), e)
        assert float(qat.distillation_loss(q, x, graph, e, method="sqd")) == 0.0
    assert np.array_equal(e.numpy(), sim_logits(q.quantized_model(), x, graph).logits_float)


def test_stochastic_rounding_is_unbiased():
    from qgnn.qat.model import _stochastic_round
    g = torch.Generator().manual_seed(0)
    v = torch.full((20000, 1), 0.3)
    q = _stochastic_round(v, np.float32(1.0), 0, 8, g)
    assert set(np.unique(q)) == {0, 1} and abs(q.mean() - 0.3) < 0.02


def test_teacher_passes_do_not_move_the_ranges():
    q, x, graph = trained_once("gcn", bits=4)
    q.record_features = True
    logits = q(x, graph)
    before = [o.range() for o in q.observers()]
    qat.distillation_loss(q, x, graph, logits, method="sqd+aqd")
    assert [o.range() for o in q.observers()] == before


def test_aqd_needs_recorded_features():
    q, x, graph = trained_once("gcn", bits=8)
    logits = q(x, graph)
    with pytest.raises(ValueError, match="record_features"):
        qat.distillation_loss(q, x, graph, logits, method="aqd")


def _measure(q, x, graph, cfg):
    q.eval()
    q.record_features = True
    with torch.no_grad():
        out = float(qat.distillation_loss(q, x, graph, q(x, graph), config=cfg))
    q.record_features = False
    q.train()
    return out


def test_aqd_steps_reduce_the_distillation_loss_and_export_stays_exact(tmp_path):
    """AQD alone (task loss 0) on clipping (Pauta, k = 1.5) INT4 ranges: the gradient through both paths pulls
    clipped activations into range, so the loss falls; eval / export stay bit-exact."""
    x, graph = random_batch(9)
    labels = torch.arange(graph.num_graphs) % 3
    q = qat.prepare(make_model("gcn", 9), bits=4, ranges="pauta", pauta_k=1.5, momentum=None)
    q.train()
    q(x, graph)
    cfg = qat.DistillConfig(method="aqd")
    start = _measure(q, x, graph, cfg)
    opt = torch.optim.Adam(q.parameters(), lr=0.003)
    stats = [qat.train_step(q, opt, x, graph, labels, cfg, task_loss=lambda z, y: z.sum() * 0.0)
             for _ in range(20)]
    assert all(np.isfinite(s["loss"]) and s["aqd"] >= 0 for s in stats)
    assert _measure(q, x, graph, cfg) < 0.7 * start
    q.eval()
    with torch.no_grad():
        out = q(x, graph)
    qm = qat.export_quantized(q, tmp_path / "m.qgnn")
    assert np.array_equal(out.numpy(), sim_logits(qm, x, graph).logits_float)


def test_sqd_with_degree_quant_trains_and_export_stays_exact(tmp_path):
    """SQD + task loss composed with Degree-Quant and percentile ranges: finite, the weights move, the task loss
    falls, and the exported model still equals the QAT eval forward bit for bit."""
    x, graph = random_batch(10)
    labels = torch.arange(graph.num_graphs) % 3
    q = qat.prepare(make_model("gin", 10), bits=4, degree_quant=True)
    w0 = q.model.layers[0].mlp[0].weight.detach().clone()
    opt = torch.optim.Adam(q.parameters(), lr=0.01)
    cfg = qat.DistillConfig(method="sqd+aqd", weight=0.5)
    stats = [qat.train_step(q, opt, x, graph, labels, cfg) for _ in range(15)]
    assert all(np.isfinite(s["loss"]) and s["sqd"] >= 0 for s in stats)
    assert stats[-1]["task"] < stats[0]["task"]
    assert not torch.equal(w0, q.model.layers[0].mlp[0].weight)
    q.eval()
    with torch.no_grad():
        out = q(x, graph)
    qm = qat.export_quantized(q, tmp_path / "m.qgnn")
    assert np.array_equal(out.numpy(), sim_logits(qm, x, graph).logits_float)
