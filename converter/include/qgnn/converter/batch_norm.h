// Folding of unfolded BatchNorm (schema Dense.batch_norm) into the Dense it follows. Float models may carry
// BatchNorm so that a converter sees the trained statistics; quantization, the converter's float forward pass
// and every quantized model work on folded weights only.
#ifndef QGNN_CONVERTER_BATCH_NORM_H_
#define QGNN_CONVERTER_BATCH_NORM_H_

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {

/// True when any Dense of the model carries a BatchNorm.
bool has_batch_norm(const ModelDesc& model);

/// The same function without BatchNorm. With s_c = gamma_c / sqrt(var_c + eps) (computed in double), a Dense
/// acc = x W^T + b followed by BatchNorm becomes, row by row (output channel c):
///   W'_c = W_c * s_c,   b'_c = (b_c - mean_c) * s_c + beta_c   (b = 0 when the Dense has no bias),
/// since (acc_c - mean_c) * s_c + beta_c = x W_c^T s_c + (b_c - mean_c) s_c + beta_c. A SAGEConv's BatchNorm
/// (on its neighbour Dense) normalises the whole sum W_n a + b_n + W_r x + b_r, so the root rows are scaled
/// by s_c as well and its bias (if any) becomes b_r * s_c; the shift goes into the neighbour bias. Stored
/// ranges are kept: the activations they describe are unchanged. A model without BatchNorm is returned as
/// it is. Fails on a quantized model or an inconsistent BatchNorm (check_model's message).
Result<ModelDesc> fold_batch_norm(const ModelDesc& model);

}  // namespace converter
}  // namespace qgnn

#endif  // QGNN_CONVERTER_BATCH_NORM_H_
