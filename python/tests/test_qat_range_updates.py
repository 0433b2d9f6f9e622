"""QAT's activation ranges during fine-tuning (QATConfig.range_updates, `--range-updates`): "frozen" (the
default) keeps the PTQ calibration's ranges bit for bit while the weights train; "ema" moves them with every
training batch. Either way the eval forward stays the exported model's integer result. MUTAG fold 0, GIN."""

import numpy as np
import pytest
from conftest import REPO
from test_train_qat import run

from qgnn import sim
from qgnn.qgd import read_qgd
from qgnn.quantized_model import read_quantized_model
from qgnn.train import Hyper, batch_graphs, fit, fold_split, train_graph_classifier
from qgnn.train.quant import QATConfig, calibrate, post_training_quantization, prepare_model, \
    quantization_aware_training

MUTAG = REPO / "models" / "mutag.qgd"


@pytest.fixture(scope="module")
def trained():
    data = fold_split(read_qgd(MUTAG), 0)
    hp = Hyper.defaults(data.task)
    hp.epochs = 3
    model, _ = fit("gin", data, hp, seed=0)
    return model, data


def ranges(q):
    return [(o.lo, o.hi) for o in q.observers() if not hasattr(o.lo, "shape")]


def weights(q):
    return [v.detach().clone().numpy() for k, v in q.model.state_dict().items() if v.dtype.is_floating_point]


@pytest.mark.parametrize("mode", ["frozen", "ema"])
def test_training_keeps_or_moves_the_calibrated_ranges(trained, mode):
    model, data = trained
    q = prepare_model(model, QATConfig(bits=4))
    calibrate(q, data, "train")
    q.ranges_frozen = mode == "frozen"
    start_ranges, start_weights = ranges(q), weights(q)
    train_graph_classifier(q, data, epochs=1, lr=0.002, seed=0)
    moved = [not np.array_equal(a, b) for a, b in zip(start_weights, weights(q))]
    assert any(moved)  # the weights trained in both modes
    if mode == "frozen":
        assert ranges(q) == start_ranges  # bit for bit: no training batch recorded anything
    else:
        assert sum(a != b for a, b in zip(ranges(q), start_ranges)) >= len(start_ranges) // 2
    # the eval forward is still exactly the exported model's integer result
    q.eval()
    qm = q.quantized_model(task=data.task)
    x, graph, _ = batch_graphs(data, data.test.astype(np.int64))
    logits = q(x, graph).detach().numpy()
    assert np.array_equal(logits, sim.run(qm, x.numpy(), graph.row_ptr.numpy(), graph.col_idx.numpy(),
                                          graph.graph_ptr.numpy()).logits_float)
    # an explicit calibration pass still records (frozen applies to training batches only)
    if mode == "frozen":
        # the layers' activations, emptied so that whatever the val pass records shows
        recorded = [o for name, o in q.named_observers() if name != "input" and not o.empty]
        for o in recorded:
            o.lo, o.hi = float("inf"), float("-inf")
        calibrate(q, data, "val")
        assert recorded and all(not o.empty for o in recorded)


def test_qat_default_is_frozen_at_the_ptq_ranges(trained):
    model, data = trained
    ptq = post_training_quantization(model, data, QATConfig(bits=4))
    q, _ = quantization_aware_training(model, data, QATConfig(bits=4, epochs=2))
    assert q.ranges_frozen and ranges(q) == ranges(ptq)
    e, _ = quantization_aware_training(model, data, QATConfig(bits=4, epochs=2, range_updates="ema"))
    assert not e.ranges_frozen
    with pytest.raises(ValueError, match="range update"):
        quantization_aware_training(model, data, QATConfig(bits=4, epochs=1, range_updates="learned"))


def test_cli_range_updates(tmp_path, capsys):
    init = REPO / "models" / "mutag_gin_f32.qgnn"
    for mode in (None, "ema"):
        out = tmp_path / f"{mode}.qgnn"
        extra = [] if mode is None else ["--range-updates", mode]
        s, _ = run(capsys, "--data", MUTAG, "--model", "gin", "--fold", "0", "--init", init, "--qat", "--bits", "4",
                   "--qat-epochs", "1", "-o", out, *extra)
        assert s["qat"]["range_updates"] == (mode or "frozen")
        assert ("ranges frozen after calibration" in s["qat"]["description"]) == (mode is None)
        qm = read_quantized_model(out)
        data = fold_split(read_qgd(MUTAG), 0)
        assert sim.evaluate(qm, data, "test", 1).accuracy == pytest.approx(s["quantized_acc"]["test"], abs=1e-6)  # JSON: 6 digits
