// Facts about schema TensorType values shared by the runtime, the converter and the tools.
#ifndef QGNN_SCHEMA_TENSOR_TYPE_H_
#define QGNN_SCHEMA_TENSOR_TYPE_H_

#include "qgnn/schema/qgnn_generated.h"

namespace qgnn {
namespace fb {

/// Bits per element of a tensor type (0 for a value this build does not know, e.g. from a newer writer).
constexpr int tensor_type_bits(TensorType type) {
  switch (type) {
    case TensorType::FLOAT32:
    case TensorType::INT32:
      return 32;
    case TensorType::INT8:
      return 8;
    case TensorType::INT4:
      return 4;
  }
  return 0;
}

}  // namespace fb
}  // namespace qgnn

#endif  // QGNN_SCHEMA_TENSOR_TYPE_H_
