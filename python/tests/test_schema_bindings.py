"""The committed FlatBuffers bindings (python/qgnn/schema/*_generated.py) equal flatc's output."""

import shutil
import subprocess

import pytest
from conftest import PYTHON_DIR, REPO

SCHEMAS = ["schema/common.fbs", "schema/qgnn.fbs", "schema/qgd.fbs"]
COMMITTED = PYTHON_DIR / "qgnn" / "schema"


def test_bindings_match_flatc(tmp_path):
    flatc = shutil.which("flatc")
    if flatc is None:
        pytest.skip("flatc is not installed (apt-get install flatbuffers-compiler)")
    subprocess.run([flatc, "--python", "--gen-onefile", "-o", str(tmp_path)] + SCHEMAS, cwd=REPO, check=True)
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*_generated.py")}
    committed = {p.name: p.read_bytes() for p in COMMITTED.glob("*_generated.py")}
    expected = ["common_generated.py", "qgd_generated.py", "qgnn_generated.py"]
    assert sorted(fresh) == sorted(committed) == expected
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, (f"{stale} differ from flatc's output; regenerate with: flatc --python --gen-onefile "
                       f"-o python/qgnn/schema {' '.join(SCHEMAS)}")


def test_bindings_import():
    from qgnn.schema import common_generated, qgd_generated, qgnn_generated

    assert qgnn_generated.LayerOptions.GINConvOptions == 4
    assert qgd_generated.GraphSet is not None
    assert common_generated.Task.NODE_CLASSIFICATION == 1


def test_layer_kinds_are_the_schema_union_names():
    """One spelling of layer kinds: the LayerOptions union members without "Options" (the runtime's kLinear,
    kGcnConv, ...), every one of them, in union order."""
    from qgnn.model_file import KIND_OPTIONS, KINDS
    from qgnn.schema import qgnn_generated as fbm

    union = {name: value for name, value in vars(fbm.LayerOptions).items()
             if not name.startswith("_") and name != "NONE"}
    assert KINDS == ("Linear", "GCNConv", "SAGEConv", "GINConv", "GlobalPool", "GATConv")
    assert {kind + "Options": value for kind, value in KIND_OPTIONS.items()} == union
    assert sorted(KINDS, key=KIND_OPTIONS.get) == list(KINDS)
