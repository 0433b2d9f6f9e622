// libFuzzer target: model loading + verification, and running whatever the verifier accepts.
//
// Any byte string goes to qgnn_model_create. The contract under test: a rejected model gets a named status
// (never a crash, hang or read outside the buffer), and an accepted model is safe to plan and run: a small
// graph through it must invoke without a sanitizer report, and every output query must succeed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "qgnn/qgnn.h"

namespace {

// Big enough for the bundled models at a few nodes; larger plans are skipped (they would only test malloc).
constexpr size_t kMaxArenaBytes = size_t{64} << 20;
constexpr uint32_t kMaxInputDim = 1u << 14;

void run_small_graph(const qgnn_model* model, const qgnn_model_info& info) {
  if (info.input_dim == 0 || info.input_dim > kMaxInputDim) return;
  const qgnn_plan_limits limits{3, 4, 1};
  size_t bytes = 0;
  if (qgnn_arena_size(model, &limits, &bytes, nullptr) != QGNN_OK || bytes > kMaxArenaBytes) return;
  std::vector<uint8_t> arena(bytes);  // exactly the reported size: ASan flags any write past it
  qgnn_interpreter* interpreter = nullptr;
  qgnn_error error{};
  qgnn::fuzz::require(qgnn_interpreter_create(model, &limits, arena.data(), arena.size(), nullptr,
                                              &interpreter, &error) == QGNN_OK,
                      "interpreter_create failed on a verified model", error);
  // A path 0 - 1 - 2 plus a self-loop: every aggregation sees degrees 1 and 2 (and 0 would be the first).
  static const int32_t row_ptr[] = {0, 1, 3, 4};
  static const int32_t col_idx[] = {1, 0, 2, 2};
  std::vector<float> features_f32(3 * info.input_dim, 0.25f);
  std::vector<int8_t> features_i8(3 * info.input_dim, 1);
  const qgnn_graph graph{3,
                         4,
                         1,
                         row_ptr,
                         col_idx,
                         nullptr,
                         info.input_is_int8 ? nullptr : features_f32.data(),
                         info.input_is_int8 ? features_i8.data() : nullptr};
  if (qgnn_interpreter_setup(interpreter, &graph, &error) == QGNN_OK) {
    qgnn::fuzz::require(qgnn_interpreter_invoke(interpreter, &error) == QGNN_OK,
                        "invoke failed after a successful setup", error);
    qgnn::fuzz::check_outputs(interpreter, info.num_classes);
  }
  qgnn_interpreter_delete(interpreter);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The runtime requires a 16-byte aligned buffer; an exact-size copy keeps ASan's bound at the end.
  qgnn::fuzz::AlignedCopy buffer(data, size);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  const qgnn_status status = qgnn_model_create(buffer.data(), size, &model, &error);
  if (status != QGNN_OK) {
    qgnn::fuzz::require(model == nullptr && error.status == status && error.message[0] != '\0' &&
                            std::strncmp(qgnn_status_name(status), "QGNN_", 5) == 0,
                        "a rejection without its status, message or with a model handle", error);
    return 0;
  }
  qgnn_model_info info{};
  qgnn::fuzz::require(qgnn_model_get_info(model, &info) == QGNN_OK, "get_info failed", error);
  for (uint32_t c = 0; c < info.num_classes && c < 4; ++c) (void)qgnn_model_class_name(model, c);
  run_small_graph(model, info);
  qgnn_model_delete(model);
  return 0;
}
