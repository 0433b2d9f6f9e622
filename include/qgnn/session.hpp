// Host-side session over the runtime's public API (qgnn.h / qgnn.hpp): the steps every host program repeats
// — copy the model into 16-byte aligned memory, verify it, size an arena for the largest graph (batch) it
// will see, create the interpreter with options, bind a graph, invoke, read the outputs — done once, with
// errors as values. Used by qgnn-convert (accuracy on the runtime), qgnn-run, qgnn-bench, the invoke
// benchmarks and the tests. Not for firmware: it allocates with the standard library (library
// qgnn::session, hosts only).
#ifndef QGNN_SESSION_HPP_
#define QGNN_SESSION_HPP_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"
#include "qgnn/qgnn.hpp"

namespace qgnn {
namespace session {

/// Error-or-value, no exceptions (the converter's Result shape plus the runtime's status).
template <typename T>
struct Result {
  T value{};
  /// The runtime's status of a failed call; QGNN_OK when ok, and for failures outside the runtime (a file
  /// that cannot be read, an allocation).
  qgnn_status status = QGNN_OK;
  /// "" when ok, else "<step>: <status name>: <runtime message>" (or "<step>: <reason>" outside the
  /// runtime), e.g. "qgnn_interpreter_setup: QGNN_INVALID_GRAPH: col_idx[3] = 9 is out of range".
  std::string error;
  /// The runtime's own message of a failed call, without the step and status (what qgnn_error holds).
  std::string message;
  bool ok() const { return error.empty(); }
};

/// Interpreter options (qgnn_interpreter_options); empty strings take the runtime's defaults.
struct Options {
  uint32_t threads = 1;       ///< worker threads per invoke
  std::string isa;            ///< integer kernels: "" = QGNN_ISA, else the fastest available
  std::string fp32;           ///< float backend: "" = QGNN_FP32, else the build's default
  bool spin_workers = false;  ///< keep workers spinning between invokes
};

/// Logits of the last invoke, read once.
struct Outputs {
  uint32_t rows = 0;             ///< graphs (graph classification) or nodes (node classification)
  uint32_t cols = 0;             ///< classes
  std::vector<int8_t> logits_q;  ///< quantized models: the int8 logits, rows x cols; empty for float models
  float scale = 0.0f;            ///< quantized models: real = scale * (q - zero_point)
  int32_t zero_point = 0;
  std::vector<float> logits;    ///< dequantized (quantized models) or float logits, rows x cols
  std::vector<int32_t> argmax;  ///< predicted class per row
};

/// The plan of one graph (batch): its nodes, edges and graphs, each at least 1.
qgnn_plan_limits limits_of(const qgnn_graph& graph);
/// The smallest plan covering both (element-wise maximum).
qgnn_plan_limits cover(const qgnn_plan_limits& a, const qgnn_plan_limits& b);

/// A loaded model and, once planned, its arena and interpreter. Movable (the model bytes and the arena live
/// on the heap, so the runtime's pointers into them survive a move); not copyable.
class Session {
 public:
  Session() = default;
  Session(Session&& other) noexcept;
  Session& operator=(Session&& other) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// Copies `size` bytes into 16-byte aligned memory and verifies them (qgnn_model_create).
  static Result<Session> load(const void* data, size_t size);
  static Result<Session> load(const std::vector<uint8_t>& bytes);
  /// Reads a .qgnn file (a regular file) straight into aligned memory and loads it. A file that cannot be
  /// read fails with "cannot open PATH: <reason>", "PATH is not a regular file" or "cannot read PATH: ...".
  static Result<Session> load_file(const std::string& path);

  bool loaded() const { return model_.valid(); }
  const qgnn_model_info& info() const { return info_; }
  const qgnn::Model& model() const { return model_; }
  size_t model_bytes() const { return model_size_; }
  /// The aligned copy of the model's bytes the runtime reads (model_bytes() long).
  const uint8_t* model_data() const { return model_data_.get(); }

  /// qgnn_arena_size for `limits` (room for any ISA); with `isa`, qgnn_arena_size_for_options for an
  /// interpreter on that ISA ("reference": what a microcontroller build needs).
  Result<size_t> arena_size(const qgnn_plan_limits& limits, const std::string& isa = "") const;
  /// Allocates a 16-byte aligned arena for `limits` and creates the interpreter (replacing an earlier one).
  Result<bool> plan(const qgnn_plan_limits& limits, const Options& options = Options());
  size_t arena_bytes() const { return arena_size_; }
  const qgnn_plan_limits& limits() const { return limits_; }
  /// The integer kernels' instruction set ("" before plan).
  const char* isa() const;
  /// The raw interpreter (null before plan), for what the session does not wrap (the profiler).
  qgnn_interpreter* interpreter() const { return interpreter_.get(); }

  /// qgnn_interpreter_setup: validates `graph` against the model and the plan and binds it. The graph's
  /// arrays must stay unchanged until the next invoke returns.
  Result<bool> bind(const qgnn_graph& graph);
  /// qgnn_interpreter_setup_sparse: the same with sparse float features (graph.features_f32 NULL), for models
  /// that accept them (accepts_sparse_features()).
  Result<bool> bind_sparse(const qgnn_graph& graph, const qgnn_sparse_features& features);
  bool accepts_sparse_features() const { return qgnn_model_accepts_sparse_features(model_.get()) != 0; }
  /// qgnn_interpreter_invoke on the bound graph.
  Result<bool> invoke();
  /// bind, then invoke.
  Result<bool> run(const qgnn_graph& graph);

  /// The last invoke's output view (valid until the next invoke).
  Result<qgnn_output> output() const;
  /// Predicted class of every row into `out` (capacity `count` >= rows): for loops that reuse a buffer.
  Result<bool> argmax(int32_t* out, size_t count) const;
  /// Everything of the last invoke: quantized logits, dequantized floats and the argmax.
  Result<Outputs> outputs() const;

 private:
  // 16-byte aligned blocks of exactly the size asked for, so AddressSanitizer flags a read past the end of
  // the model or the arena.
  struct AlignedDelete {
    void operator()(uint8_t* p) const;
  };
  using Bytes = std::unique_ptr<uint8_t[], AlignedDelete>;
  /// Zeroed, or null when the allocation fails (reported as an error, never thrown).
  static Bytes allocate(size_t size);
  /// qgnn_model_create on the bytes already in `r.value`.
  static Result<Session> verified(Result<Session> r);

  Bytes model_data_;
  size_t model_size_ = 0;
  qgnn::Model model_;
  qgnn_model_info info_{};
  Bytes arena_;
  size_t arena_size_ = 0;
  qgnn_plan_limits limits_{};
  // Declared after the arena and the model: destroyed first.
  qgnn::Interpreter interpreter_;
};

}  // namespace session
}  // namespace qgnn

#endif  // QGNN_SESSION_HPP_
