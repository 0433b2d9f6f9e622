// Layer union type -> op registration.
#include "op.h"

namespace qgnn {
namespace runtime {

const OpRegistration* FindOp(fb::LayerOptions type) {
  switch (type) {
    case fb::LayerOptions::LinearOptions:
      return Register_LINEAR();
    case fb::LayerOptions::GCNConvOptions:
      return Register_GCN_CONV();
    case fb::LayerOptions::SAGEConvOptions:
      return Register_SAGE_CONV();
    case fb::LayerOptions::GINConvOptions:
      return Register_GIN_CONV();
    case fb::LayerOptions::GlobalPoolOptions:
      return Register_GLOBAL_POOL();
    default:
      return nullptr;
  }
}

}  // namespace runtime
}  // namespace qgnn
