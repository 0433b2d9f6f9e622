"""GAT end to end through the command lines a user types (README's GAT quickstart) on a small synthetic node
set: `python3 -m qgnn.train --model gat` -> `qgnn-convert` (PTQ) and `qgnn.train --qat` -> `qgnn-run`, whose
logits `python3 -m qgnn.sim` reproduces bit for bit. Every step is a subprocess, as in the docs.

Skipped, with the reason, when qgnn-run / qgnn-convert are not built; with $QGNN_BUILD set (scripts/test.sh)
a missing tool fails instead (conftest.find_tool)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PYTHON_DIR, find_tool
from test_train_cli import node_set

from qgnn.io import write_qgd
from qgnn.quantized_model import read_quantized_model

QGNN_RUN = find_tool("qgnn-run")
QGNN_CONVERT = find_tool("qgnn-convert")
pytestmark = pytest.mark.skipif(QGNN_RUN is None or QGNN_CONVERT is None,
                                reason="qgnn-run / qgnn-convert are not built (cmake --preset release && "
                                       "cmake --build --preset release)")
# Small enough for a few seconds a command, wide enough for both GAT forms: concatenated heads, then the mean.
SMALL_GAT = ["--model", "gat", "--hidden", "4", "--heads", "2", "--output-heads", "2", "--epochs", "20"]


def cli(*argv) -> str:
    """Run one command; its stdout. A failure shows the command's stderr."""
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR), OMP_NUM_THREADS="1")
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, f"{' '.join(map(str, argv))} exited {r.returncode}: {r.stderr}"
    return r.stdout


def run_and_sim(model, data) -> dict:
    """qgnn-run over all nodes, and the simulator's logits hash against it."""
    tool = json.loads(cli(QGNN_RUN, model, data, "--split", "all", "--json"))
    mine = json.loads(cli(sys.executable, "-m", "qgnn.sim", model, data, "--split", "all", "--json"))
    assert mine["outputs_sha256"] == tool["outputs_sha256"]
    assert (mine["correct"], mine["evaluated"]) == (tool["correct"], tool["evaluated"]) and tool["evaluated"] == 60
    return tool


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("gat_cli")
    write_qgd(node_set(), d / "nodes.qgd")
    summary = json.loads(cli(sys.executable, "-m", "qgnn.train", "--data", d / "nodes.qgd", *SMALL_GAT,
                             "--json", "-o", d / "f32.qgnn"))
    assert summary["model"] == "gat" and summary["hyper"]["heads"] == 2
    return d, summary


def test_float_model_runs_and_scores_like_the_trainer(trained):
    d, summary = trained
    tool = json.loads(cli(QGNN_RUN, d / "f32.qgnn", d / "nodes.qgd", "--split", "test", "--json"))
    assert tool["evaluated"] == 15 and tool["input"] == "dense"
    # The float runtime scores the test nodes as PyTorch did (15 nodes: no near-tie to flip on this seed).
    assert tool["accuracy"] == pytest.approx(summary["test_acc"], abs=1e-6)


@pytest.mark.parametrize("bits", ["8", "4"])
def test_qgnn_convert_then_qgnn_run(trained, bits):
    d, _ = trained
    out = d / f"ptq{bits}.qgnn"
    cli(QGNN_CONVERT, d / "f32.qgnn", "--calib", d / "nodes.qgd", "--bits", bits, "-o", out)
    qm = read_quantized_model(out)
    assert [(l.kind, l.heads, l.concat) for l in qm.layers] == [("GATConv", 2, True), ("GATConv", 2, False)]
    assert qm.layers[1].dense.weight_bits == int(bits) and all(l.exp_table is not None for l in qm.layers)
    run_and_sim(out, d / "nodes.qgd")


def test_qat_then_qgnn_run(trained):
    d, _ = trained
    out = d / "qat4.qgnn"
    summary = json.loads(cli(sys.executable, "-m", "qgnn.train", "--data", d / "nodes.qgd", "--model", "gat",
                             "--init", d / "f32.qgnn", "--qat", "--bits", "4", "--qat-epochs", "3", "--json",
                             "-o", out))
    tool = run_and_sim(out, d / "nodes.qgd")
    # The trainer's quantized accuracies are the written file's, as the runtime scores it: its 30 / 15 / 15
    # train / val / test nodes are all 60.
    acc = summary["quantized_acc"]
    assert tool["correct"] == round(30 * acc["train"] + 15 * acc["val"] + 15 * acc["test"])
    test = json.loads(cli(QGNN_RUN, out, d / "nodes.qgd", "--split", "test", "--json"))
    assert test["accuracy"] == pytest.approx(summary["quantized_test_acc"], abs=1e-6)
