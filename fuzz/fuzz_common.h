// Helpers shared by the fuzz targets: aligned exact-size copies, invariant checks that abort (so libFuzzer
// records a crash), output checks.
#ifndef QGNN_FUZZ_FUZZ_COMMON_H_
#define QGNN_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qgnn/qgnn.h"

namespace qgnn {
namespace fuzz {

/// `size` bytes at a 16-byte aligned address, allocated with exactly that size so ASan sees overreads.
class AlignedCopy {
 public:
  AlignedCopy(const uint8_t* data, size_t size);
  ~AlignedCopy();
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;
  const uint8_t* data() const { return data_; }

 private:
  uint8_t* data_;
};

/// Aborts with `what` and the error's status and message when `ok` is false: a broken invariant is a finding.
void require(bool ok, const char* what, const qgnn_error& error);

/// Output, float output and argmax must all succeed after an invoke, with argmax in [0, classes).
void check_outputs(const qgnn_interpreter* interpreter, uint32_t classes);

/// Reads a whole file; empty on failure.
std::vector<uint8_t> read_file(const std::string& path);

/// Directory holding the bundled models: $QGNN_FUZZ_MODELS, else the source tree's models/.
std::string models_dir();

}  // namespace fuzz
}  // namespace qgnn

#endif  // QGNN_FUZZ_FUZZ_COMMON_H_
