// Whole-file read and atomic write (temporary file in the target's directory, fsync, rename), so a
// crash or a full disk never leaves a truncated model or data set under the target name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "qgnn/converter/model_builder.h"

namespace qgnn {
namespace converter {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Creates a fresh temporary file next to `path` (O_EXCL, mode 0666 & ~umask like a plain create).
int create_temporary(const std::string& path, std::string* temp_path) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    *temp_path = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    const int fd = ::open(temp_path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

Result<bool> write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  using R = Result<bool>;
  if (path.empty()) return R::failure("cannot write: empty output path");
  std::string temp_path;
  const int fd = create_temporary(path, &temp_path);
  if (fd < 0) return R::failure("cannot create a temporary file for " + path + ": " + errno_text());
  std::string failure;
  if (!write_all(fd, bytes.data(), bytes.size())) {
    failure = "cannot write " + temp_path + ": " + errno_text();
  } else if (::fsync(fd) != 0) {
    failure = "cannot fsync " + temp_path + ": " + errno_text();
  }
  if (::close(fd) != 0 && failure.empty()) failure = "cannot close " + temp_path + ": " + errno_text();
  if (failure.empty() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    failure = "cannot rename " + temp_path + " to " + path + ": " + errno_text();
  }
  if (!failure.empty()) {
    ::unlink(temp_path.c_str());
    return R::failure(failure);
  }
  // Persist the rename itself; best effort (some file systems refuse fsync on directories).
  const int dir_fd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  R r;
  r.value = true;
  return r;
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  using R = Result<std::vector<uint8_t>>;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return R::failure("cannot open " + path + ": " + errno_text());
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return R::failure("cannot read " + path + ": not a regular file");
  }
  R r;
  r.value.reserve(static_cast<size_t>(info.st_size));
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string message = "cannot read " + path + ": " + errno_text();
      ::close(fd);
      return R::failure(message);
    }
    if (n == 0) break;
    r.value.insert(r.value.end(), chunk, chunk + n);
  }
  ::close(fd);
  return r;
}

}  // namespace converter
}  // namespace qgnn
