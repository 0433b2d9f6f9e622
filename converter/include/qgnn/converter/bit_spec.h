// Mixed-precision bit assignments from a text SPEC (qgnn-convert --bits), docs/converter.md "Bit SPEC".
//
//   SPEC     := BITS | ITEM ("," ITEM)*          e.g. "4", "conv1.w=4,conv1.out=8,*=8"
//   ITEM     := SELECTOR "=" BITS                BITS := "4" | "8"
//   SELECTOR := "*" | "*." COMP | "input" | LAYER | LAYER "." COMP
//   LAYER    := a layer name as qgnn-inspect prints it, or "#" INDEX (0-based)
//   COMP     := "w" | "weights" | "agg" | "aggregation" | "att" | "attention" | "out" | "output"
//               ("att": a GATConv's attention logits, 8 or 4 bits; "agg" names its messages)
//
// The most specific selector wins, whatever the order: LAYER.COMP, then LAYER, then *.COMP, then *; the input
// features take "input", else "*". Anything not named is 8 bits. The same selector twice, an unknown layer, a
// component the layer lacks (weights of a pooling layer, aggregation of a Linear) and LAST.out=4 (4-bit
// logits) are errors. "*", a bare BITS and a whole-layer selector leave the logits (the last layer's output)
// at 8 bits; "*" and a bare BITS leave every aggregation and GATConv attention logits at 8 bits too.
#ifndef QGNN_CONVERTER_BIT_SPEC_H_
#define QGNN_CONVERTER_BIT_SPEC_H_

#include <string>

#include "qgnn/converter/model_builder.h"
#include "qgnn/converter/quantizer.h"

namespace qgnn {
namespace converter {

/// Parses SPEC against `model`'s layers. The result has input_bits, int8_logits and one layer_bits entry per
/// layer (default_bits is then unused); components a layer does not have are left at 8.
Result<QuantizerConfig> parse_bit_spec(const std::string& spec, const ModelDesc& model);

/// The inverse: the shortest SPEC of explicit per-layer items that parse_bit_spec maps back to `config`
/// for `model` (used in model descriptions, reports and the automatic bit search's labels).
std::string format_bit_spec(const QuantizerConfig& config, const ModelDesc& model);

/// The bits `config` gives layer `index` (its layer_bits entry, else default_bits).
ComponentBits layer_bits(const QuantizerConfig& config, size_t index);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_BIT_SPEC_H_
