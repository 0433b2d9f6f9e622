"""Quantized .qgnn models (written by qgnn-convert or qgnn.qat) as numpy structures: the quantized side of
qgnn.model_file, which holds the one model description (ModelDesc / LayerDesc / DenseDesc with QuantParams and
Requant), the one reader and the one writer of float and quantized files.

    from qgnn.quantized_model import read_quantized_model
    qm = read_quantized_model("models/mutag_gin_int8.qgnn")
    qm.layers[0].kind, qm.layers[0].mlp[0].weight  # "GINConv", int8 [out, in]

QDense, QLayer and QuantizedModel build those descriptions with the argument order of the former quantized-only
classes (tests and scripts construct hand-made models with them).
"""

from __future__ import annotations

from typing import List, Optional, Tuple, Union

import numpy as np

from .model_file import (DenseDesc, LayerDesc, ModelDesc, QuantParams, Requant, from_bytes, pack_int4,
                         read_quantized_model, to_bytes, unpack_int4)

__all__ = [
    "QuantParams",
    "Requant",
    "QDense",
    "QLayer",
    "QuantizedModel",
    "unpack_int4",
    "pack_int4",
    "read_quantized_model",
    "quantized_model_from_bytes",
    "quantized_model_to_bytes",
]


def QDense(weight: np.ndarray, weight_bits: int, weight_scales: np.ndarray, bias: Optional[np.ndarray],
           requant: Requant, relu: bool, name: str = "") -> DenseDesc:
    """A quantized Dense: int8 weight values [out, in] (4-bit: in [-8, 7]), per-channel scales, int32 bias."""
    return DenseDesc(weight, bias, relu, weight_bits=weight_bits, weight_scales=weight_scales, requant=requant,
                     name=name)


def QLayer(kind: str, name: str, relu: bool, output: QuantParams, **fields) -> LayerDesc:
    """A quantized layer; `fields` are LayerDesc's (aggregation, aggregation_requant, dense, root, mlp, hidden,
    self_weight_q16, eps, reduce, requant; a GCNConv's order and, transform-first, message instead of
    aggregation; a SAGEConv's order and, transform-first, message and output_requant besides aggregation)."""
    return LayerDesc(kind, name, relu, output=output, **fields)


def QuantizedModel(version: int, name: str, description: str, producer: str, task: int, class_names: List[str],
                   input_dim: int, input_int8: bool, input_quant: QuantParams, layers: List[LayerDesc],
                   limits: Tuple[int, int, int, int], input_column_scales=None) -> ModelDesc:
    return ModelDesc(input_dim=input_dim, layers=layers, name=name, description=description, producer=producer,
                     task=task, class_names=list(class_names), limits=tuple(limits), version=version,
                     input_quant=input_quant, input_int8=input_int8, input_column_scales=input_column_scales)


def quantized_model_from_bytes(buf: Union[bytes, bytearray, memoryview], what: str = ".qgnn") -> ModelDesc:
    """Parse and check a quantized .qgnn model."""
    return from_bytes(buf, what, quantized=True)


def quantized_model_to_bytes(qm: ModelDesc) -> bytes:
    """Serialize a quantized model (quantized = true), checked by reading it back."""
    if not qm.quantized:
        raise ValueError("a float model (no input quantization); use qgnn.model_file.to_bytes")
    return to_bytes(qm)
