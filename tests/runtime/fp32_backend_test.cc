// The float path's dense backend: selection (option, QGNN_FP32, default), XNNPACK against the reference end
// to end (every layer kind, BatchNorm, both ways of adding a SAGE root term), and that every XNNPACK operator
// is in place when the backend is chosen. Tests that need XNNPACK are skipped, with the reason, without it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "interpreter.h"
#include "ops/float/fp32_backend.h"
#include "qgnn/converter/batch_norm.h"
#include "qgnn/session.hpp"
#include "qgnn/xnnpack/xnnpack.h"
#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

using runtime::Fp32Backend;
using runtime::SelectFp32Backend;

#define SKIP_WITHOUT_XNNPACK()                                                 \
  do {                                                                         \
    if (!xnnpack::available()) {                                               \
      GTEST_SKIP() << "XNNPACK is not available in this build or on this CPU"; \
    }                                                                          \
  } while (0)

TEST(Fp32Backend, SelectionByName) {
  const runtime::Fp32Choice def = SelectFp32Backend(nullptr);
  ASSERT_TRUE(def.ok);
  EXPECT_EQ(def.backend, xnnpack::available() ? Fp32Backend::kXnnpack : Fp32Backend::kReference);
  EXPECT_EQ(SelectFp32Backend("").backend, def.backend);
  const runtime::Fp32Choice ref = SelectFp32Backend("reference");
  ASSERT_TRUE(ref.ok);
  EXPECT_EQ(ref.backend, Fp32Backend::kReference);
  EXPECT_EQ(SelectFp32Backend("xnnpack").ok, xnnpack::available());
  for (const char* bad : {"XNNPACK", "ref", "avx512", " reference"}) {
    const runtime::Fp32Choice c = SelectFp32Backend(bad);
    EXPECT_FALSE(c.ok) << bad;
    EXPECT_NE(c.error, nullptr);
  }
}

// An interpreter over a small float model with the given options.fp32 (and QGNN_FP32 as the caller set it),
// made by qgnn::session; the white-box checks read the handles' internals.
struct Fp32Session {
  session::Session owner;
  qgnn_status status = QGNN_OK;
  std::string message;  ///< the runtime's message when creation failed
  qgnn_interpreter* interpreter = nullptr;
  const qgnn_model* model = nullptr;

  Fp32Session(const std::vector<uint8_t>& bytes, const char* fp32) {
    auto loaded = session::Session::load(bytes);
    EXPECT_TRUE(loaded.ok()) << loaded.error;
    owner = std::move(loaded.value);
    session::Options options;
    options.threads = 2;
    options.fp32 = fp32 != nullptr ? fp32 : "";
    const auto planned = owner.plan({32, 128, 1}, options);
    status = planned.status;
    message = planned.message;
    interpreter = owner.interpreter();
    model = owner.model().get();
  }
};

