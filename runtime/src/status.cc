// qgnn_status_name: stable names of the status codes.
#include "qgnn/qgnn.h"

extern "C" const char* qgnn_status_name(qgnn_status status) {
  switch (status) {
    case QGNN_OK:
      return "QGNN_OK";
    case QGNN_INVALID_ARGUMENT:
      return "QGNN_INVALID_ARGUMENT";
    case QGNN_BAD_IDENTIFIER:
      return "QGNN_BAD_IDENTIFIER";
    case QGNN_MALFORMED_FLATBUFFER:
      return "QGNN_MALFORMED_FLATBUFFER";
    case QGNN_UNSUPPORTED_VERSION:
      return "QGNN_UNSUPPORTED_VERSION";
    case QGNN_MISSING_FIELD:
      return "QGNN_MISSING_FIELD";
    case QGNN_INDEX_OUT_OF_RANGE:
      return "QGNN_INDEX_OUT_OF_RANGE";
    case QGNN_BAD_TENSOR_TYPE:
      return "QGNN_BAD_TENSOR_TYPE";
    case QGNN_SHAPE_MISMATCH:
      return "QGNN_SHAPE_MISMATCH";
    case QGNN_BUFFER_SIZE_MISMATCH:
      return "QGNN_BUFFER_SIZE_MISMATCH";
    case QGNN_BAD_BITS:
      return "QGNN_BAD_BITS";
    case QGNN_BAD_QUANT_PARAMS:
      return "QGNN_BAD_QUANT_PARAMS";
    case QGNN_LIMIT_EXCEEDED:
      return "QGNN_LIMIT_EXCEEDED";
    case QGNN_UNSUPPORTED_LAYER:
      return "QGNN_UNSUPPORTED_LAYER";
    case QGNN_ARENA_TOO_SMALL:
      return "QGNN_ARENA_TOO_SMALL";
    case QGNN_INVALID_GRAPH:
      return "QGNN_INVALID_GRAPH";
    case QGNN_GRAPH_TOO_LARGE:
      return "QGNN_GRAPH_TOO_LARGE";
    case QGNN_NON_FINITE_INPUT:
      return "QGNN_NON_FINITE_INPUT";
    case QGNN_NOT_READY:
      return "QGNN_NOT_READY";
    case QGNN_OUT_OF_MEMORY:
      return "QGNN_OUT_OF_MEMORY";
  }
  return "QGNN_UNKNOWN_STATUS";
}
