// The op resolver of one firmware build: which layer kinds the embedded model may use. Each build links
// exactly one of ops_mutag_gin.cc, ops_mutag_gcn.cc, ops_mutag_gat.cc or ops_all.cc, so only the listed ops'
// code ends up in the image.
#ifndef QGNN_EXAMPLES_CORTEX_M_MODEL_OPS_H_
#define QGNN_EXAMPLES_CORTEX_M_MODEL_OPS_H_

#include <cstddef>

#include "qgnn/qgnn.h"

/// qgnn_model_create restricted to this build's op list (a model with another kind is refused with
/// QGNN_UNSUPPORTED_LAYER).
qgnn_status create_model(const void* data, size_t size, qgnn_model** model, qgnn_error* error);

#endif  // QGNN_EXAMPLES_CORTEX_M_MODEL_OPS_H_
