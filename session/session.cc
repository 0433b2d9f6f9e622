// qgnn::session (include/qgnn/session.hpp): the host-side load / plan / bind / invoke / read sequence over
// the public API only (qgnn.h / qgnn.hpp), so it stays what an application can do.
#include "qgnn/session.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace qgnn {
namespace session {
namespace {

template <typename T>
Result<T> runtime_failure(const char* step, const qgnn::Error& e) {
  Result<T> r;
  r.status = e.status();
  r.message = e.message();
  r.error = std::string(step) + ": " + e.name() + (r.message.empty() ? "" : ": " + r.message);
  return r;
}

// A failure outside the runtime (a file, a call out of order): status stays QGNN_OK.
template <typename T>
Result<T> host_failure(std::string message) {
  Result<T> r;
  r.error = std::move(message);
  return r;
}

// A failure of one step passed on as the result of another.
template <typename T, typename U>
Result<T> pass_on(const Result<U>& failed) {
  Result<T> r;
  r.status = failed.status;
  r.error = failed.error;
  r.message = failed.message;
  return r;
}

std::string out_of_memory(const std::string& what, size_t bytes) {
  return "out of memory for " + what + " (" + std::to_string(bytes) + " bytes)";
}

Result<bool> done() {
  Result<bool> r;
  r.value = true;
  return r;
}

}  // namespace

qgnn_plan_limits limits_of(const qgnn_graph& graph) {
  return qgnn_plan_limits{std::max(graph.num_nodes, 1u), std::max(graph.num_edges, 1u),
                          std::max(graph.num_graphs, 1u)};
}

qgnn_plan_limits cover(const qgnn_plan_limits& a, const qgnn_plan_limits& b) {
  return qgnn_plan_limits{std::max(a.max_nodes, b.max_nodes), std::max(a.max_edges, b.max_edges),
                          std::max(a.max_graphs, b.max_graphs)};
}

void Session::AlignedDelete::operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(16)); }

Session::Bytes Session::allocate(size_t size) {
  // At least one byte, so an empty model still has an address (the runtime rejects it itself).
  const size_t n = std::max<size_t>(size, 1);
  Bytes bytes(static_cast<uint8_t*>(::operator new[](n, std::align_val_t(16), std::nothrow)));
  if (bytes) std::memset(bytes.get(), 0, n);
  return bytes;
}

Session::~Session() {
  // The interpreter reads the arena and the model, the model reads its bytes: release in that order.
  interpreter_ = qgnn::Interpreter();
  model_ = qgnn::Model();
}

Session::Session(Session&& other) noexcept { *this = std::move(other); }

Session& Session::operator=(Session&& other) noexcept {
  if (this == &other) return *this;
  interpreter_ = qgnn::Interpreter();
  model_ = qgnn::Model();
  // The handles point into heap blocks that move with their owners.
  model_data_ = std::move(other.model_data_);
  model_size_ = other.model_size_;
  model_ = std::move(other.model_);
  info_ = other.info_;
  arena_ = std::move(other.arena_);
  arena_size_ = other.arena_size_;
  limits_ = other.limits_;
  interpreter_ = std::move(other.interpreter_);
  return *this;
}

Result<Session> Session::verified(Result<Session> r) {
  auto model = qgnn::Model::Create(r.value.model_data_.get(), r.value.model_size_);
  if (!model.ok()) return runtime_failure<Session>("qgnn_model_create", model.error());
  r.value.model_ = std::move(*model);
  r.value.info_ = r.value.model_.Info();
  return r;
}

Result<Session> Session::load(const void* data, size_t size) {
  if (data == nullptr && size > 0) return host_failure<Session>("qgnn_model_create: no model bytes");
  Result<Session> r;
  r.value.model_data_ = allocate(size);
  if (!r.value.model_data_) return host_failure<Session>(out_of_memory("the model", size));
  if (size > 0) std::memcpy(r.value.model_data_.get(), data, size);
  r.value.model_size_ = size;
  return verified(std::move(r));
}

Result<Session> Session::load(const std::vector<uint8_t>& bytes) { return load(bytes.data(), bytes.size()); }

