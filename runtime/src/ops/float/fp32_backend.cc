// Fp32 dense backend selection and the XNNPACK operator set (see fp32_backend.h).
#include "fp32_backend.h"

#include <cstring>
#include <new>

#if defined(QGNN_XNNPACK_BACKEND)
#include "qgnn/xnnpack/xnnpack.h"
#endif

namespace qgnn {
namespace runtime {

const char* Fp32BackendName(Fp32Backend backend) {
  return backend == Fp32Backend::kXnnpack ? "xnnpack" : "reference";
}

namespace {

bool XnnpackAvailable() {
#if defined(QGNN_XNNPACK_BACKEND)
  return xnnpack::available();
#else
  return false;
#endif
}

}  // namespace

Fp32Choice SelectFp32Backend(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    return {true, XnnpackAvailable() ? Fp32Backend::kXnnpack : Fp32Backend::kReference, nullptr};
  }
  if (std::strcmp(name, "reference") == 0) return {true, Fp32Backend::kReference, nullptr};
  if (std::strcmp(name, "xnnpack") == 0) {
    if (XnnpackAvailable()) return {true, Fp32Backend::kXnnpack, nullptr};
    return {false, Fp32Backend::kReference, "XNNPACK is not available in this build or on this CPU"};
  }
  return {false, Fp32Backend::kReference, "unknown FP32 backend (expected \"reference\" or \"xnnpack\")"};
}

#if defined(QGNN_XNNPACK_BACKEND)

XnnDenseSet::~XnnDenseSet() { delete[] ops_; }

qgnn_status XnnDenseSet::Create(const qgnn_model& model, ErrorReporter& reporter) {
  if (model.quantized || model.num_denses == 0) return QGNN_OK;
  ops_ = new (std::nothrow) xnnpack::DenseF32[model.num_denses];
  if (ops_ == nullptr) return reporter.Report(QGNN_OUT_OF_MEMORY, "out of memory for the XNNPACK operators");
  count_ = model.num_denses;
  for (uint32_t i = 0; i < model.num_denses; ++i) {
    const DenseParams& dense = *model.denses[i];
    // The operator fuses ReLU only when nothing comes between the product and the activation.
    const bool fused_relu = dense.relu && dense.bn_mean == nullptr && dense.extra == nullptr;
    if (!ops_[i].Create(dense.in_features, dense.out_features, dense.weight_f, dense.bias_f, fused_relu)) {
      return reporter.Report(QGNN_OUT_OF_MEMORY,
                             "Dense %" PRIu32 ": XNNPACK cannot create a %" PRId32 " x %" PRId32
                             " fully connected operator",
                             i, dense.in_features, dense.out_features);
    }
  }
  return QGNN_OK;
}

const xnnpack::DenseF32* XnnDenseSet::Find(const DenseParams& dense) const {
  if (ops_ == nullptr || dense.id >= count_) return nullptr;
  const xnnpack::DenseF32* op = &ops_[dense.id];
  return op->created() ? op : nullptr;
}

#else  // no XNNPACK backend in this build (bare metal)

XnnDenseSet::~XnnDenseSet() = default;
qgnn_status XnnDenseSet::Create(const qgnn_model&, ErrorReporter&) { return QGNN_OK; }
const xnnpack::DenseF32* XnnDenseSet::Find(const DenseParams&) const { return nullptr; }

#endif

}  // namespace runtime
}  // namespace qgnn
