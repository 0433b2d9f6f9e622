// qgnn_model_create: every op this library has, in the default resolver. Its own translation unit, so an
// application that lists its ops (qgnn_model_create_with_ops) links only those.
#include "op.h"

extern "C" qgnn_status qgnn_model_create(const void* data, size_t size, qgnn_model** model,
                                         qgnn_error* error) {
  const qgnn_op* const kAllOps[] = {qgnn_op_linear(),   qgnn_op_gcn_conv(),    qgnn_op_sage_conv(),
                                    qgnn_op_gin_conv(), qgnn_op_global_pool(), qgnn_op_gat_conv()};
  const qgnn_op_resolver resolver = {kAllOps, sizeof(kAllOps) / sizeof(kAllOps[0])};
  return qgnn_model_create_with_ops(data, size, &resolver, model, error);
}