std::vector<uint8_t> SmallFloatModel() {
  ModelMaker m(false, Task::kNodeClassification, 6, 5);
  m.Gcn(8, true).Sage(6, Reduce::kMean, true, true).Gin({8, 5}, 0.2f, true).Linear(3, false);
  return m.Bytes();
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST(Fp32Backend, OptionAndEnvironmentChooseTheBackend) {
  const std::vector<uint8_t> bytes = SmallFloatModel();
  {
    Fp32Session s(bytes, "reference");
    ASSERT_EQ(s.status, QGNN_OK) << s.message;
    EXPECT_EQ(s.interpreter->fp32, Fp32Backend::kReference);
    EXPECT_EQ(s.interpreter->xnn_dense.Find(*s.model->denses[0]), nullptr);
  }
  {
    Fp32Session s(bytes, "bogus");
    EXPECT_EQ(s.status, QGNN_INVALID_ARGUMENT);
    EXPECT_EQ(s.interpreter, nullptr);
    EXPECT_NE(std::string(s.message).find("fp32 option=bogus"), std::string::npos) << s.message;
  }
  {
    ScopedEnv env("QGNN_FP32", "reference");
    Fp32Session s(bytes, nullptr);
    ASSERT_EQ(s.status, QGNN_OK) << s.message;
    EXPECT_EQ(s.interpreter->fp32, Fp32Backend::kReference);
  }
  {
    ScopedEnv env("QGNN_FP32", "nonsense");
    Fp32Session s(bytes, nullptr);
    EXPECT_EQ(s.status, QGNN_INVALID_ARGUMENT);
    EXPECT_NE(std::string(s.message).find("QGNN_FP32=nonsense"), std::string::npos) << s.message;
    // The option wins over the environment.
    Fp32Session t(bytes, "reference");
    EXPECT_EQ(t.status, QGNN_OK) << t.message;
  }
  {
    Fp32Session s(bytes, "xnnpack");
    if (!xnnpack::available()) {
      EXPECT_EQ(s.status, QGNN_INVALID_ARGUMENT);
      return;
    }
    ASSERT_EQ(s.status, QGNN_OK) << s.message;
    EXPECT_EQ(s.interpreter->fp32, Fp32Backend::kXnnpack);
    // Every float Dense of the model has its operator.
    for (uint32_t i = 0; i < s.model->num_denses; ++i) {
      EXPECT_NE(s.interpreter->xnn_dense.Find(*s.model->denses[i]), nullptr) << "dense " << i;
    }
  }
}

TEST(Fp32Backend, QuantizedModelsIgnoreTheBackend) {
  ModelMaker m(true, Task::kNodeClassification, 6, 6);
  m.Gcn(8, true).Linear(3, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  std::mt19937 rng(3);
  const Graph graph = RandomGraph(rng, {30}, 4, 6);
  const RunResult a = RunModel(bytes, graph, 2, "reference");
  const RunResult b = RunModel(bytes, graph, 2, nullptr);
  ASSERT_EQ(a.status, QGNN_OK) << a.message;
  ASSERT_EQ(b.status, QGNN_OK) << b.message;
  EXPECT_EQ(a.logits_q, b.logits_q);
}

// XNNPACK against the reference on the same float model: within 1e-4 relative of each other and of the
// double-precision oracle (the per-Dense bound (n + 4) 2^-23 sum|terms| of docs/quantization.md, grown
// through the layers, is far below that for these sizes), and the same argmax wherever the top two logits are
// apart by more than the tolerance. `oracle_model` is the model the oracle evaluates (the folded one when
// `maker` carries BatchNorms).
void ExpectXnnpackMatchesReference(ModelMaker& maker, const Graph& graph, uint32_t threads,
                                   const ModelDesc* oracle_model = nullptr) {
  const std::vector<uint8_t> bytes = maker.Bytes();
  const RunResult ref = RunModel(bytes, graph, threads, "reference");
  const RunResult xnn = RunModel(bytes, graph, threads, "xnnpack");
  ASSERT_EQ(ref.status, QGNN_OK) << ref.message;
  ASSERT_EQ(xnn.status, QGNN_OK) << xnn.message;
  const std::vector<double> oracle =
      OracleFloat(oracle_model != nullptr ? *oracle_model : maker.desc(), graph);
  ASSERT_EQ(xnn.logits_f32.size(), oracle.size());
  ASSERT_EQ(ref.logits_f32.size(), oracle.size());
  for (size_t i = 0; i < oracle.size(); ++i) {
    const double tolerance = 1e-4 * (1.0 + std::fabs(oracle[i]));
    ASSERT_NEAR(xnn.logits_f32[i], ref.logits_f32[i], tolerance) << "logit " << i;
    ASSERT_NEAR(xnn.logits_f32[i], oracle[i], tolerance) << "logit " << i;
  }
  uint32_t decided = 0;  // rows whose argmax is not a near tie
  for (uint32_t r = 0; r < xnn.rows; ++r) {
    const float* row = &ref.logits_f32[static_cast<size_t>(r) * ref.cols];
    const int32_t best = ref.argmax[r];
    double gap = INFINITY;
    for (uint32_t c = 0; c < ref.cols; ++c) {
      if (static_cast<int32_t>(c) != best) gap = std::min(gap, static_cast<double>(row[best] - row[c]));
    }
    if (gap > 1e-3 * (1.0 + std::fabs(row[best]))) {
      EXPECT_EQ(xnn.argmax[r], best) << "row " << r;
      ++decided;
    }
  }
  EXPECT_GT(decided * 2, xnn.rows) << "degenerate test: most rows have near-tied logits";
}

TEST(Fp32Backend, XnnpackMatchesReferenceEveryLayerKind) {
  SKIP_WITHOUT_XNNPACK();
  std::mt19937 rng(21);
  const Graph graph = RandomGraph(rng, {150}, 6, 12);
  // Linear first (reads the caller's features: stays on the reference), SAGE roots added both ways (the
  // root product on XNNPACK into the dead aggregation when out <= in, by the plain loop when out > in),
  // SAGE without a root, GIN with a hidden ReLU.
  ModelMaker m(false, Task::kNodeClassification, 12, 22);
  m.Linear(16, true)
      .Gcn(16, true)
      .Sage(12, Reduce::kMean, true, true)
      .Sage(20, Reduce::kMax, true, true)
      .Sage(16, Reduce::kMean, false, true)
      .Gin({24, 16}, 0.3f, true)
      .Linear(5, false);
  for (uint32_t threads : {1u, 3u}) {
    SCOPED_TRACE(threads);
    ExpectXnnpackMatchesReference(m, graph, threads);
  }
}

TEST(Fp32Backend, XnnpackMatchesReferenceGraphClassification) {
  SKIP_WITHOUT_XNNPACK();
  std::mt19937 rng(23);
  const Graph graph = RandomGraph(rng, {40, 0, 33, 57, 12}, 5, 7);
  ModelMaker m(false, Task::kGraphClassification, 7, 24);
  m.Gcn(16, true).Gin({16, 16}, 0.1f, true).Pool(Reduce::kMean).Linear(8, true).Linear(4, false);
  ExpectXnnpackMatchesReference(m, graph, 2);
}

TEST(Fp32Backend, XnnpackAppliesUnfoldedBatchNorm) {
  SKIP_WITHOUT_XNNPACK();
  std::mt19937 rng(25);
  const Graph graph = RandomGraph(rng, {120}, 5, 6);
  ModelMaker m(false, Task::kNodeClassification, 6, 26);
  m.Gcn(10, true).Sage(8, Reduce::kMean, true, true).Gin({10, 8}, 0.2f, true).Linear(4, false);
  std::mt19937 bn_rng(27);
  std::uniform_real_distribution<float> mean(-0.5f, 0.5f), var(0.2f, 2.0f), gamma(0.5f, 1.5f);
  const auto make = [&](int32_t channels) {
    converter::BatchNormDesc bn;
    for (int32_t c = 0; c < channels; ++c) {
      bn.mean.push_back(mean(bn_rng));
      bn.var.push_back(var(bn_rng));
      bn.gamma.push_back(gamma(bn_rng));
      bn.beta.push_back(mean(bn_rng));
    }
    return bn;
  };
  for (converter::LayerDesc& layer : m.desc().layers) {
    if (layer.kind == LayerKind::kGinConv) {
      for (converter::DenseDesc& d : layer.mlp) d.batch_norm = make(d.out_features);
    } else {
      layer.dense.batch_norm = make(layer.dense.out_features);
    }
  }
  const converter::Result<ModelDesc> folded = converter::fold_batch_norm(m.desc());
  ASSERT_TRUE(folded.ok()) << folded.error;
  ExpectXnnpackMatchesReference(m, graph, 2, &folded.value);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
