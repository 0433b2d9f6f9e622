// The layer kinds of the bundled random-weight MUTAG GAT (models/mutag_gat_int8.qgnn) and nothing else, so
// this firmware links no GCNConv, SAGEConv or GINConv code (nor the GCN graph stage).
#include "model_ops.h"

qgnn_status create_model(const void* data, size_t size, qgnn_model** model, qgnn_error* error) {
  const qgnn_op* const ops[] = {qgnn_op_gat_conv(), qgnn_op_global_pool(), qgnn_op_linear()};
  const qgnn_op_resolver resolver = {ops, sizeof(ops) / sizeof(ops[0])};
  return qgnn_model_create_with_ops(data, size, &resolver, model, error);
}
