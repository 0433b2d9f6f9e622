// Sparse node features of a data set (.qgd version 2): converting between the dense and the CSR form, and
// densifying a batch for the consumers that compute on dense rows (the float forward, calibration).
#include <cstdint>
#include <vector>

#include "qgnn/converter/dataset.h"

namespace qgnn {
namespace converter {

void make_features_sparse(GraphSetDesc* set) {
  if (set->sparse_features()) return;
  const size_t nodes = static_cast<size_t>(set->num_nodes());
  const size_t dim = static_cast<size_t>(set->feature_dim);
  set->feature_row_ptr.assign(1, 0);
  set->feature_col_idx.clear();
  set->feature_values.clear();
  for (size_t i = 0; i < nodes; ++i) {
    const float* row = set->features.data() + i * dim;
    for (size_t c = 0; c < dim; ++c) {
      // Negative zero is a zero too: it densifies to +0, which quantizes to the same integer.
      if (row[c] != 0.0f) {
        set->feature_col_idx.push_back(static_cast<int32_t>(c));
        set->feature_values.push_back(row[c]);
      }
    }
    set->feature_row_ptr.push_back(static_cast<int32_t>(set->feature_values.size()));
  }
  std::vector<float>().swap(set->features);
  set->version = kGraphSetFormatVersion;
}

void make_features_dense(GraphSetDesc* set) {
  if (!set->sparse_features()) return;
  const size_t nodes = static_cast<size_t>(set->num_nodes());
  const size_t dim = static_cast<size_t>(set->feature_dim);
  set->features.assign(nodes * dim, 0.0f);
  for (size_t i = 0; i < nodes; ++i) {
    for (int32_t k = set->feature_row_ptr[i]; k < set->feature_row_ptr[i + 1]; ++k) {
      set->features[i * dim + static_cast<size_t>(set->feature_col_idx[static_cast<size_t>(k)])] =
          set->feature_values[static_cast<size_t>(k)];
    }
  }
  std::vector<int32_t>().swap(set->feature_row_ptr);
  std::vector<int32_t>().swap(set->feature_col_idx);
  std::vector<float>().swap(set->feature_values);
  set->version = kGraphSetDenseVersion;
}

double feature_density(const GraphSetDesc& set) {
  const double total = static_cast<double>(set.num_nodes()) * static_cast<double>(set.feature_dim);
  if (total <= 0) return 0.0;
  if (set.sparse_features()) {
    // Explicit zeros are allowed in the CSR: count what is non-zero, not what is stored.
    size_t nonzero = 0;
    for (float v : set.feature_values) nonzero += v != 0.0f;
    return static_cast<double>(nonzero) / total;
  }
  size_t nonzero = 0;
  for (float v : set.features) nonzero += v != 0.0f;
  return static_cast<double>(nonzero) / total;
}

void densify_features(GraphBatch* batch) {
  if (!batch->sparse_features()) return;
  const size_t dim = static_cast<size_t>(batch->feature_dim);
  batch->features.assign(static_cast<size_t>(batch->num_nodes) * dim, 0.0f);
  for (size_t i = 0; i < batch->num_nodes; ++i) {
    for (int32_t k = batch->feature_row_ptr[i]; k < batch->feature_row_ptr[i + 1]; ++k) {
      batch->features[i * dim + static_cast<size_t>(batch->feature_col_idx[static_cast<size_t>(k)])] =
          batch->feature_values[static_cast<size_t>(k)];
    }
  }
  std::vector<int32_t>().swap(batch->feature_row_ptr);
  std::vector<int32_t>().swap(batch->feature_col_idx);
  std::vector<float>().swap(batch->feature_values);
}

void sparsify_features(GraphBatch* batch) {
  if (batch->sparse_features()) return;
  const size_t dim = static_cast<size_t>(batch->feature_dim);
  batch->feature_row_ptr.assign(1, 0);
  batch->feature_col_idx.clear();
  batch->feature_values.clear();
  for (size_t i = 0; i < batch->num_nodes; ++i) {
    const float* row = batch->features.data() + i * dim;
    for (size_t c = 0; c < dim; ++c) {
      if (row[c] != 0.0f) {
        batch->feature_col_idx.push_back(static_cast<int32_t>(c));
        batch->feature_values.push_back(row[c]);
      }
    }
    batch->feature_row_ptr.push_back(static_cast<int32_t>(batch->feature_values.size()));
  }
  std::vector<float>().swap(batch->features);
}

}  // namespace converter
}  // namespace qgnn
