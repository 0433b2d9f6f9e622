// The density probe of dense float input (input_probe.h).
#include "input_probe.h"

#include <cstring>

namespace qgnn {
namespace runtime {

namespace {

// Bytes of the CSR of `rows` rows at the auto threshold, with the gather's slack (GatherSparseTile's layout).
size_t GatherBytes(int32_t rows, int32_t cols) {
  const size_t nnz = static_cast<size_t>(int64_t{rows} * cols / kProbeDensityDivisor + kernels::kGatherSlack);
  return (static_cast<size_t>(rows) + 1) * sizeof(int32_t) + nnz * (sizeof(int32_t) + sizeof(float));
}

}  // namespace

size_t StreamSlotBytes(int32_t rows, int32_t cols, size_t row_bytes, bool probed) {
  const size_t chunk = static_cast<size_t>(rows) * row_bytes;
  if (!probed) return (chunk + 7) & ~static_cast<size_t>(7);
  const size_t gather = GatherBytes(rows, cols);
  const size_t bytes = chunk > gather ? chunk : gather;
  return (bytes + 7) & ~static_cast<size_t>(7);
}

int32_t ProbeTileRows(int32_t cols, size_t slot_bytes, int32_t min_rows) {
  int32_t rows = min_rows;
  while (rows < kProbeRowsMax && GatherBytes(rows + 1, cols) <= slot_bytes) ++rows;
  return rows;
}

bool ParseInputProbe(const char* text, InputProbe* out) {
  if (text == nullptr || text[0] == '\0' || std::strcmp(text, "auto") == 0) {
    *out = InputProbe::kAuto;
  } else if (std::strcmp(text, "dense") == 0) {
    *out = InputProbe::kDense;
  } else if (std::strcmp(text, "sparse") == 0) {
    *out = InputProbe::kSparse;
  } else {
    return false;
  }
  return true;
}

int64_t ProbeLimit(InputProbe probe, int32_t rows, int32_t cols) {
  const int64_t elements = int64_t{rows} * cols;
  switch (probe) {
    case InputProbe::kDense:
      return 0;
    case InputProbe::kSparse:
      return elements;
    case InputProbe::kAuto:
    default:
      return elements / kProbeDensityDivisor;
  }
}

bool GatherSparseTile(const kernels::KernelTable& kernels, const float* in, int32_t cols, int32_t rows,
                      int64_t max_nnz, void* scratch, size_t scratch_bytes, GatheredTile* out) {
  if (max_nnz <= 0 || rows <= 0 || cols <= 0 || kernels.gather_nonzeros_f32 == nullptr) return false;
  const size_t head = (static_cast<size_t>(rows) + 1) * sizeof(int32_t);
  const size_t pair = sizeof(int32_t) + sizeof(float);
  if (scratch_bytes <= head + static_cast<size_t>(kernels::kGatherSlack) * pair) return false;
  // col_idx and values after row_ptr, each with the kernel's slack past the limit.
  const int64_t capacity = static_cast<int64_t>((scratch_bytes - head) / pair);
  const int64_t stop =
      max_nnz < capacity - kernels::kGatherSlack ? max_nnz : capacity - kernels::kGatherSlack;
  int32_t* row_ptr = static_cast<int32_t*>(scratch);
  int32_t* col_idx = row_ptr + rows + 1;
  float* values = reinterpret_cast<float*>(col_idx + capacity);
  if (kernels.gather_nonzeros_f32(in, cols, rows, stop, row_ptr, col_idx, values) < 0) return false;
  out->sparse = kernels::SparseRows{row_ptr, col_idx, values};
  out->rows = rows;
  return true;
}

}  // namespace runtime
}  // namespace qgnn
