// Op lookup in an op resolver (the application's list of the kinds it links).
#include "op.h"

namespace qgnn {
namespace runtime {

const OpRegistration* FindOp(const qgnn_op_resolver& resolver, fb::LayerOptions type) {
  for (size_t i = 0; i < resolver.num_ops; ++i) {
    const OpRegistration* op = resolver.ops[i];
    if (op != nullptr && op->type == type) return op;
  }
  return nullptr;
}

}  // namespace runtime
}  // namespace qgnn

extern "C" const char* qgnn_op_name(const qgnn_op* op) { return op != nullptr ? op->name : ""; }
