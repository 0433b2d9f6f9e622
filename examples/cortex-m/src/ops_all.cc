// Every op (qgnn_model_create): linked only into qgnn-fw-all-ops, which exists to measure what the op
// resolvers of the other builds save.
#include "model_ops.h"

qgnn_status create_model(const void* data, size_t size, qgnn_model** model, qgnn_error* error) {
  return qgnn_model_create(data, size, model, error);
}
