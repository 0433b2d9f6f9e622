"""python3 -m qgnn.train --qat: float training (or --init), QAT fine-tuning / PTQ, the quantized .qgnn written
with qgnn.qat.export_quantized, and the accuracies in the JSON summary = qgnn.sim on the written file (= qgnn-run
when built). MUTAG fold 0 and a tiny synthetic node set; few epochs."""

import json
import subprocess

import numpy as np
import pytest
from conftest import REPO, find_tool
from test_train_cli import node_set

import qgnn
from qgnn import sim
from qgnn.io import write_qgd
from qgnn.qgd import read_qgd
from qgnn.quantized_model import read_quantized_model
from qgnn.schema import qgnn_generated as fbm
from qgnn.train import Hyper, accuracy, fit, fold_split
from qgnn.train.cli import main
from qgnn.train.quant import QATConfig, distill_available, fine_tune_control, quantization_aware_training, \
    sim_accuracy

MUTAG = REPO / "models" / "mutag.qgd"
QGNN_RUN = find_tool("qgnn-run")


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    path = tmp_path_factory.mktemp("qat_data") / "nodes.qgd"
    write_qgd(node_set(), path)
    return path


def run(capsys, *argv):
    assert main([str(a) for a in argv] + ["--json"]) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return json.loads(lines[0]), err


def sim_acc(model_path, data, split):
    return sim.evaluate(read_quantized_model(model_path), data, split, 1).accuracy


