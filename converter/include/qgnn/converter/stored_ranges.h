// Activation ranges stored in a float model (schema Range fields: InputSpec.range, Layer.output_range /
// aggregation_range, GINConvOptions.hidden_ranges), e.g. the ranges quantization-aware training ended with.
// A converter quantizes with them instead of calibrating: they are the ranges the model was trained for.
#ifndef QGNN_CONVERTER_STORED_RANGES_H_
#define QGNN_CONVERTER_STORED_RANGES_H_

#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {

/// True when the model stores any activation range.
bool has_stored_ranges(const ModelDesc& model);

/// The stored ranges in the layout quantize_model consumes: the input, and per layer the aggregation
/// (message-passing layers), GIN's hidden MLP outputs and the output. Fails, naming the activation, when
/// the model stores none, or not one for every activation, or one that is not finite or has min > max.
Result<CalibrationRanges> stored_ranges(const ModelDesc& model);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_STORED_RANGES_H_
