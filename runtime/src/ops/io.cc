// The model's edges: input features into the first activation, int4 logits out to int8.
#include "io.h"
#include "qgnn/kernels/numerics.h"

namespace qgnn {
namespace runtime {

void EvalInput(const EvalContext& ctx, const qgnn_model& model, const float* features_f32,
               const int8_t* features_i8) {
  // In place, or quantized inside the Dense ops that read it (RunDenseOnInput).
  if (model.input_tensor == kExternalTensor || model.input_tensor == kStreamedInput) return;
  const int32_t cols = static_cast<int32_t>(model.input_dim);
  const kernels::QActivation out = MutableActivation(ctx, model.input_tensor, model.input_q);
  if (model.input_int8) {
    ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
      kernels::pack_rows_int8(features_i8, cols, out, begin, end);
    });
  } else {
    const float scale = model.input_q.scale;
    const float* column_scales = model.input_column_scales;
    ParallelFor(*ctx.pool, ctx.num_nodes, [&](int32_t begin, int32_t end) {
      ctx.kernels->quantize_rows(features_f32, cols, scale, column_scales, out, begin, end);
    });
  }
}

void EvalLogits(const EvalContext& ctx, const qgnn_model& model) {
  if (model.logits_tensor == kNoTensor) return;
  const size_t cols = model.num_classes;
  const size_t packed_row = kernels::row_bytes(cols, 4);
  const uint8_t* in = static_cast<const uint8_t*>(ctx.Data(model.output_tensor));
  int8_t* out = static_cast<int8_t*>(ctx.Data(model.logits_tensor));
  const int32_t rows = ctx.Rows(model.output_rows);
  for (int32_t r = 0; r < rows; ++r) {
    const uint8_t* src = in + static_cast<size_t>(r) * packed_row;
    int8_t* dst = out + static_cast<size_t>(r) * cols;
    for (size_t c = 0; c < cols; ++c) dst[c] = static_cast<int8_t>(kernels::load_int4(src, c));
  }
}

}  // namespace runtime
}  // namespace qgnn
