// libFuzzer target: graph input validation + invoke on the bundled models.
//
// The input decodes into a CSR batch (graph_input.h). The contract under test: setup either rejects the
// graph with a named status and leaves the interpreter unbound (invoke answers QGNN_NOT_READY), or accepts
// it, and then invoke succeeds, the outputs are readable and the int8 logits are bit-identical between the
// reference kernels and the fastest ISA of this machine (the determinism promise, checked differentially).
// Inputs with sparse features (flags bit 2) go through qgnn_interpreter_setup_sparse, mostly on a tiny
// quantized Linear-first model that accepts them (fuzz/sparse_linear_gcn_int8.qgnn, written by
// make_seeds.py) and a transform-first SAGEConv one whose root term reads the input a second time
// (fuzz/transform_first_sage_int8.qgnn); when accepted, the logits must also be those of the same features
// densified (setup with dense floats). Every input also goes through the node reordering (qgnn_graph_reorder,
// method from the input size): it fails with a message or gives a bijection; on an accepted graph, the
// permuted graph and features give the same logits per original node (reference kernels). The bundled MUTAG
// GAT (models/mutag_gat_{int8,f32}.qgnn, concat and mean of heads) runs the integer attention and its float
// path on the same graphs: its int8 logits are compared between the reference and the fastest ISA's twins.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "graph_input.h"
#include "qgnn/qgnn.h"

