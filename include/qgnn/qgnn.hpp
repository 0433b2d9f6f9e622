/// @file qgnn.hpp
/// Thin header-only C++ wrapper over the C API of qgnn.h: RAII, move-only handles and error values instead
/// of exceptions. It allocates nothing itself (usable where the runtime is: no exceptions, no RTTI, no heap
/// beyond what the C create functions allocate).
///
/// @code
///   auto model = qgnn::Model::Create(bytes, size);               // bytes: 16-byte aligned, kept alive
///   if (!model.ok()) { puts(model.error().message()); return; }
///   qgnn_plan_limits limits{64, 256, 1};
///   auto arena_size = model->ArenaSize(limits);
///   auto interpreter = qgnn::Interpreter::Create(*model, limits, arena, *arena_size);
///   qgnn::Error e = interpreter->Setup(graph);
///   if (e.ok()) e = interpreter->Invoke();
///   int32_t cls;
///   if (e.ok()) e = interpreter->Argmax(&cls, 1);
/// @endcode
#ifndef QGNN_QGNN_HPP_
#define QGNN_QGNN_HPP_

#include <stddef.h>
#include <stdint.h>

#include <utility>

#include "qgnn/qgnn.h"

namespace qgnn {

/// Status and message of a call; `ok()` when the status is QGNN_OK.
class Error {
 public:
  /// A success value.
  Error() noexcept {
    error_.status = QGNN_OK;
    error_.message[0] = '\0';
  }
  /// A status without message detail (the message is the status name).
  explicit Error(qgnn_status status) noexcept : Error() {
    error_.status = status;
    if (status != QGNN_OK) Copy(qgnn_status_name(status));
  }

  bool ok() const noexcept { return error_.status == QGNN_OK; }
  explicit operator bool() const noexcept { return ok(); }
  /// The status code.
  qgnn_status status() const noexcept { return error_.status; }
  /// Stable name of the status, e.g. "QGNN_INVALID_GRAPH".
  const char* name() const noexcept { return qgnn_status_name(error_.status); }
  /// Human-readable detail ("" on success).
  const char* message() const noexcept { return error_.message; }
  /// The underlying C struct, to pass to C API calls.
  qgnn_error* raw() noexcept { return &error_; }
  const qgnn_error* raw() const noexcept { return &error_; }

 private:
  void Copy(const char* text) noexcept {
    size_t i = 0;
    for (; text[i] != '\0' && i + 1 < sizeof(error_.message); ++i) error_.message[i] = text[i];
    error_.message[i] = '\0';
  }
  qgnn_error error_;
};

/// A value or an Error. `T` must be default-constructible and movable.
template <typename T>
class Result {
 public:
  /// A successful result.
  Result(T value) noexcept : value_(std::move(value)) {}  // NOLINT(runtime/explicit)
  /// A failed result.
  Result(Error error) noexcept : error_(error) {}  // NOLINT(runtime/explicit)

  bool ok() const noexcept { return error_.ok(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const noexcept { return error_; }
  qgnn_status status() const noexcept { return error_.status(); }

  /// The value (meaningful only when ok()).
  T& value() & noexcept { return value_; }
  const T& value() const& noexcept { return value_; }
  T&& value() && noexcept { return std::move(value_); }
  T& operator*() & noexcept { return value_; }
  const T& operator*() const& noexcept { return value_; }
  T&& operator*() && noexcept { return std::move(value_); }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }

 private:
  T value_{};
  Error error_;
};

/// The layer kinds an application links (qgnn_op_resolver), filled fluently, tflite-micro style:
///   qgnn::OpResolver<3> ops;
///   ops.AddGinConv().AddGlobalPool().AddLinear();
///   auto model = qgnn::Model::Create(data, size, ops);
/// Holds at most kCapacity ops; an Add past it, or of an op already listed, is ignored and remembered
/// (ok() turns false), so a firmware can check its resolver once.
template <size_t kCapacity>
class OpResolver {
 public:
  OpResolver& Add(const qgnn_op* op) noexcept {
    for (size_t i = 0; i < count_; ++i) {
      if (ops_[i] == op) return *this;
    }
    if (op == nullptr || count_ == kCapacity) {
      ok_ = false;
      return *this;
    }
    ops_[count_++] = op;
    return *this;
  }
  OpResolver& AddLinear() noexcept { return Add(qgnn_op_linear()); }
  OpResolver& AddGcnConv() noexcept { return Add(qgnn_op_gcn_conv()); }
  OpResolver& AddSageConv() noexcept { return Add(qgnn_op_sage_conv()); }
  OpResolver& AddGinConv() noexcept { return Add(qgnn_op_gin_conv()); }
  OpResolver& AddGlobalPool() noexcept { return Add(qgnn_op_global_pool()); }
  OpResolver& AddGatConv() noexcept { return Add(qgnn_op_gat_conv()); }

