// See fuzz_common.h.
#include "fuzz_common.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>

namespace qgnn {
namespace fuzz {

AlignedCopy::AlignedCopy(const uint8_t* data, size_t size)
    : data_(static_cast<uint8_t*>(::operator new[](size > 0 ? size : 1, std::align_val_t(16)))) {
  if (size > 0) std::memcpy(data_, data, size);
}

AlignedCopy::~AlignedCopy() { ::operator delete[](data_, std::align_val_t(16)); }

void require(bool ok, const char* what, const qgnn_error& error) {
  if (ok) return;
  std::fprintf(stderr, "qgnn fuzz invariant broken: %s (%s: %s)\n", what, qgnn_status_name(error.status),
               error.message);
  std::abort();
}

void check_outputs(const qgnn_interpreter* interpreter, uint32_t classes) {
  const qgnn_error none{};
  qgnn_output out{};
  require(qgnn_interpreter_output(interpreter, &out) == QGNN_OK, "output failed after invoke", none);
  require(out.cols == classes, "output columns differ from the model's classes", none);
  std::vector<float> values(static_cast<size_t>(out.rows) * out.cols + 1);
  require(qgnn_interpreter_output_float(interpreter, values.data(), values.size()) == QGNN_OK,
          "output_float failed after invoke", none);
  std::vector<int32_t> predicted(out.rows + 1);
  require(qgnn_interpreter_argmax(interpreter, predicted.data(), predicted.size()) == QGNN_OK,
          "argmax failed after invoke", none);
  for (uint32_t r = 0; r < out.rows; ++r) {
    require(predicted[r] >= 0 && static_cast<uint32_t>(predicted[r]) < classes, "argmax out of range", none);
  }
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string models_dir() {
  const char* env = std::getenv("QGNN_FUZZ_MODELS");
  return env != nullptr && env[0] != '\0' ? std::string(env) : std::string(QGNN_FUZZ_DEFAULT_MODELS);
}

}  // namespace fuzz
}  // namespace qgnn
