#include "common/file.h"

#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace qgnn {
namespace tools {

std::unique_ptr<uint8_t, FreeDeleter> allocate_aligned(size_t bytes) {
  size_t rounded = bytes < 16 ? 16 : bytes;
  if (rounded > SIZE_MAX - 15) return nullptr;
  rounded = (rounded + 15) & ~size_t{15};
  void* p = std::aligned_alloc(16, rounded);
  if (p != nullptr) std::memset(p, 0, rounded);
  return std::unique_ptr<uint8_t, FreeDeleter>(static_cast<uint8_t*>(p));
}

bool read_file_aligned(const std::string& path, AlignedBuffer* out, std::string* error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + " is not a regular file";
    return false;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  auto data = allocate_aligned(size);
  if (!data) {
    std::fclose(f);
    *error = "out of memory reading " + path + " (" + std::to_string(size) + " bytes)";
    return false;
  }
  const size_t got = size == 0 ? 0 : std::fread(data.get(), 1, size, f);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (got != size || read_error) {
    *error = "cannot read " + path + ": short read (" + std::to_string(got) + " of " + std::to_string(size) +
             " bytes)";
    return false;
  }
  out->data = std::move(data);
  out->size = size;
  return true;
}

}  // namespace tools
}  // namespace qgnn
