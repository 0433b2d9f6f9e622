"""Shared fixtures: put python/ on sys.path, one thread everywhere, locate data sets and built tools."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parent
DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import pytest  # noqa: E402


def pytest_configure(config) -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


@pytest.fixture(scope="session")
def datasets() -> Path:
    return DATASETS


def require_dir(path: Path) -> Path:
    if not path.is_dir():
        pytest.skip(f"data set directory {path} is absent (see ../shared/datasets/SOURCES.md)")
    return path


def find_tool(name: str):
    """An executable NAME under $QGNN_BUILD, else build/release, else any build*/ tree (the newest); None when
    not built. Tools land in different subdirectories (bin/, converter/, tools/) depending on the CMake setup.

    With $QGNN_BUILD set (scripts/test.sh, CI) the build is part of the run: a tool missing from it raises, so
    the tests that need it fail instead of skipping."""
    build = os.environ.get("QGNN_BUILD")
    roots = [Path(build)] if build else [REPO / "build" / "release"] + sorted(REPO.glob("build*"))
    for root in roots:
        found = [p for p in root.glob(f"**/{name}")
                 if p.is_file() and os.access(p, os.X_OK) and "CMakeFiles" not in p.parts]
        if found:
            return max(found, key=lambda p: p.stat().st_mtime)
    if build:
        raise FileNotFoundError(f"{name} is not built under QGNN_BUILD={build}")
    return None


def load_script(name: str):
    """scripts/<name>.py as a module (the accuracy scripts are not run in CI; their tests import them)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