Result<Session> Session::load_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return host_failure<Session>("cannot open " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return host_failure<Session>(path + " is not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return host_failure<Session>("cannot open " + path + ": " + std::strerror(errno));
  const size_t size = static_cast<size_t>(st.st_size);
  Result<Session> r;
  r.value.model_data_ = allocate(size);
  if (!r.value.model_data_) {
    std::fclose(f);
    return host_failure<Session>(out_of_memory(path, size));
  }
  r.value.model_size_ = size;
  const size_t got = size == 0 ? 0 : std::fread(r.value.model_data_.get(), 1, size, f);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (got != size || read_error) {
    return host_failure<Session>("cannot read " + path + ": short read (" + std::to_string(got) + " of " +
                                 std::to_string(size) + " bytes)");
  }
  return verified(std::move(r));
}

Result<size_t> Session::arena_size(const qgnn_plan_limits& limits, const std::string& isa) const {
  if (!loaded()) return host_failure<size_t>("qgnn_arena_size: no model loaded");
  Result<size_t> r;
  if (isa.empty()) {
    auto bytes = model_.ArenaSize(limits);
    if (!bytes.ok()) return runtime_failure<size_t>("qgnn_arena_size", bytes.error());
    r.value = *bytes;
    return r;
  }
  qgnn_interpreter_options options;
  qgnn_interpreter_options_init(&options);
  options.isa = isa.c_str();
  qgnn::Error error;
  if (qgnn_arena_size_for_options(model_.get(), &limits, &options, &r.value, error.raw()) != QGNN_OK) {
    return runtime_failure<size_t>("qgnn_arena_size_for_options", error);
  }
  return r;
}

Result<bool> Session::plan(const qgnn_plan_limits& limits, const Options& options) {
  // A failed plan leaves no interpreter and no arena behind.
  interpreter_ = qgnn::Interpreter();
  arena_.reset();
  arena_size_ = 0;
  limits_ = qgnn_plan_limits{};
  const Result<size_t> bytes = arena_size(limits);
  if (!bytes.ok()) return pass_on<bool>(bytes);
  arena_ = allocate(bytes.value);
  if (!arena_) return host_failure<bool>(out_of_memory("an arena", bytes.value));
  arena_size_ = bytes.value;
  limits_ = limits;
  // The one place interpreter options are built: from the runtime's defaults (which set the struct's size).
  qgnn_interpreter_options o;
  qgnn_interpreter_options_init(&o);
  o.num_threads = options.threads;
  o.isa = options.isa.empty() ? nullptr : options.isa.c_str();
  o.fp32 = options.fp32.empty() ? nullptr : options.fp32.c_str();
  o.spin_workers = options.spin_workers ? 1 : 0;
  qgnn::Error error;
  qgnn_interpreter* interpreter = nullptr;
  if (qgnn_interpreter_create(model_.get(), &limits, arena_.get(), arena_size_, &o, &interpreter,
                              error.raw()) != QGNN_OK) {
    arena_.reset();
    arena_size_ = 0;
    limits_ = qgnn_plan_limits{};
    return runtime_failure<bool>("qgnn_interpreter_create", error);
  }
  interpreter_ = qgnn::Interpreter(interpreter);
  return done();
}

const char* Session::isa() const {
  return interpreter_.valid() ? qgnn_interpreter_isa(interpreter_.get()) : "";
}

Result<bool> Session::bind(const qgnn_graph& graph) {
  if (!interpreter_.valid()) return host_failure<bool>("qgnn_interpreter_setup: no plan (call plan first)");
  const qgnn::Error e = interpreter_.Setup(graph);
  if (!e.ok()) return runtime_failure<bool>("qgnn_interpreter_setup", e);
  return done();
}

Result<bool> Session::bind_sparse(const qgnn_graph& graph, const qgnn_sparse_features& features) {
  if (!interpreter_.valid()) {
    return host_failure<bool>("qgnn_interpreter_setup_sparse: no plan (call plan first)");
  }
  const qgnn::Error e = interpreter_.SetupSparse(graph, features);
  if (!e.ok()) return runtime_failure<bool>("qgnn_interpreter_setup_sparse", e);
  return done();
}

Result<bool> Session::invoke() {
  if (!interpreter_.valid()) return host_failure<bool>("qgnn_interpreter_invoke: no plan (call plan first)");
  const qgnn::Error e = interpreter_.Invoke();
  if (!e.ok()) return runtime_failure<bool>("qgnn_interpreter_invoke", e);
  return done();
}

Result<bool> Session::run(const qgnn_graph& graph) {
  Result<bool> r = bind(graph);
  return r.ok() ? invoke() : r;
}

Result<qgnn_output> Session::output() const {
  if (!interpreter_.valid()) return host_failure<qgnn_output>("qgnn_interpreter_output: no plan");
  auto out = interpreter_.Output();
  if (!out.ok()) return runtime_failure<qgnn_output>("qgnn_interpreter_output", out.error());
  Result<qgnn_output> r;
  r.value = *out;
  return r;
}

Result<bool> Session::argmax(int32_t* out, size_t count) const {
  if (!interpreter_.valid()) return host_failure<bool>("qgnn_interpreter_argmax: no plan");
  const qgnn::Error e = interpreter_.Argmax(out, count);
  if (!e.ok()) return runtime_failure<bool>("qgnn_interpreter_argmax", e);
  return done();
}

Result<Outputs> Session::outputs() const {
  const Result<qgnn_output> view = output();
  if (!view.ok()) return pass_on<Outputs>(view);
  Result<Outputs> r;
  Outputs& o = r.value;
  const qgnn_output& v = view.value;
  const size_t count = static_cast<size_t>(v.rows) * v.cols;
  o.rows = v.rows;
  o.cols = v.cols;
  o.scale = v.scale;
  o.zero_point = v.zero_point;
  if (v.logits_q != nullptr) o.logits_q.assign(v.logits_q, v.logits_q + count);
  o.logits.assign(count, 0.0f);
  const qgnn::Error floats = interpreter_.OutputFloat(o.logits.data(), count);
  if (!floats.ok()) return runtime_failure<Outputs>("qgnn_interpreter_output_float", floats);
  o.argmax.assign(v.rows, -1);
  const Result<bool> classes = argmax(o.argmax.data(), o.argmax.size());
  if (!classes.ok()) return pass_on<Outputs>(classes);
  return r;
}

}  // namespace session
}  // namespace qgnn
