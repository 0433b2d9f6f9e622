#include "common/reorder.h"

#include <chrono>
#include <utility>

#include "qgnn/converter/runtime_graph.h"

namespace qgnn {
namespace tools {
namespace {

using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

}  // namespace

const std::vector<std::string>& reorder_names() {
  static const std::vector<std::string> names{"none", "rcm", "degree"};
  return names;
}

const char* reorder_name(qgnn_reorder_method method) {
  switch (method) {
    case QGNN_REORDER_RCM:
      return "rcm";
    case QGNN_REORDER_DEGREE:
      return "degree";
    case QGNN_REORDER_NONE:
      break;
  }
  return "none";
}

bool parse_reorder(const std::string& name, qgnn_reorder_method* method, std::string* error) {
  for (qgnn_reorder_method m : {QGNN_REORDER_NONE, QGNN_REORDER_RCM, QGNN_REORDER_DEGREE}) {
    if (name == reorder_name(m)) {
      *method = m;
      return true;
    }
  }
  *error = "unknown --reorder \"" + name + "\" (expected none, rcm or degree)";
  return false;
}

bool reorder_batch(converter::GraphBatch* batch, qgnn_reorder_method method, std::vector<int32_t>* perm,
                   ReorderTiming* timing, std::string* error) {
  const qgnn_graph graph = converter::runtime_graph(*batch);
  qgnn_error err{};
  const Clock::time_point t0 = Clock::now();
  size_t scratch_bytes = 0;
  if (qgnn_graph_reorder_scratch_size(graph.num_nodes, method, &scratch_bytes, &err) != QGNN_OK) {
    *error =
        std::string("qgnn_graph_reorder_scratch_size: ") + qgnn_status_name(err.status) + ": " + err.message;
    return false;
  }
  std::vector<uint8_t> scratch(scratch_bytes);
  perm->assign(graph.num_nodes, 0);
  if (qgnn_graph_reorder(&graph, method, perm->data(), scratch.data(), scratch.size(), &err) != QGNN_OK) {
    *error = std::string("qgnn_graph_reorder: ") + qgnn_status_name(err.status) + ": " + err.message;
    return false;
  }
  timing->permutation_us += us_since(t0);

  const Clock::time_point t1 = Clock::now();
  std::vector<int32_t> row_ptr(batch->row_ptr.size()), col_idx(batch->col_idx.size());
  std::vector<float> features(batch->features.size());
  qgnn_graph permuted{};
  if (qgnn_graph_permute(&graph, static_cast<uint32_t>(batch->feature_dim), perm->data(), row_ptr.data(),
                         col_idx.data(), graph.features_f32 != nullptr ? features.data() : nullptr, nullptr,
                         &permuted, &err) != QGNN_OK) {
    *error = std::string("qgnn_graph_permute: ") + qgnn_status_name(err.status) + ": " + err.message;
    return false;
  }
  if (batch->sparse_features()) {
    const qgnn_sparse_features in = converter::sparse_features(*batch);
    std::vector<int32_t> f_row_ptr(batch->feature_row_ptr.size()), f_col(batch->feature_col_idx.size());
    std::vector<float> f_values(batch->feature_values.size());
    qgnn_sparse_features out{};
    if (qgnn_sparse_features_permute(&graph, &in, perm->data(), f_row_ptr.data(), f_col.data(),
                                     f_values.data(), &out, &err) != QGNN_OK) {
      *error =
          std::string("qgnn_sparse_features_permute: ") + qgnn_status_name(err.status) + ": " + err.message;
      return false;
    }
    batch->feature_row_ptr = std::move(f_row_ptr);
    batch->feature_col_idx = std::move(f_col);
    batch->feature_values = std::move(f_values);
  }
  batch->row_ptr = std::move(row_ptr);
  batch->col_idx = std::move(col_idx);
  batch->features = std::move(features);
  timing->apply_us += us_since(t1);
  return true;
}

}  // namespace tools
}  // namespace qgnn
