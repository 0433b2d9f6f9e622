"""`python3 -m qgnn.<module>` works from any working directory once python/ is on PYTHONPATH, given as an
absolute or a relative path (test_install.py covers the installed package): nothing in the package may
depend on the current directory (module paths, data files, tool or schema lookups)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, REPO

MODULES = {"qgnn.data": "{tu,planetoid,fashion-mnist,variant}", "qgnn.train": "--model {gcn,sage,gin,gat}",
           "qgnn.sim": "usage: python3 -m qgnn.sim"}


def _run(args, cwd, pythonpath):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(params=["absolute", "relative"])
def pythonpath(request, tmp_path):
    work = tmp_path / "elsewhere" / "deeper"
    work.mkdir(parents=True)
    path = str(PYTHON_DIR) if request.param == "absolute" else os.path.relpath(PYTHON_DIR, work)
    assert request.param == "absolute" or not os.path.isabs(path)
    return work, path


@pytest.mark.parametrize("module", sorted(MODULES))
def test_help_from_another_directory(module, pythonpath):
    work, path = pythonpath
    r = _run(["-m", module, "--help"], work, path)
    assert r.returncode == 0, r.stderr
    assert MODULES[module] in r.stdout


def test_sim_on_relative_files_from_another_directory(pythonpath):
    """A real run: relative model and data paths resolve against the working directory, nothing else."""
    work, path = pythonpath
    shutil.copy(REPO / "models" / "mutag_gin_int8.qgnn", work / "m.qgnn")
    shutil.copy(REPO / "models" / "mutag.qgd", work / "d.qgd")
    r = _run(["-m", "qgnn.sim", "m.qgnn", "d.qgd", "--split", "test", "--fold", "1", "--json"], work, path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fold"] == 1 and out["evaluated"] == out["selection"]["graphs"] > 0
