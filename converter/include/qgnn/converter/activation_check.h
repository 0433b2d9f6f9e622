// Activation check: the quantization SQNR of every activation a quantized model quantizes (input,
// aggregation, GIN hidden, layer outputs), measured on the calibration statistics, and a warning for each
// one that is degenerate or below an SQNR threshold (docs/converter.md, "Warnings").
//
// Measured from the statistics, not from another float pass: each activation's non-zero sample
// (calibration.h) is quantized with its QuantParams (kernels numerics: quantize_float, dequantize). Zeros
// are exact in every range (it contains 0), so they add no signal, no noise and are never clipped; the SQNR
// over the sample is therefore the SQNR over every calibration value whenever the sample is not a subsample
// (at most 2^24 non-zero values per activation), and an estimate from a uniform subsample beyond that.
//
// Threshold: default_min_sqnr_db(bits) = kSqnrDbPerBit * bits, 6 dB at 8 bits and 3 dB at 4 (at 0 dB the
// noise is as large as the signal). Not the 6.02 dB per bit of a full-scale uniform signal less a margin:
// the SQNR of a clipping range (Pauta, percentile) is dominated by its clipping, nearly the same at 8 and 4
// bits, and healthy conversions go as low as 10.9 dB at 8 bits (Cora GCN, Pauta, conv1.aggregation) and
// 5.7 dB at 4 bits (Cora GCN, min-max, conv1.aggregation), while a collapsed input range measured 1 dB
// (docs/converter.md, "Warnings", lists the measurements).
#ifndef QGNN_CONVERTER_ACTIVATION_CHECK_H_
#define QGNN_CONVERTER_ACTIVATION_CHECK_H_

#include <string>
#include <vector>

#include "qgnn/converter/calibration.h"
#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/report.h"

namespace qgnn {
namespace converter {

constexpr double kSqnrDbPerBit = 0.75;

/// The default SQNR threshold of a `bits`-bit activation: kSqnrDbPerBit * bits.
double default_min_sqnr_db(int bits);

/// Whether measure_activations reports a GATConv's `<layer>.alpha`: calibration kept softmax rows of its
/// logits and the quantized layer has a whole exp table.
bool measures_alpha(const LayerStats& stats, const LayerDesc& quantized_layer);

/// Every activation of `quantized` in model order (input, then per layer aggregation, GATConv's message,
/// logit and alpha, hidden..., output, those the layer has), with its QuantParams and its noise measured on
/// `stats` (collect_statistics of the float model the quantized one came from). Fails when the statistics do
/// not match the model, or when an activation with non-zero values has no sample (statistics collected with
/// sample_cap 0).
Result<std::vector<ActivationReport>> measure_activations(const ModelDesc& quantized,
                                                          const CalibrationStats& stats);

/// Sets min_sqnr_db, degenerate and warning of every activation and returns the warnings, one line each
/// (the activation, its SQNR, range, bits and a hint). `min_sqnr_db` overrides the default threshold of
/// every bit width when it is not NaN. An activation warns when its range is degenerate (no non-zero
/// calibration value: the range [0, 0]) or its SQNR is below the threshold.
std::vector<std::string> check_activations(std::vector<ActivationReport>* activations, double min_sqnr_db);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_ACTIVATION_CHECK_H_
