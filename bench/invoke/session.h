// One model + interpreter + bound input graph through the runtime's C API (include/qgnn/qgnn.h), ready
// for qgnn_interpreter_invoke: what an application does once before serving requests.
#ifndef QGNN_BENCH_INVOKE_SESSION_H_
#define QGNN_BENCH_INVOKE_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/converter/dataset.h"
#include "qgnn/qgnn.h"

namespace qgnn {
namespace bench {

class Session {
 public:
  Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// Copies the model into a 16-byte aligned buffer, loads it, plans an arena for exactly `batch`, creates
  /// a single-threaded interpreter and binds `batch` (qgnn_interpreter_setup). `batch` must outlive the
  /// session. Returns false with `error` set on any failure.
  bool open(const std::vector<uint8_t>& model_bytes, const converter::GraphBatch& batch, std::string* error);

  /// One inference on the bound graph.
  qgnn_status invoke(qgnn_error* error) { return qgnn_interpreter_invoke(interpreter_, error); }

  size_t arena_bytes() const { return arena_bytes_; }
  size_t model_bytes() const { return model_bytes_; }
  size_t parameter_bytes() const { return parameter_bytes_; }

 private:
  // The runtime reads the model in place and wants 16-byte aligned model and arena buffers.
  struct alignas(16) Block {
    uint8_t bytes[16];
  };

  std::vector<Block> model_data_;
  std::vector<Block> arena_;
  qgnn_model* model_ = nullptr;
  qgnn_interpreter* interpreter_ = nullptr;
  size_t arena_bytes_ = 0;
  size_t model_bytes_ = 0;
  size_t parameter_bytes_ = 0;
};

}  // namespace bench
}  // namespace qgnn

#endif  // QGNN_BENCH_INVOKE_SESSION_H_
