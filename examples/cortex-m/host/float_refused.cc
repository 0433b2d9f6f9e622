// Check of the integer-only runtime (QGNN_FLOAT_MODELS=OFF) on a host, run by scripts/ci_cortex_m.sh: a
// float model must be refused at qgnn_model_create with QGNN_UNSUPPORTED_LAYER and the build's message, and a
// quantized model must still load. The firmwares cannot show the refusal themselves (they embed only INT8
// models), and the host twin's graph lines already prove quantized results unchanged.
//
// Usage: qgnn-fw-float-refused FLOAT_MODEL.qgnn QUANTIZED_MODEL.qgnn   exit 0 when both behave.
#include <qgnn/qgnn.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

// The runtime reads models in place and requires 16-byte aligned buffers.
struct alignas(16) Block {
  uint8_t bytes[16];
};

bool ReadFile(const char* path, std::vector<Block>* blocks, size_t* size) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) return false;
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  const bool ok = std::ferror(file) == 0;
  std::fclose(file);
  blocks->assign((bytes.size() + sizeof(Block) - 1) / sizeof(Block), Block{});
  if (!bytes.empty()) std::memcpy(blocks->data(), bytes.data(), bytes.size());
  *size = bytes.size();
  return ok;
}

// Creates the model at `path`; returns its status and fills `error`.
qgnn_status Create(const char* path, qgnn_error* error) {
  std::vector<Block> blocks;
  size_t size = 0;
  if (!ReadFile(path, &blocks, &size)) {
    std::fprintf(stderr, "qgnn-fw-float-refused: cannot read %s\n", path);
    return QGNN_INVALID_ARGUMENT;
  }
  qgnn_model* model = nullptr;
  const qgnn_status status = qgnn_model_create(blocks.data(), size, &model, error);
  qgnn_model_delete(model);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: qgnn-fw-float-refused FLOAT_MODEL.qgnn QUANTIZED_MODEL.qgnn\n");
    return 2;
  }
  static const char kExpected[] = "float models are not supported by this build (QGNN_FLOAT_MODELS=OFF)";
  qgnn_error error{};
  const qgnn_status float_status = Create(argv[1], &error);
  std::printf("float model %s: %s: %s\n", argv[1], qgnn_status_name(float_status), error.message);
  const bool refused = float_status == QGNN_UNSUPPORTED_LAYER && std::strcmp(error.message, kExpected) == 0;

  error = qgnn_error{};
  const qgnn_status quantized_status = Create(argv[2], &error);
  std::printf("quantized model %s: %s\n", argv[2], qgnn_status_name(quantized_status));
  if (!refused)
    std::fprintf(stderr, "qgnn-fw-float-refused: expected QGNN_UNSUPPORTED_LAYER: %s\n", kExpected);
  if (quantized_status != QGNN_OK) std::fprintf(stderr, "qgnn-fw-float-refused: %s\n", error.message);
  return refused && quantized_status == QGNN_OK ? 0 : 1;
}
