"""qgnn, Python side: data import (.qgd), float GNN modules with the runtime's semantics, export (.qgnn).

Import torch-dependent parts lazily so that the file-format code works without PyTorch:
`qgnn.export` / `qgnn.load` import qgnn.nn on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"


def export(model, path, **kwargs):
    """Write a qgnn.nn.GraphModel as a float .qgnn model (fold_batchnorm=False keeps BatchNorm unfolded);
    see qgnn.export_model.export."""
    from .export_model import export as _export

    return _export(model, path, **kwargs)


def load(path):
    """Read a float .qgnn model into a qgnn.nn.GraphModel; see qgnn.export_model.load."""
    from .export_model import load as _load

    return _load(path)
