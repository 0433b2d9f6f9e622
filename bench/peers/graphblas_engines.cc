// SuiteSparse:GraphBLAS's side of the peer benchmark (built only when CMake found GraphBLAS): C += A·X with C
// full and row-major, which GraphBLAS 7 runs with its in-place saxpy kernel, one thread.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "peer_engines.h"

// GraphBLAS.h declares its C API without extern "C" of its own (it only wraps its complex types in
// extern "C++"), so a C++ caller must wrap the include.
extern "C" {
#include <GraphBLAS.h>
}

namespace qgnn {
namespace bench {
namespace {

void check(GrB_Info info, const char* what) {
  if (info != GrB_SUCCESS) {
    throw std::runtime_error(std::string("GraphBLAS ") + what + " failed (GrB_Info " + std::to_string(info) +
                             ")");
  }
}

// GrB_init once per process, one thread for every later call; QGNN_PEERS_BURBLE=1 prints GraphBLAS's own
// account of the kernel each mxm takes (how to verify the saxpy path and the generic typecasting kernel).
void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    check(GrB_init(GrB_NONBLOCKING), "GrB_init");
    check(GxB_Global_Option_set_INT32(GxB_GLOBAL_NTHREADS, 1), "GxB_Global_Option_set(GxB_NTHREADS, 1)");
    const char* burble = std::getenv("QGNN_PEERS_BURBLE");
    if (burble != nullptr && std::strcmp(burble, "1") == 0) {
      check(GxB_Global_Option_set(GxB_BURBLE, true), "GxB_Global_Option_set(GxB_BURBLE)");
    }
  });
}

// Hands GraphBLAS a malloc'd copy of `bytes` bytes as a full row-major nrows x ncols matrix (pack moves the
// buffer in without copying; GrB_init's default allocator is malloc/free, so GraphBLAS may free it).
void pack_full(GrB_Matrix m, const void* data, size_t bytes) {
  void* buffer = std::malloc(bytes == 0 ? 1 : bytes);
  if (buffer == nullptr) throw std::runtime_error("out of memory for a GraphBLAS matrix");
  if (data != nullptr) {
    std::memcpy(buffer, data, bytes);
  } else {
    std::memset(buffer, 0, bytes);
  }
  GrB_Info info = GxB_Matrix_pack_FullR(m, &buffer, bytes, /*iso=*/false, nullptr);
  if (info != GrB_SUCCESS) std::free(buffer);
  check(info, "GxB_Matrix_pack_FullR");
}

class GraphBlasEngine final : public PeerEngine {
 public:
  GraphBlasEngine(GraphBlasPath path, const CsrData& g, const void* x, int32_t cols)
      : path_(path), graph_(g), cols_(cols) {
    ensure_initialized();
    const bool fp32 = path == GraphBlasPath::kFp32;
    const GrB_Type value_type = fp32 ? GrB_FP32 : GrB_INT32;
    const GrB_Index n = static_cast<GrB_Index>(g.num_nodes);
    const size_t elements = static_cast<size_t>(g.num_nodes) * static_cast<size_t>(cols);
    // A(i, j) = 1 for every CSR edge j -> i; duplicate edges add up (dup = PLUS), as they do in qgnn.
    {
      std::vector<GrB_Index> rows(g.col_idx.size()), sources(g.col_idx.begin(), g.col_idx.end());
      for (int32_t i = 0; i < g.num_nodes; ++i) {
        for (int32_t e = g.row_ptr[i]; e < g.row_ptr[i + 1]; ++e) rows[static_cast<size_t>(e)] = i;
      }
      check(GrB_Matrix_new(&a_, value_type, n, n), "GrB_Matrix_new(A)");
      if (fp32) {
        const std::vector<float> ones(rows.size(), 1.0f);
        check(GrB_Matrix_build_FP32(a_, rows.data(), sources.data(), ones.data(), rows.size(), GrB_PLUS_FP32),
              "GrB_Matrix_build(A)");
      } else {
        const std::vector<int32_t> ones(rows.size(), 1);
        check(
            GrB_Matrix_build_INT32(a_, rows.data(), sources.data(), ones.data(), rows.size(), GrB_PLUS_INT32),
            "GrB_Matrix_build(A)");
      }
      check(GrB_Matrix_wait(a_, GrB_MATERIALIZE), "GrB_Matrix_wait(A)");
    }
    const GrB_Index ncols = static_cast<GrB_Index>(cols);
    switch (path) {
      case GraphBlasPath::kFp32:
        check(GrB_Matrix_new(&x_, GrB_FP32, n, ncols), "GrB_Matrix_new(X)");
        pack_full(x_, x, elements * sizeof(float));
        self_.resize(elements * sizeof(float));
        std::memcpy(self_.data(), x, self_.size());
        break;
      case GraphBlasPath::kInt8Typecast:
        check(GrB_Matrix_new(&x_, GrB_INT8, n, ncols), "GrB_Matrix_new(X)");
        pack_full(x_, x, elements);
        x_int8_ = static_cast<const int8_t*>(x);
        break;
      case GraphBlasPath::kInt32: {
        // The pre-cast: once, outside the timed call (a user who keeps the features as INT32).
        std::vector<int32_t> wide(elements);
        const int8_t* narrow = static_cast<const int8_t*>(x);
        for (size_t k = 0; k < elements; ++k) wide[k] = narrow[k];
        check(GrB_Matrix_new(&x_, GrB_INT32, n, ncols), "GrB_Matrix_new(X)");
        pack_full(x_, wide.data(), elements * sizeof(int32_t));
        self_.resize(elements * sizeof(int32_t));
        std::memcpy(self_.data(), wide.data(), self_.size());
        break;
      }
    }
    check(GrB_Matrix_new(&c_, value_type, n, ncols), "GrB_Matrix_new(C)");
    pack_full(c_, nullptr, elements * 4);
  }

