// Reading a whole file into a 16-byte aligned buffer (the runtime reads models in place, zero copy).
#ifndef QGNN_TOOLS_COMMON_FILE_H_
#define QGNN_TOOLS_COMMON_FILE_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace qgnn {
namespace tools {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

/// File contents in memory aligned to 16 bytes (at least 16 bytes allocated, so an empty file too).
struct AlignedBuffer {
  std::unique_ptr<uint8_t, FreeDeleter> data;
  size_t size = 0;
};

/// Read `path` whole. On failure returns false and sets `error` ("cannot open model.qgnn: No such file...").
bool read_file_aligned(const std::string& path, AlignedBuffer* out, std::string* error);

/// A 16-byte aligned, zero-initialised block of `bytes` (at least 16), or null when allocation fails.
std::unique_ptr<uint8_t, FreeDeleter> allocate_aligned(size_t bytes);

}  // namespace tools
}  // namespace qgnn

#endif  // QGNN_TOOLS_COMMON_FILE_H_
