// The first Dense of a model fed sparse bag-of-words features, Cora-shaped (2708 rows, 1433 columns, 1.27 %
// non-zero ~ 18 per row, 16 outputs), per kernel table:
//   BM_SparseDense/<w8|w4>[/isa:<name>]            sparse_dense() on the CSR floats, quantized on the fly,
//                                                   over the operand packed once (sparse_dense_pack)
//   BM_SparseDenseAsDense/<w8|w4>[/isa:<name>]     dense() on the whole quantized int8 matrix (packed
//                                                   operand): the work a dense first layer does per invoke
//   BM_SparseDenseAsQuantizeDense/<w8|w4>[/isa:...] quantize_rows() of the dense float matrix, then dense():
//                                                   what the sparse kernel replaces when the caller's
//                                                   features are float
// All three give the same bytes (tests/kernels/sparse_dense_test.cc). Items processed = rows.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "isa_tables.h"
#include "kernel_data.h"
#include "qgnn/kernels/kernel_table.h"
#include "qgnn/kernels/reference.h"

namespace qgnn {
namespace bench {
namespace {

constexpr int32_t kCoraFeatures = 1433;
constexpr int32_t kHidden = 16;
constexpr double kCoraDensity = 0.0127;

/// Cora-shaped sparse rows and everything the three formulations need, built once per weight width.
struct SparseCase {
  std::vector<int32_t> row_ptr{0}, col_idx;
  std::vector<float> values, dense_values;
  std::vector<uint8_t> weights;
  std::vector<int32_t> bias;
  ChannelRescaleData rq{kHidden, 1.0 / 2048.0};
  float scale = 1.0f / 127.0f;

  explicit SparseCase(int weight_bits) {
    Rng rng(0x5DA12u + static_cast<uint32_t>(weight_bits));
    dense_values.assign(static_cast<size_t>(kCoraNodes) * kCoraFeatures, 0.0f);
    const uint32_t threshold = static_cast<uint32_t>(kCoraDensity * 1e6);
    for (int32_t r = 0; r < kCoraNodes; ++r) {
      for (int32_t k = 0; k < kCoraFeatures; ++k) {
        if (rng.below(1000000) >= threshold) continue;
        // Bag-of-words row-normalised values: a few of 1 / nnz.
        const float v = rng.uniform(0.02f, 1.0f);
        col_idx.push_back(k);
        values.push_back(v);
        dense_values[static_cast<size_t>(r) * kCoraFeatures + static_cast<size_t>(k)] = v;
      }
      row_ptr.push_back(static_cast<int32_t>(col_idx.size()));
    }
    weights = random_weights(kHidden, kCoraFeatures, weight_bits, rng);
    bias = random_ints(kHidden, -1000, 1000, rng);
  }
  kernels::SparseRows rows() const {
    return kernels::SparseRows{row_ptr.data(), col_idx.data(), values.data()};
  }
};

const SparseCase& sparse_case(int weight_bits) {
  static const SparseCase w8(8), w4(4);
  return weight_bits == 4 ? w4 : w8;
}

/// Operand memory packed once before the loop, as the runtime does at interpreter creation.
struct Packed {
  std::vector<uint64_t> storage;  // 8-byte elements: at least 16-byte aligned
  void* data = nullptr;
  void reserve(size_t bytes) {
    if (bytes == 0) return;
    storage.resize(bytes / sizeof(uint64_t) + 1);
    data = storage.data();
  }
};

enum class Formulation { kSparse, kDense, kQuantizeDense };

void BM_SparseDense(benchmark::State& state, Formulation f, int weight_bits,
                    const kernels::KernelTable* table) {
  const SparseCase& c = sparse_case(weight_bits);
  constexpr int32_t kZx = -128;
  const kernels::InputQuantization q{c.scale, nullptr, kZx, 8};
  std::vector<uint8_t> y(static_cast<size_t>(kCoraNodes) * kHidden);
  const kernels::QActivation out{y.data(), 8, -128};
  kernels::QWeights w{c.weights.data(), weight_bits};
  Packed packed;
  std::vector<uint8_t> quantized(static_cast<size_t>(kCoraNodes) * kCoraFeatures);
  const kernels::QActivation quantized_out{quantized.data(), 8, kZx};
  if (f == Formulation::kSparse) {
    packed.reserve(table->sparse_dense_packed_bytes(kCoraFeatures, kHidden, weight_bits));
    table->sparse_dense_pack(w, kCoraFeatures, kHidden, packed.data);
  } else {
    packed.reserve(table->dense_packed_bytes(kCoraFeatures, kHidden, weight_bits));
    table->dense_pack(w, kCoraFeatures, kHidden, c.bias.data(), c.rq.view(), packed.data);
    table->quantize_rows(c.dense_values.data(), kCoraFeatures, c.scale, nullptr, quantized_out, 0,
                         kCoraNodes);
  }
  w.packed = packed.data;
  const kernels::QActivationConst quantized_in{quantized.data(), 8, kZx};
  for (auto _ : state) {
    switch (f) {
      case Formulation::kSparse:
        table->sparse_dense(c.rows(), kCoraFeatures, q, w, c.bias.data(), c.rq.view(), true, out, kHidden, 0,
                            kCoraNodes);
        break;
      case Formulation::kQuantizeDense:
        table->quantize_rows(c.dense_values.data(), kCoraFeatures, c.scale, nullptr, quantized_out, 0,
                             kCoraNodes);
        [[fallthrough]];
      case Formulation::kDense:
        table->dense(quantized_in, kCoraFeatures, w, c.bias.data(), c.rq.view(), nullptr, true, out, kHidden,
                     0, kCoraNodes);
        break;
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kCoraNodes);
}

[[maybe_unused]] const bool kRegistered = [] {
  const struct {
    const char* name;
    Formulation f;
  } formulations[] = {{"BM_SparseDense/", Formulation::kSparse},
                      {"BM_SparseDenseAsDense/", Formulation::kDense},
                      {"BM_SparseDenseAsQuantizeDense/", Formulation::kQuantizeDense}};
  for (const auto& f : formulations) {
    for (int bits : {8, 4}) {
      for (const kernels::KernelTable* table : isa_tables()) {
        const std::string name = std::string(f.name) + (bits == 8 ? "w8" : "w4") + isa_suffix(table);
        benchmark::RegisterBenchmark(name.c_str(), BM_SparseDense, f.f, bits, table)
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}();

}  // namespace
}  // namespace bench
}  // namespace qgnn