  ~GraphBlasEngine() override {
    GrB_Matrix_free(&c_);
    GrB_Matrix_free(&x_);
    GrB_Matrix_free(&a_);
  }

  std::string key() const override {
    switch (path_) {
      case GraphBlasPath::kFp32:
        return "graphblas_fp32";
      case GraphBlasPath::kInt8Typecast:
        return "graphblas_int8_typecast";
      case GraphBlasPath::kInt32:
        return "graphblas_int32";
    }
    return "graphblas";
  }
  std::string label() const override {
    switch (path_) {
      case GraphBlasPath::kFp32:
        return "GraphBLAS FP32";
      case GraphBlasPath::kInt8Typecast:
        return "GraphBLAS INT8->INT32 (typecast)";
      case GraphBlasPath::kInt32:
        return "GraphBLAS INT32 (pre-cast X)";
    }
    return "GraphBLAS";
  }

  void run() override {
    // C = X (the self term), then C += A·X. The preset is part of the timed work: it is how this engine
    // gets the self term. Unpack / pack move C's buffer out and back without copying.
    void* values = nullptr;
    GrB_Index size = 0;
    bool iso = false;
    check(GxB_Matrix_unpack_FullR(c_, &values, &size, &iso, nullptr), "GxB_Matrix_unpack_FullR(C)");
    if (path_ == GraphBlasPath::kInt8Typecast) {
      int32_t* c = static_cast<int32_t*>(values);
      const size_t elements = static_cast<size_t>(graph_.num_nodes) * static_cast<size_t>(cols_);
      for (size_t k = 0; k < elements; ++k) c[k] = x_int8_[k];
    } else {
      std::memcpy(values, self_.data(), self_.size());
    }
    check(GxB_Matrix_pack_FullR(c_, &values, size, /*iso=*/false, nullptr), "GxB_Matrix_pack_FullR(C)");
    const bool fp32 = path_ == GraphBlasPath::kFp32;
    check(GrB_mxm(c_, nullptr, fp32 ? GrB_PLUS_FP32 : GrB_PLUS_INT32,
                  fp32 ? GrB_PLUS_TIMES_SEMIRING_FP32 : GrB_PLUS_TIMES_SEMIRING_INT32, a_, x_, nullptr),
          "GrB_mxm");
    check(GrB_Matrix_wait(c_, GrB_MATERIALIZE), "GrB_Matrix_wait(C)");
  }

  double bytes() const override {
    const double n = graph_.num_nodes, e = graph_.num_edges();
    const double in_row = (path_ == GraphBlasPath::kInt8Typecast ? 1.0 : 4.0) * cols_;
    const double out_row = 4.0 * cols_;
    // A's row pointers and column indices are 64-bit GrB_Index; its values are iso (one scalar) or, if
    // GraphBLAS keeps them, not counted: they are all 1.
    return 8.0 * (n + 1) + 8.0 * e + e * in_row + n * in_row + n * out_row;
  }

  void read_rows(int32_t begin, int32_t end, double* out) const override {
    void* values = nullptr;
    GrB_Index size = 0;
    bool iso = false;
    check(GxB_Matrix_unpack_FullR(c_, &values, &size, &iso, nullptr), "GxB_Matrix_unpack_FullR(C)");
    const size_t first = static_cast<size_t>(begin) * cols_, last = static_cast<size_t>(end) * cols_;
    for (size_t k = first; k < last; ++k) {
      *out++ = path_ == GraphBlasPath::kFp32 ? static_cast<const float*>(values)[k]
                                             : static_cast<const int32_t*>(values)[k];
    }
    check(GxB_Matrix_pack_FullR(c_, &values, size, iso, nullptr), "GxB_Matrix_pack_FullR(C)");
  }

 private:
  GraphBlasPath path_;
  const CsrData& graph_;
  int32_t cols_;
  GrB_Matrix a_ = nullptr, x_ = nullptr, c_ = nullptr;
  std::vector<uint8_t> self_;       // the preset of C (FP32 / INT32 paths), a copy of X's values
  const int8_t* x_int8_ = nullptr;  // the typecast path's preset source
};

}  // namespace

bool graphblas_available(std::string* why_not) {
  if (why_not != nullptr) why_not->clear();
  return true;
}

std::unique_ptr<PeerEngine> make_graphblas(GraphBlasPath path, const CsrData& graph, const void* x,
                                           int32_t cols) {
  return std::make_unique<GraphBlasEngine>(path, graph, x, cols);
}

}  // namespace bench
}  // namespace qgnn
