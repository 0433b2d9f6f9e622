"""File formats in one place: graph data sets (.qgd) and models (.qgnn, float or quantized: one description,
qgnn.model_file's ModelDesc). Writes are atomic."""

from ._atomic import write_bytes_atomic
from ._fb import FormatError
from .model_file import (
    DenseDesc,
    LayerDesc,
    ModelDesc,
    QuantParams,
    Requant,
    read_model,
    read_model_info,
    read_quantized_model,
    write_model,
)
from .qgd import GRAPH_CLASSIFICATION, NODE_CLASSIFICATION, GraphSet, SparseFeatures, read_qgd, write_qgd

__all__ = [
    "FormatError",
    "GraphSet",
    "SparseFeatures",
    "GRAPH_CLASSIFICATION",
    "NODE_CLASSIFICATION",
    "read_qgd",
    "write_qgd",
    "DenseDesc",
    "LayerDesc",
    "ModelDesc",
    "QuantParams",
    "Requant",
    "read_model",
    "read_model_info",
    "read_quantized_model",
    "write_model",
    "write_bytes_atomic",
]
