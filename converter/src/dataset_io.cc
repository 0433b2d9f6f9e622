// .qgd bytes <-> GraphSetDesc.
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/schema/qgd_generated.h"

namespace qgnn {
namespace converter {
namespace {

namespace fbs = ::qgnn::fb;

template <typename T>
std::vector<T> copy_vector(const flatbuffers::Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>();
}

}  // namespace

Result<std::vector<uint8_t>> serialize_graph_set_unchecked(const GraphSetDesc& set) {
  using R = Result<std::vector<uint8_t>>;
  // FlatBuffers offsets are 32-bit.
  const size_t payload = set.features.size() * 4 + set.col_idx.size() * 4 + set.row_ptr.size() * 4 +
                         set.graph_ptr.size() * 4 + set.labels.size() * 4 + set.feature_row_ptr.size() * 4 +
                         set.feature_col_idx.size() * 4 + set.feature_values.size() * 4;
  if (payload >= (size_t{1} << 31) - (size_t{1} << 24)) return R::failure("the data set exceeds 2 GiB");
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  fbb.ForceDefaults(true);
  std::vector<flatbuffers::Offset<flatbuffers::String>> names;
  for (const std::string& n : set.class_names) names.push_back(fbb.CreateString(n));
  // Dense sets leave the sparse fields out entirely (a version 1 file, byte for byte as before).
  const bool sparse = set.sparse_features();
  const auto feature_row_ptr = sparse ? fbb.CreateVector(set.feature_row_ptr) : 0;
  const auto feature_col_idx = sparse ? fbb.CreateVector(set.feature_col_idx) : 0;
  const auto feature_values = sparse ? fbb.CreateVector(set.feature_values) : 0;
  const auto root = fbs::CreateGraphSet(
      fbb, set.version, fbb.CreateString(set.name), static_cast<fbs::Task>(set.task),
      static_cast<uint32_t>(set.num_nodes()), static_cast<uint32_t>(set.num_edges()),
      static_cast<uint32_t>(set.feature_dim), static_cast<uint32_t>(set.num_classes), fbb.CreateVector(names),
      fbb.CreateVector(set.graph_ptr), fbb.CreateVector(set.row_ptr), fbb.CreateVector(set.col_idx),
      fbb.CreateVector(set.features), fbb.CreateVector(set.labels), fbb.CreateVector(set.train),
      fbb.CreateVector(set.val), fbb.CreateVector(set.test), fbb.CreateVector(set.fold),
      fbb.CreateString(set.description), feature_row_ptr, feature_col_idx, feature_values);
  fbs::FinishGraphSetBuffer(fbb, root);
  R r;
  r.value.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  return r;
}

Result<std::vector<uint8_t>> serialize_graph_set(const GraphSetDesc& set) {
  const Result<bool> checked = check_graph_set(set);
  if (!checked.ok()) return Result<std::vector<uint8_t>>::failure("invalid data set: " + checked.error);
  if (set.version != (set.sparse_features() ? kGraphSetFormatVersion : kGraphSetDenseVersion)) {
    // Only files that need version 2 get it, so that version 1 readers keep reading every dense file.
    GraphSetDesc stamped = set;
    stamped.version = set.sparse_features() ? kGraphSetFormatVersion : kGraphSetDenseVersion;
    return serialize_graph_set_unchecked(stamped);
  }
  return serialize_graph_set_unchecked(set);
}

Result<GraphSetDesc> load_graph_set(const uint8_t* data, size_t size) {
  using R = Result<GraphSetDesc>;
  if (!data || size < 8) return R::failure("not a .qgd data set: too small");
  if (!fbs::GraphSetBufferHasIdentifier(data)) {
    return R::failure("not a .qgd data set: missing the \"QGD1\" identifier");
  }
  flatbuffers::Verifier verifier(data, size);
  if (!fbs::VerifyGraphSetBuffer(verifier)) {
    return R::failure("malformed .qgd data set: the FlatBuffers verifier failed");
  }
  const fbs::GraphSet* g = fbs::GetGraphSet(data);
  R r;
  GraphSetDesc& set = r.value;
  set.version = g->version();
  set.name = g->name() ? g->name()->str() : std::string();
  set.task = static_cast<Task>(g->task());
  if (g->feature_dim() > static_cast<uint32_t>(INT32_MAX) ||
      g->num_classes() > static_cast<uint32_t>(INT32_MAX)) {
    return R::failure("invalid data set: feature_dim or num_classes out of range");
  }
  set.feature_dim = static_cast<int32_t>(g->feature_dim());
  set.num_classes = static_cast<int32_t>(g->num_classes());
  if (g->class_names()) {
    for (const flatbuffers::String* n : *g->class_names()) set.class_names.push_back(n->str());
  }
  set.graph_ptr = copy_vector(g->graph_ptr());
  set.row_ptr = copy_vector(g->row_ptr());
  set.col_idx = copy_vector(g->col_idx());
  set.features = copy_vector(g->features());
  set.feature_row_ptr = copy_vector(g->feature_row_ptr());
  set.feature_col_idx = copy_vector(g->feature_col_idx());
  set.feature_values = copy_vector(g->feature_values());
  set.labels = copy_vector(g->labels());
  set.train = copy_vector(g->train());
  set.val = copy_vector(g->val());
  set.test = copy_vector(g->test());
  set.fold = copy_vector(g->fold());
  set.description = g->description() ? g->description()->str() : std::string();
  // The header counts must agree with the arrays they describe.
  if (set.row_ptr.size() != static_cast<size_t>(g->num_nodes()) + 1) {
    return R::failure("invalid data set: row_ptr holds " + std::to_string(set.row_ptr.size()) +
                      " offsets, expected num_nodes + 1 = " + std::to_string(uint64_t{g->num_nodes()} + 1));
  }
  if (set.col_idx.size() != g->num_edges()) {
    return R::failure("invalid data set: col_idx holds " + std::to_string(set.col_idx.size()) +
                      " ids, expected num_edges = " + std::to_string(g->num_edges()));
  }
  // A present but empty feature_row_ptr would read as dense features; it can only be a broken file.
  if (g->feature_row_ptr() && g->feature_row_ptr()->size() == 0) {
    return R::failure("invalid data set: feature_row_ptr is present but empty (expected num_nodes + 1 = " +
                      std::to_string(uint64_t{g->num_nodes()} + 1) + " offsets)");
  }
  if (!set.sparse_features() && (g->feature_col_idx() || g->feature_values())) {
    return R::failure("invalid data set: feature_col_idx or feature_values without feature_row_ptr");
  }
  const Result<bool> checked = check_graph_set(set);
  if (!checked.ok()) return R::failure("invalid data set: " + checked.error);
  return r;
}

Result<GraphSetDesc> load_graph_set(const std::vector<uint8_t>& bytes) {
  return load_graph_set(bytes.data(), bytes.size());
}

}  // namespace converter
}  // namespace qgnn