  /// False when an Add overflowed the capacity or passed NULL.
  bool ok() const noexcept { return ok_; }
  size_t size() const noexcept { return count_; }
  /// The C view (valid while this object lives).
  qgnn_op_resolver get() const noexcept { return qgnn_op_resolver{ops_, count_}; }

 private:
  const qgnn_op* ops_[kCapacity > 0 ? kCapacity : 1] = {};
  size_t count_ = 0;
  bool ok_ = true;
};

/// Interpreter options (qgnn_interpreter_options), with every field settable fluently:
///   qgnn::InterpreterOptions().Threads(4).Isa("avx2").Fp32("reference").SpinWorkers(true)
/// The strings are not copied: they must outlive Interpreter::Create.
class InterpreterOptions {
 public:
  InterpreterOptions() noexcept { qgnn_interpreter_options_init(&options_); }
  InterpreterOptions& Threads(uint32_t num_threads) noexcept {
    options_.num_threads = num_threads;
    return *this;
  }
  InterpreterOptions& Isa(const char* isa) noexcept {
    options_.isa = isa;
    return *this;
  }
  InterpreterOptions& Fp32(const char* backend) noexcept {
    options_.fp32 = backend;
    return *this;
  }
  InterpreterOptions& SpinWorkers(bool spin) noexcept {
    options_.spin_workers = spin ? 1 : 0;
    return *this;
  }
  const qgnn_interpreter_options& get() const noexcept { return options_; }