namespace {

// The plan every interpreter gets: small, so size errors are reachable with 16-bit header fields.
constexpr qgnn_plan_limits kLimits{64, 256, 4};

struct Loaded {
  std::vector<uint8_t> bytes;
  qgnn::fuzz::AlignedCopy* buffer = nullptr;
  qgnn_model* model = nullptr;
  qgnn_model_info info{};
  std::vector<uint8_t> arena_ref, arena_fast;
  qgnn_interpreter* reference = nullptr;
  qgnn_interpreter* fastest = nullptr;
};

std::vector<Loaded>* g_models = nullptr;

void load(const std::string& path) {
  Loaded m;
  m.bytes = qgnn::fuzz::read_file(path);
  qgnn_error error{};
  qgnn::fuzz::require(!m.bytes.empty(), ("cannot read " + path).c_str(), error);
  m.buffer = new qgnn::fuzz::AlignedCopy(m.bytes.data(), m.bytes.size());
  qgnn::fuzz::require(qgnn_model_create(m.buffer->data(), m.bytes.size(), &m.model, &error) == QGNN_OK,
                      "a bundled model does not load", error);
  qgnn_model_get_info(m.model, &m.info);
  size_t bytes = 0;
  qgnn::fuzz::require(qgnn_arena_size(m.model, &kLimits, &bytes, &error) == QGNN_OK, "arena_size", error);
  m.arena_ref.resize(bytes);
  m.arena_fast.resize(bytes);
  qgnn_interpreter_options reference = QGNN_INTERPRETER_OPTIONS_INIT;
  reference.num_threads = 1;
  reference.isa = "reference";
  qgnn::fuzz::require(qgnn_interpreter_create(m.model, &kLimits, m.arena_ref.data(), bytes, &reference,
                                              &m.reference, &error) == QGNN_OK,
                      "reference interpreter", error);
  qgnn::fuzz::require(qgnn_interpreter_create(m.model, &kLimits, m.arena_fast.data(), bytes, nullptr,
                                              &m.fastest, &error) == QGNN_OK,
                      "default interpreter", error);
  g_models->push_back(std::move(m));
}

// The reordering contract on any decoded graph (see the file comment). `logits`: the accepted graph's
// reference logits, or empty when setup rejected it (then only the permutation is checked).
void check_reorder(Loaded& m, const qgnn::fuzz::GraphInput& input, const qgnn_graph& graph,
                   const qgnn_sparse_features& sparse, const std::vector<int8_t>& logits, size_t size) {
  const auto method = static_cast<qgnn_reorder_method>(size % 3);
  qgnn_error error{};
  size_t scratch_bytes = 0;
  if (qgnn_graph_reorder_scratch_size(graph.num_nodes, method, &scratch_bytes, &error) != QGNN_OK) return;
  std::vector<uint8_t> scratch(scratch_bytes);
  std::vector<int32_t> perm(graph.num_nodes, -1);
  const qgnn_status status =
      qgnn_graph_reorder(&graph, method, perm.data(), scratch.data(), scratch_bytes, &error);
  if (status != QGNN_OK) {
    qgnn::fuzz::require(error.status == status && error.message[0] != '\0',
                        "reorder rejection without message", error);
    return;
  }
  std::vector<uint8_t> taken(graph.num_nodes, 0);
  for (int32_t p : perm) {
    qgnn::fuzz::require(
        p >= 0 && static_cast<uint32_t>(p) < graph.num_nodes && taken[static_cast<size_t>(p)] == 0,
        "qgnn_graph_reorder returned no permutation", error);
    taken[static_cast<size_t>(p)] = 1;
  }
  if (logits.empty()) return;
  const size_t dim = m.info.input_dim;
  std::vector<int32_t> row_ptr(graph.num_nodes + 1), col_idx(graph.num_edges);
  std::vector<float> f32(graph.features_f32 != nullptr ? graph.num_nodes * dim : 0);
  std::vector<int8_t> i8(graph.features_i8 != nullptr ? graph.num_nodes * dim : 0);
  qgnn_graph permuted{};
  qgnn::fuzz::require(qgnn_graph_permute(&graph, static_cast<uint32_t>(dim), perm.data(), row_ptr.data(),
                                         col_idx.data(), f32.empty() ? nullptr : f32.data(),
                                         i8.empty() ? nullptr : i8.data(), &permuted, &error) == QGNN_OK,
                      "an accepted graph cannot be permuted", error);
  qgnn_sparse_features permuted_sparse{};
  std::vector<int32_t> f_row_ptr, f_col;
  std::vector<float> f_values;
  if (input.sparse()) {
    f_row_ptr.resize(graph.num_nodes + 1);
    f_col.resize(sparse.nnz);
    f_values.resize(sparse.nnz);
    qgnn::fuzz::require(
        qgnn_sparse_features_permute(&graph, &sparse, perm.data(), f_row_ptr.data(), f_col.data(),
                                     f_values.data(), &permuted_sparse, &error) == QGNN_OK,
        "accepted sparse features cannot be permuted", error);
  }
  const qgnn_status bound =
      input.sparse() ? qgnn_interpreter_setup_sparse(m.reference, &permuted, &permuted_sparse, &error)
                     : qgnn_interpreter_setup(m.reference, &permuted, &error);
  qgnn::fuzz::require(bound == QGNN_OK, "the permuted copy of an accepted graph is rejected", error);
  qgnn::fuzz::require(qgnn_interpreter_invoke(m.reference, &error) == QGNN_OK, "invoke (permuted)", error);
  qgnn_output out{};
  qgnn_interpreter_output(m.reference, &out);
  std::vector<int8_t> reordered(logits.size());
  if (m.info.task == QGNN_TASK_NODE_CLASSIFICATION) {
    qgnn::fuzz::require(qgnn_rows_unpermute(perm.data(), out.rows, out.cols, out.logits_q, reordered.data(),
                                            &error) == QGNN_OK,
                        "unpermute", error);
  } else {
    std::memcpy(reordered.data(), out.logits_q, reordered.size());
  }
  qgnn::fuzz::require(reordered == logits, "the reordered graph gives other logits per original node", error);
}

// Quantized logits only: the float path may use another backend by default (XNNPACK), which is promised to
// stay within a rounding bound of the reference, not bit-identical.
std::vector<int8_t> quantized_logits(const qgnn_interpreter* interpreter) {
  qgnn_output out{};
  qgnn_interpreter_output(interpreter, &out);
  if (out.logits_q == nullptr) return {};
  return std::vector<int8_t>(out.logits_q, out.logits_q + static_cast<size_t>(out.rows) * out.cols);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_models = new std::vector<Loaded>();
  const std::string dir = qgnn::fuzz::models_dir();
  load(dir + "/mutag_gin_int8.qgnn");
  load(dir + "/mutag_gin_f32.qgnn");
  load(std::string(QGNN_FUZZ_SOURCE_DIR) + "/sparse_linear_gcn_int8.qgnn");
  load(std::string(QGNN_FUZZ_SOURCE_DIR) + "/transform_first_sage_int8.qgnn");
  load(dir + "/mutag_gat_int8.qgnn");  // make_seeds.py GAT_MODEL_INDEX, then the float GAT
  load(dir + "/mutag_gat_f32.qgnn");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Loaded& m = (*g_models)[data[0] % g_models->size()];
  const qgnn::fuzz::GraphInput input = qgnn::fuzz::decode_graph(data, size, m.info.input_dim);
  const qgnn_graph graph = input.view(m.info.input_is_int8 != 0);
  const qgnn_sparse_features sparse = input.sparse_view();
  auto setup = [&](qgnn_interpreter* interpreter, qgnn_error* e) {
    return input.sparse() ? qgnn_interpreter_setup_sparse(interpreter, &graph, &sparse, e)
                          : qgnn_interpreter_setup(interpreter, &graph, e);
  };

  qgnn_error error{};
  const qgnn_status status = setup(m.reference, &error);
  qgnn_error error_fast{};
  const qgnn_status status_fast = setup(m.fastest, &error_fast);
  qgnn::fuzz::require(status == status_fast && std::strcmp(error.message, error_fast.message) == 0,
                      "the two interpreters judge the same graph differently", error);
  if (status != QGNN_OK) {
    qgnn::fuzz::require(error.status == status && error.message[0] != '\0', "rejection without message",
                        error);
    qgnn_error not_ready{};
    qgnn::fuzz::require(qgnn_interpreter_invoke(m.reference, &not_ready) == QGNN_NOT_READY,
                        "a rejected graph stayed bound", not_ready);
    check_reorder(m, input, graph, sparse, {}, size);
    return 0;
  }
  qgnn::fuzz::require(qgnn_interpreter_invoke(m.reference, &error) == QGNN_OK, "invoke (reference)", error);
  qgnn::fuzz::require(qgnn_interpreter_invoke(m.fastest, &error) == QGNN_OK, "invoke (fastest)", error);
  qgnn::fuzz::check_outputs(m.reference, m.info.num_classes);
  qgnn::fuzz::check_outputs(m.fastest, m.info.num_classes);
  const std::vector<int8_t> logits = quantized_logits(m.reference);
  qgnn::fuzz::require(logits == quantized_logits(m.fastest),
                      "logits differ between the reference kernels and the fastest ISA", error);
  if (input.sparse()) {
    qgnn::fuzz::require(qgnn_model_accepts_sparse_features(m.model) != 0,
                        "sparse features accepted by a model that does not take them", error);
    // Accepted, so the CSR is valid: its dense twin must give the same bytes.
    const size_t dim = m.info.input_dim;
    std::vector<float> dense(static_cast<size_t>(input.num_nodes) * dim, 0.0f);
    for (uint32_t i = 0; i < input.num_nodes; ++i) {
      for (int32_t k = input.feature_row_ptr[i]; k < input.feature_row_ptr[i + 1]; ++k)
        dense[i * dim + static_cast<size_t>(input.feature_col_idx[static_cast<size_t>(k)])] =
            input.feature_values[static_cast<size_t>(k)];
    }
    qgnn_graph dense_graph = graph;
    dense_graph.features_f32 = dense.empty() ? nullptr : dense.data();
    qgnn::fuzz::require(qgnn_interpreter_setup(m.reference, &dense_graph, &error) == QGNN_OK,
                        "the densified features of an accepted sparse input are rejected", error);
    qgnn::fuzz::require(qgnn_interpreter_invoke(m.reference, &error) == QGNN_OK, "invoke (densified)", error);
    qgnn::fuzz::require(quantized_logits(m.reference) == logits,
                        "sparse features and their densified copy give different logits", error);
  }
  // Quantized models only (the float MUTAG GIN pools: its sums may round differently in another order).
  if (!logits.empty()) check_reorder(m, input, graph, sparse, logits, size);
  return 0;
}
