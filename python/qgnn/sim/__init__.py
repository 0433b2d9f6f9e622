"""qgnn.sim: an integer simulator of quantized qgnn models that matches the C++ runtime bit for bit.

    from qgnn import sim
    res = sim.run("models/mutag_gin_int8.qgnn", x, row_ptr, col_idx, graph_ptr)
    res.logits_q, res.logits_float, res.argmax

    python3 -m qgnn.sim MODEL.qgnn DATA.qgd [--split all] [--batch 1] [--json]

The arithmetic is that of kernels/include/qgnn/kernels/numerics.h and kernels/reference/*.cc
(docs/quantization.md); the layer sequence that of the runtime (docs/runtime.md); see docs/simulator.md.
Float models are not simulated (qgnn.nn runs those).
"""

from .engine import SimResult, load_model, run
from .evaluate import EvalResult, evaluate, extract_graphs
from .numerics import (
    dequantize,
    gcn_norm_q15,
    mean_rescale,
    qmax,
    qmin,
    quantize_float,
    rescale,
    rounding_shift_right,
)

__all__ = [
    "run",
    "SimResult",
    "load_model",
    "evaluate",
    "EvalResult",
    "extract_graphs",
    "quantize_float",
    "dequantize",
    "rescale",
    "rounding_shift_right",
    "mean_rescale",
    "gcn_norm_q15",
    "qmin",
    "qmax",
]
