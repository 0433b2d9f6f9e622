"""qgnn-convert on the bundled float models and real data: float -> INT8 (Pauta, the default) -> the runtime
(qgnn-run) stays within 0.5 accuracy points of the float model on the model's held-out test split (issue 4).
Also: the automatic bit selection keeps its promise on the split it searched."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, find_tool, require_dir

CONVERT = find_tool("qgnn-convert")
RUN = find_tool("qgnn-run")
pytestmark = pytest.mark.skipif(CONVERT is None or RUN is None,
                                reason="qgnn-convert / qgnn-run are not built (cmake --build build/release)")
MODELS = REPO / "models"


def run_json(model: Path, data: Path, split: str) -> dict:
    out = subprocess.run([str(RUN), str(model), str(data), "--split", split, "--json"], check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout)


def convert(*args) -> str:
    out = subprocess.run([str(CONVERT), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def cora_qgd(tmp_path_factory, datasets) -> Path:
    src = require_dir(datasets / "planetoid")
    path = tmp_path_factory.mktemp("cora") / "cora.qgd"
    subprocess.run(["/usr/bin/python3", "-m", "qgnn.data", "planetoid", str(src), "cora", "-o", str(path)],
                   check=True, capture_output=True, timeout=300, env={"PYTHONPATH": str(REPO / "python")})
    return path


@pytest.mark.parametrize("name", ["mutag", "cora"])
def test_pauta_int8_within_half_a_point(name, tmp_path, cora_qgd):
    model, data = ((MODELS / "mutag_gin_f32.qgnn", MODELS / "mutag.qgd") if name == "mutag"
                   else (MODELS / "cora_gcn_f32.qgnn", cora_qgd))
    out = tmp_path / "int8.qgnn"
    stdout = convert(model, "--calib", data, "--split", "train", "--report", tmp_path / "r.json", "-o", out)
    assert "pauta, k = 5 (8-bit) / 3 (4-bit)" in stdout and "bits *=8" in stdout
    float_acc = run_json(model, data, "test")["accuracy"]
    int8 = run_json(out, data, "test")
    assert int8["evaluated"] > 0
    assert int8["accuracy"] >= float_acc - 0.005, (name, float_acc, int8["accuracy"])
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["range_method"] == "pauta"
    assert all(a["sqnr_db"] is None or a["sqnr_db"] > 10 for a in report["input"])


def test_auto_bits_respects_max_drop_on_its_validation_split(tmp_path, cora_qgd):
    front = tmp_path / "front.json"
    stdout = convert(MODELS / "cora_gcn_f32.qgnn", "--calib", cora_qgd, "--auto-bits", "--val", cora_qgd,
                     "--val-split", "val", "--max-drop", "0.5", "--pareto", front, "-o", tmp_path / "abs.qgnn")
    assert "<- chosen" in stdout
    result = json.loads(front.read_text())
    float_val = run_json(MODELS / "cora_gcn_f32.qgnn", cora_qgd, "val")["accuracy"]
    chosen_val = run_json(tmp_path / "abs.qgnn", cora_qgd, "val")
    assert chosen_val["accuracy"] >= float_val - 0.005
    # What the search measured is what qgnn-run measures on the written model.
    chosen = result["explored"][result["chosen"]]
    assert chosen["accuracy"] == pytest.approx(chosen_val["accuracy"])
    assert result["float_reference"]["accuracy"] == pytest.approx(float_val)
    assert chosen["total_bytes"] < result["float_reference"]["total_bytes"]
    assert chosen["pareto"] and chosen["within_drop"]
