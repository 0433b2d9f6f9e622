"""qgnn.qat: quantization-aware training through the runtime's exact integer arithmetic (docs/qat.md).

    from qgnn import qat
    qm = qat.prepare(model, bits=8, ranges="percentile", degree_quant=True)
    ... train qm like the float model ...
    qat.export_quantized(qm, "model_int8.qgnn")
    qat.export_float(qm, "model_float.qgnn")  # float weights + the learned ranges, for qgnn-convert

Self-distillation (QGNN-IC's SQD / AQD): qat.train_step(qm, opt, x, graph, labels, qat.DistillConfig("aqd")).
"""

from .distill import (DistillConfig, aqd_layer_loss, channel_attention, distill_forward, distillation_loss,
                      distillation_terms, full_precision_forward, kd_kl, node_attention_map, stochastic_forward,
                      train_step)
from .model import (QATModel, degree_cdf, export_float, export_quantized, prepare, protection_mask,
                    protection_probability)
from .input_scales import ColumnScales, fold_input_gains, input_column_scales
from .observers import METHODS, ColumnRangeObserver, RangeObserver, batch_column_ranges, batch_range
from .quantizer import ComponentBits, activation_quant_params, quantize_desc, quantize_multiplier

__all__ = [
    "QATModel", "prepare", "export_quantized", "export_float", "RangeObserver", "batch_range", "METHODS", "ComponentBits",
    "activation_quant_params", "quantize_desc", "quantize_multiplier", "degree_cdf", "protection_probability",
    "protection_mask", "DistillConfig", "distillation_loss", "distillation_terms", "distill_forward", "train_step",
    "kd_kl", "channel_attention", "node_attention_map", "aqd_layer_loss", "full_precision_forward",
    "stochastic_forward", "ColumnRangeObserver", "batch_column_ranges", "ColumnScales", "input_column_scales",
    "fold_input_gains",
]
