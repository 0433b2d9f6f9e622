// The interpreter: a model, a planned arena, a thread pool and the graph bound by setup.
#ifndef QGNN_RUNTIME_INTERPRETER_H_
#define QGNN_RUNTIME_INTERPRETER_H_

#include <cstddef>
#include <cstdint>

#include "error_reporter.h"
#include "model.h"
#include "ops/float/fp32_backend.h"
#include "ops/input_probe.h"
#include "parallel.h"
#include "profiling.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace runtime {

/// Validates `limits` against the model and plans the arena: `packed_bytes` of persistent packed weights
/// first, then the activations; offsets (one per planned tensor) and the bytes used, without the 16 bytes of
/// alignment slack. Shared by qgnn_arena_size and qgnn_interpreter_create.
qgnn_status PlanModel(const qgnn_model& model, const qgnn_plan_limits& limits, size_t packed_bytes,
                      size_t* offsets, size_t* total, ErrorReporter& reporter);

}  // namespace runtime
}  // namespace qgnn

/// The opaque C handle.
struct qgnn_interpreter {
  const qgnn_model* model = nullptr;
  qgnn_plan_limits limits{0, 0, 0};
  uint8_t* arena = nullptr;            ///< 16-byte aligned start inside the caller's arena
  const uint8_t* arena_end = nullptr;  ///< one past the caller's last arena byte
  size_t* offsets = nullptr;
  qgnn::runtime::ThreadPool pool;
  /// qgnn_interpreter_options.spin_workers: leave the pool's workers spinning after invoke.
  bool spin_workers = false;
  /// Quantized kernels for this CPU (or QGNN_ISA), chosen once at create time.
  const qgnn::kernels::KernelTable* kernels = nullptr;
  /// By DenseParams::id: the Dense's weights packed for `kernels` in the arena's persistent part (null: that
  /// ISA reads the plain weights); null for float models.
  const void** packed = nullptr;
  /// By DenseParams::id: the input Dense ops' weights packed for sparse_dense (null: none or plain weights).
  const void** sparse_packed = nullptr;
  /// Float path's dense backend (options->fp32, else QGNN_FP32, else XNNPACK where available), chosen once at
  /// create time, and its XNNPACK operators (none for the reference or a quantized model).
  /// Absent from integer-only builds (QGNN_FLOAT_MODELS=OFF), which have no float path to back.
#if !defined(QGNN_NO_FLOAT_MODELS)
  qgnn::runtime::Fp32Backend fp32 = qgnn::runtime::Fp32Backend::kReference;
  qgnn::runtime::XnnDenseSet xnn_dense;
#endif
  /// Optional per-stage callback (qgnn_interpreter_set_profiler); unset by default.
  qgnn::runtime::Profiler profiler;

  // Bound by setup.
  bool bound = false;
  qgnn_graph graph{};
  /// qgnn_interpreter_setup_sparse: the bound sparse features (graph.features_f32 is NULL then).
  bool sparse_bound = false;
  qgnn::kernels::SparseRows sparse_rows{nullptr, nullptr, nullptr};
  /// The density probe of dense float input (QGNN_INPUT_PROBE, read once at create; ops/input_probe.h).
  qgnn::runtime::InputProbe input_probe = qgnn::runtime::InputProbe::kAuto;
  int32_t single_graph_ptr[2] = {0, 0};  ///< graph_ptr of a batch of one graph given with graph_ptr NULL
  /// The bound graph's rows cut by edge count for the aggregations (PartitionRowsByEdges at setup).
  qgnn::runtime::RowPartition partition;
  // Valid after invoke.
  bool has_output = false;
  uint32_t output_rows = 0;

  ~qgnn_interpreter() {
    delete[] offsets;
    delete[] packed;
    delete[] sparse_packed;
  }
};

#endif  // QGNN_RUNTIME_INTERPRETER_H_
