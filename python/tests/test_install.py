"""python/pyproject.toml: the package installs offline into a venv over Debian's packages (no PyPI) and its
three command lines run from there, without PYTHONPATH. Fails (never skips) when it cannot install."""

import os
import shutil
import subprocess
from pathlib import Path

from conftest import PYTHON_DIR

# Debian's interpreter: the one whose site-packages hold torch, numpy, flatbuffers, setuptools and pip.
SYSTEM_PYTHON = "/usr/bin/python3"


def run(cmd, cwd, env):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_pip_install_into_a_venv(tmp_path):
    # Install from a copy: an in-place setuptools build would leave build/ and *.egg-info in the tree.
    src = tmp_path / "src"
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    assert (src / "pyproject.toml").is_file()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL", "PIP_FIND_LINKS")}
    env["PIP_NO_INPUT"] = "1"
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python3")
    run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)], tmp_path, env)
    run([python, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-cache-dir", str(src)],
        tmp_path, env)
    where = run([python, "-c", "import qgnn, qgnn.schema.qgnn_generated, qgnn.sim.layers; print(qgnn.__file__)"],
                tmp_path, env)
    assert Path(where.strip()).is_relative_to(venv), where  # the installed copy, not the source tree
    for module, usage in (("qgnn.train", "--model {gcn,sage,gin,gat}"), ("qgnn.sim", "usage: python3 -m qgnn.sim"),
                          ("qgnn.data", "{tu,planetoid,fashion-mnist,variant}")):
        assert usage in run([python, "-m", module, "--help"], tmp_path, env), module