 private:
  qgnn_interpreter_options options_;
};

/// A verified, loaded model (owns a qgnn_model*). The model buffer is not copied: keep it alive and
/// unchanged for the lifetime of the Model.
class Model {
 public:
  /// An empty model (valid() is false).
  Model() noexcept = default;
  Model(Model&& other) noexcept : model_(other.release()) {}
  Model& operator=(Model&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() { reset(nullptr); }

  /// Verifies and loads `size` bytes at `data` (16-byte aligned). See qgnn_model_create.
  static Result<Model> Create(const void* data, size_t size) noexcept {
    Error error;
    qgnn_model* model = nullptr;
    if (qgnn_model_create(data, size, &model, error.raw()) != QGNN_OK) return Result<Model>(error);
    return Result<Model>(Model(model));
  }

  /// Same, running only the layer kinds `resolver` lists. See qgnn_model_create_with_ops.
  template <size_t kCapacity>
  static Result<Model> Create(const void* data, size_t size, const OpResolver<kCapacity>& resolver) noexcept {
    Error error;
    qgnn_model* model = nullptr;
    const qgnn_op_resolver ops = resolver.get();
    if (qgnn_model_create_with_ops(data, size, &ops, &model, error.raw()) != QGNN_OK)
      return Result<Model>(error);
    return Result<Model>(Model(model));
  }

  /// Takes ownership of a handle from qgnn_model_create.
  explicit Model(qgnn_model* model) noexcept : model_(model) {}

  bool valid() const noexcept { return model_ != nullptr; }
  const qgnn_model* get() const noexcept { return model_; }
  /// Gives up ownership.
  qgnn_model* release() noexcept {
    qgnn_model* m = model_;
    model_ = nullptr;
    return m;
  }

  /// Facts about the model (all zero for an empty Model).
  qgnn_model_info Info() const noexcept {
    qgnn_model_info info{};
    if (model_ != nullptr) qgnn_model_get_info(model_, &info);
    return info;
  }
  /// Per-column input scales (Info().input_dim of them), or nullptr. See qgnn_model_input_column_scales.
  const float* InputColumnScales() const noexcept { return qgnn_model_input_column_scales(model_); }
  /// Name of class `index` ("" when absent).
  const char* ClassName(uint32_t index) const noexcept { return qgnn_model_class_name(model_, index); }
  /// Arena bytes an interpreter needs for `limits`. See qgnn_arena_size.
  Result<size_t> ArenaSize(const qgnn_plan_limits& limits) const noexcept {
    Error error;
    size_t bytes = 0;
    if (qgnn_arena_size(model_, &limits, &bytes, error.raw()) != QGNN_OK) return Result<size_t>(error);
    return Result<size_t>(bytes);
  }

 private:
  void reset(qgnn_model* model) noexcept {
    if (model_ != nullptr) qgnn_model_delete(model_);
    model_ = model;
  }
  qgnn_model* model_ = nullptr;
};

/// An interpreter over a caller-owned arena (owns a qgnn_interpreter*). The Model and the arena must outlive
/// it. One thread at a time.
class Interpreter {
 public:
  /// An empty interpreter (valid() is false).
  Interpreter() noexcept = default;
  Interpreter(Interpreter&& other) noexcept : interpreter_(other.release()) {}
  Interpreter& operator=(Interpreter&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;
  ~Interpreter() { reset(nullptr); }

  /// Plans `arena` (at least model.ArenaSize(limits) bytes) for `limits`, with `num_threads` threads.
  /// See qgnn_interpreter_create.
  static Result<Interpreter> Create(const Model& model, const qgnn_plan_limits& limits, void* arena,
                                    size_t arena_bytes, uint32_t num_threads = 1) noexcept {
    return Create(model, limits, arena, arena_bytes, InterpreterOptions().Threads(num_threads));
  }
  /// Same, with every option. See qgnn_interpreter_options.
  static Result<Interpreter> Create(const Model& model, const qgnn_plan_limits& limits, void* arena,
                                    size_t arena_bytes, const InterpreterOptions& options) noexcept {
    Error error;
    qgnn_interpreter* interpreter = nullptr;
    if (qgnn_interpreter_create(model.get(), &limits, arena, arena_bytes, &options.get(), &interpreter,
                                error.raw()) != QGNN_OK) {
      return Result<Interpreter>(error);
    }
    return Result<Interpreter>(Interpreter(interpreter));
  }

  /// Takes ownership of a handle from qgnn_interpreter_create.
  explicit Interpreter(qgnn_interpreter* interpreter) noexcept : interpreter_(interpreter) {}

  bool valid() const noexcept { return interpreter_ != nullptr; }
  qgnn_interpreter* get() const noexcept { return interpreter_; }
  /// Gives up ownership.
  qgnn_interpreter* release() noexcept {
    qgnn_interpreter* i = interpreter_;
    interpreter_ = nullptr;
    return i;
  }

  /// Validates and binds a graph. See qgnn_interpreter_setup.
  Error Setup(const qgnn_graph& graph) noexcept {
    Error error;
    qgnn_interpreter_setup(interpreter_, &graph, error.raw());
    return error;
  }
  /// Validates and binds a graph with sparse features. See qgnn_interpreter_setup_sparse.
  Error SetupSparse(const qgnn_graph& graph, const qgnn_sparse_features& features) noexcept {
    Error error;
    qgnn_interpreter_setup_sparse(interpreter_, &graph, &features, error.raw());
    return error;
  }
  /// Runs the model on the bound graph; no heap allocation. See qgnn_interpreter_invoke.
  Error Invoke() noexcept {
    Error error;
    qgnn_interpreter_invoke(interpreter_, error.raw());
    return error;
  }
  /// The last output (pointers valid until the next Setup/Invoke).
  Result<qgnn_output> Output() const noexcept {
    qgnn_output output{};
    const qgnn_status status = qgnn_interpreter_output(interpreter_, &output);
    if (status != QGNN_OK) return Result<qgnn_output>(Error(status));
    return Result<qgnn_output>(output);
  }
  /// Dequantized (or float) logits into out[0, count).
  Error OutputFloat(float* out, size_t count) const noexcept {
    return Error(qgnn_interpreter_output_float(interpreter_, out, count));
  }
  /// Predicted class of each output row into out[0, count).
  Error Argmax(int32_t* out, size_t count) const noexcept {
    return Error(qgnn_interpreter_argmax(interpreter_, out, count));
  }

 private:
  void reset(qgnn_interpreter* interpreter) noexcept {
    if (interpreter_ != nullptr) qgnn_interpreter_delete(interpreter_);
    interpreter_ = interpreter;
  }
  qgnn_interpreter* interpreter_ = nullptr;
};

}  // namespace qgnn

#endif  // QGNN_QGNN_HPP_
