"""File formats in one place: graph data sets (.qgd) and float models (.qgnn). Writes are atomic."""

from ._atomic import write_bytes_atomic
from ._fb import FormatError
from .model_file import (
    DenseDesc,
    LayerDesc,
    ModelDesc,
    read_model,
    read_model_info,
    write_model,
)
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, read_qgd, write_qgd

__all__ = [
    "FormatError",
    "GraphSet",
    "GRAPH_CLASSIFICATION",
    "NODE_CLASSIFICATION",
    "read_qgd",
    "write_qgd",
    "DenseDesc",
    "LayerDesc",
    "ModelDesc",
    "read_model",
    "read_model_info",
    "write_model",
    "write_bytes_atomic",
]