def check_qgnn_run(model_path, data_path, split, expected):
    """qgnn-run on the written file gives the simulator's correct count and logits hash."""
    if QGNN_RUN is None:  # a missing build fails the check instead of passing it unchecked
        pytest.fail("qgnn-run is not built (cmake --preset release && cmake --build build/release, or set QGNN_BUILD)")
    out = subprocess.run([str(QGNN_RUN), str(model_path), str(data_path), "--json", "--split", split],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    tool = json.loads(out.stdout)
    assert tool["correct"] == expected.correct and tool["evaluated"] == expected.evaluated
    assert tool["outputs_sha256"] == expected.outputs_sha256


def check_float_out_ranges(float_path, qm):
    """--float-out stores the ranges the QAT observers ended with, one per activation: quantizing the float
    file with them (the converter's algorithm, qgnn.qat.quantize_desc) gives back the written int8 model."""
    from qgnn.io import read_model
    from qgnn.qat.quantizer import ComponentBits, LayerRanges, quantize_desc

    desc = read_model(float_path)
    assert desc.has_stored_ranges() and desc.ranges_source.startswith("qgnn.qat: INT8, percentile ranges")
    fb = fbm.Model.GetRootAs(float_path.read_bytes(), 0)  # the generated bindings see the same fields
    assert fb.Input().Range().Min() == np.float32(desc.input_range[0])
    assert fb.Layers(0).AggregationRange() is not None and fb.Layers(0).OutputRange() is not None
    ranges = [LayerRanges(l.aggregation_range or (np.inf, -np.inf), list(l.hidden_ranges), l.output_range)
              for l in desc.layers]
    again = quantize_desc(desc, desc.input_range, ranges, 8, [ComponentBits(8, 8, 8)] * len(desc.layers))
    assert again.input_quant == qm.input_quant
    for a, b in zip(again.layers, qm.layers):
        assert (a.output, a.aggregation, a.hidden) == (b.output, b.aggregation, b.hidden)
        for da, db in zip(a.denses(), b.denses()):
            np.testing.assert_array_equal(da.weight, db.weight)


def test_mutag_fold0_qat_int8_degree_quant(tmp_path, capsys):
    out, flt = tmp_path / "m_int8.qgnn", tmp_path / "m_f32.qgnn"
    s, _ = run(capsys, "--data", MUTAG, "--model", "gin", "--fold", "0", "--epochs", "4", "--qat",
               "--degree-quant", "--ranges", "percentile", "--qat-epochs", "2", "--float-out", flt, "-o", out)
    qm = read_quantized_model(out)
    assert qm.layers[0].mlp[0].weight_bits == 8 and qm.task == 0
    assert s["quantized"] and s["qat"]["ranges"] == "percentile" and s["qat"]["degree_quant"]
    assert s["qat"]["epochs"] == 2 and s["output_bytes"] == out.stat().st_size
    data = fold_split(read_qgd(MUTAG), 0)
    for split in ("train", "val", "test"):  # quantized accuracy = the simulator on the written file
        assert s["quantized_acc"][split] == round(sim_acc(out, data, split), 6)
        # --float-out holds the QAT-tuned float weights (their accuracy: float_output_acc)
        assert s["float_output_acc"][split] == round(accuracy(qgnn.load(flt), data, split), 6)
    assert s["test_acc"] == s["quantized_test_acc"] == s["quantized_acc"]["test"]
    assert s["float_test_acc"] == s["float_acc"]["test"]
    assert "Quantized with qgnn.qat: INT8, percentile ranges, Degree-Quant masking" in qm.description
    check_float_out_ranges(flt, qm)
    # models/mutag.qgd's stored split is fold 0: qgnn-run scores the file the same way
    check_qgnn_run(out, MUTAG, "test", sim.evaluate(read_quantized_model(out), data, "test", 1))


def test_node_set_int4_pauta_and_component_bits(tmp_path, capsys, nodes):
    data = read_qgd(nodes)
    out = tmp_path / "n_int4.qgnn"
    s, _ = run(capsys, "--data", nodes, "--model", "sage", "--epochs", "20", "--qat", "--bits", "4",
               "--ranges", "pauta", "--pauta-k", "2.5", "--qat-epochs", "3", "-o", out)
    qm = read_quantized_model(out)
    assert qm.input_quant.bits == 8 and qm.layers[0].dense.weight_bits == 8  # a bare width keeps them at 8
    assert qm.layers[1].dense.weight_bits == 4 and qm.layers[0].output.bits == 4
    assert qm.layers[0].aggregation.bits == 8 and qm.layers[1].aggregation.bits == 8  # aggregations stay 8
    assert s["qat"]["bits"] == 4 and s["qat"]["ranges"] == "pauta" and s["qat"]["pauta_k"] == 2.5
    for split in ("train", "val", "test"):
        assert s["quantized_acc"][split] == round(sim_acc(out, data, split), 6)
    check_qgnn_run(out, nodes, "test", sim.evaluate(read_quantized_model(out), data, "test", 1))

    mixed = tmp_path / "n_mixed.qgnn"
    s, _ = run(capsys, "--data", nodes, "--model", "gcn", "--epochs", "20", "--qat", "--weight-bits", "4",
               "--qat-epochs", "2", "-o", mixed)
    qm = read_quantized_model(mixed)
    assert qm.layers[0].dense.weight_bits == 4 and qm.layers[0].aggregation.bits == 8
    assert qm.layers[0].output.bits == 8
    assert s["quantized_acc"]["test"] == round(sim_acc(mixed, data, "test"), 6)


def test_init_and_ptq_from_a_float_file(tmp_path, capsys, nodes):
    data = read_qgd(nodes)
    flt, out = tmp_path / "f.qgnn", tmp_path / "ptq.qgnn"
    f, _ = run(capsys, "--data", nodes, "--model", "gcn", "--epochs", "30", "-o", flt)
    s, _ = run(capsys, "--data", nodes, "--model", "gcn", "--qat", "--init", flt, "--qat-epochs", "0", "-o", out)
    assert s["init"] == str(flt) and s["qat"]["epochs"] == 0
    assert s["float_acc"]["test"] == f["test_acc"]  # the float model read back scores what it scored
    assert s["quantized_acc"]["test"] == round(sim_acc(out, data, "test"), 6)
    assert "post-training quantization" in read_quantized_model(out).description
    # the library gives the same PTQ model
    model = qgnn.load(flt)
    q, acc = quantization_aware_training(model, data, QATConfig(bits=8, epochs=0))
    assert round(acc["test"], 6) == s["quantized_acc"]["test"]
    assert sim_accuracy(q.quantized_model(task=data.task), data)["test"] == pytest.approx(acc["test"], abs=0)


def test_qat_cli_is_deterministic(tmp_path, capsys, nodes):
    path, written = tmp_path / "a.qgnn", []
    for _ in range(2):  # the same command (the description records it) -> the same bytes
        run(capsys, "--data", nodes, "--model", "gcn", "--epochs", "10", "--qat", "--degree-quant", "--bits", "4",
            "--qat-epochs", "3", "-o", path)
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_folds_all_with_qat(tmp_path, capsys):
    from test_train_cli import graph_set

    path = tmp_path / "paths.qgd"
    write_qgd(graph_set(), path)
    s, _ = run(capsys, "--data", path, "--model", "gin", "--hidden", "8", "--layers", "1", "--epochs", "3",
               "--folds", "all", "--qat", "--qat-epochs", "1", "-o", tmp_path / "p.qgnn")
    assert len(s["folds"]) == 3 and all("float" in r for r in s["folds"])
    tests = np.array([r["test"] for r in s["folds"]])
    assert s["test_acc_mean"] == round(float(tests.mean()), 6)
    assert s["folds"][0]["test"] == s["quantized_acc"]["test"]


@pytest.mark.skipif(not any(distill_available().values()), reason="qgnn.qat has no SQD/AQD in this tree")
@pytest.mark.parametrize("method", ["sqd", "aqd"])
def test_distillation(tmp_path, capsys, nodes, method):
    data = read_qgd(nodes)
    out = tmp_path / f"{method}.qgnn"
    s, _ = run(capsys, "--data", nodes, "--model", "gcn", "--epochs", "10", "--qat", "--distill", method,
               "--distill-weight", "0.5", "--qat-epochs", "2", "-o", out)
    assert s["qat"]["distill"] == method
    assert s["quantized_acc"]["test"] == round(sim_acc(out, data, "test"), 6)


@pytest.mark.parametrize("argv", [
    ["--bits", "4"],                                        # needs --qat
    ["--degree-quant"],
    ["--float-out", "X.qgnn"],
    ["--qat", "--pauta-k", "2"],                            # needs --ranges pauta
    ["--qat", "--bits", "3"],
    ["--qat", "--qat-epochs", "-1"],
    ["--qat", "--qat-lr", "0"],
    ["--qat", "--distill-weight", "2"],                     # needs --distill
    ["--qat", "--init", "/nonexistent.qgnn"],
    ["--qat", "--init", str(REPO / "models" / "mutag_gin_f32.qgnn"), "--hidden", "8"],
])
def test_bad_qat_arguments(tmp_path, capsys, argv):
    out = tmp_path / "x.qgnn"
    with pytest.raises(SystemExit) as e:
        main(["--data", str(MUTAG), "--model", "gin", "-o", str(out)] + argv)
    assert e.value.code == 2
    assert not out.exists()
    capsys.readouterr()


def test_library_qat_matches_simulator():
    data = fold_split(read_qgd(MUTAG), 0)
    hp = Hyper.defaults(data.task)
    hp.epochs = 3
    model, _ = fit("gin", data, hp, seed=0)
    q, acc = quantization_aware_training(model, data, QATConfig(bits=4, ranges="pauta", epochs=1))
    assert sim_accuracy(q.quantized_model(task=data.task), data) == {k: pytest.approx(v, abs=0)
                                                                     for k, v in acc.items()}
    # the float model is not modified by QAT (a copy is trained)
    again, _ = fit("gin", data, hp, seed=0)
    for a, b in zip(model.state_dict().values(), again.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())


def test_fine_tune_control_trains_a_float_copy_with_the_qat_schedule():
    data = fold_split(read_qgd(MUTAG), 0)
    hp = Hyper.defaults(data.task)
    hp.epochs = 3
    model, _ = fit("gin", data, hp, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    q, acc = fine_tune_control(model, data, weight_decay=hp.weight_decay, batch_size=hp.batch_size, seed=0)
    assert not q.quant_enabled  # scored in float: the control has no quantization at all
    assert acc == {s: pytest.approx(accuracy(q, data, s), abs=0) for s in acc}
    # the float model is untouched; the copy was trained (its weights moved)
    for k, v in model.state_dict().items():
        assert np.array_equal(v.numpy(), before[k].numpy())
    moved = [not np.array_equal(a.numpy(), b.numpy())
             for a, b in zip(model.state_dict().values(), q.model.state_dict().values())
             if a.dtype.is_floating_point]
    assert any(moved)
    # deterministic for a seed
    _, again = fine_tune_control(model, data, weight_decay=hp.weight_decay, batch_size=hp.batch_size, seed=0)
    assert again == acc
