// fold_batch_norm: the folded Dense computes what the Dense followed by its BatchNorm computes (checked
// against a direct double-precision evaluation), SAGE's BatchNorm covers the root term, and bad input fails.
#include "qgnn/converter/batch_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model_metadata.h"
#include "test_models.h"

namespace qgnn {
namespace converter {
namespace {

// acc = x W^T + b for one input row, in double.
std::vector<double> dense_row(const DenseDesc& d, const std::vector<double>& x) {
  std::vector<double> acc(static_cast<size_t>(d.out_features), 0.0);
  for (int32_t c = 0; c < d.out_features; ++c) {
    double sum = d.bias.empty() ? 0.0 : d.bias[static_cast<size_t>(c)];
    for (int32_t k = 0; k < d.in_features; ++k) {
      sum += static_cast<double>(d.weight[static_cast<size_t>(c * d.in_features + k)]) *
             x[static_cast<size_t>(k)];
    }
    acc[static_cast<size_t>(c)] = sum;
  }
  return acc;
}

// The schema's definition, written out: (acc - mean) / sqrt(var + eps) * gamma + beta.
std::vector<double> batch_norm(const BatchNormDesc& bn, std::vector<double> acc) {
  for (size_t c = 0; c < acc.size(); ++c) {
    acc[c] =
        (acc[c] - bn.mean[c]) / std::sqrt(static_cast<double>(bn.var[c]) + bn.eps) * bn.gamma[c] + bn.beta[c];
  }
  return acc;
}

std::vector<double> random_row(int32_t n, std::mt19937& rng) {
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x) v = dist(rng);
  return x;
}

void expect_near_rows(const std::vector<double>& expected, const std::vector<double>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t c = 0; c < expected.size(); ++c) {
    EXPECT_NEAR(actual[c], expected[c], 1e-4 * (1.0 + std::fabs(expected[c]))) << "channel " << c;
  }
}

// Every BatchNorm-carrying Dense of `with_bn`, against its folded counterpart in `folded`, on random rows.
void expect_folded_matches(const ModelDesc& with_bn, const ModelDesc& folded, std::mt19937& rng) {
  ASSERT_EQ(with_bn.layers.size(), folded.layers.size());
  for (size_t i = 0; i < with_bn.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const LayerDesc& a = with_bn.layers[i];
    const LayerDesc& b = folded.layers[i];
    for (int trial = 0; trial < 4; ++trial) {
      if (a.kind == LayerKind::kGinConv) {
        for (size_t k = 0; k < a.mlp.size(); ++k) {
          EXPECT_FALSE(b.mlp[k].batch_norm.has_value());
          const std::vector<double> x = random_row(a.mlp[k].in_features, rng);
          std::vector<double> expected = dense_row(a.mlp[k], x);
          if (a.mlp[k].batch_norm) expected = batch_norm(*a.mlp[k].batch_norm, expected);
          expect_near_rows(expected, dense_row(b.mlp[k], x));
        }
      } else if (a.kind != LayerKind::kGlobalPool) {
        EXPECT_FALSE(b.dense.batch_norm.has_value());
        // SAGE: the BatchNorm normalises W_n a + b_n + W_r x + b_r (two inputs).
        const std::vector<double> agg = random_row(a.dense.in_features, rng);
        const std::vector<double> self = random_row(a.dense.in_features, rng);
        std::vector<double> expected = dense_row(a.dense, agg);
        std::vector<double> actual = dense_row(b.dense, agg);
        if (a.has_root) {
          const std::vector<double> root_a = dense_row(a.root, self), root_b = dense_row(b.root, self);
          for (size_t c = 0; c < expected.size(); ++c) {
            expected[c] += root_a[c];
            actual[c] += root_b[c];
          }
        }
        if (a.dense.batch_norm) expected = batch_norm(*a.dense.batch_norm, expected);
        expect_near_rows(expected, actual);
      }
    }
  }
}

TEST(FoldBatchNorm, FoldedDenseEqualsDenseThenBatchNorm) {
  std::mt19937 rng(11);
  ModelDesc model = testing::all_kinds_float_model(rng);
  testing::add_batch_norms(&model, rng);
  ASSERT_TRUE(has_batch_norm(model));
  const Result<ModelDesc> folded = fold_batch_norm(model);
  ASSERT_TRUE(folded.ok()) << folded.error;
  EXPECT_FALSE(has_batch_norm(folded.value));
  EXPECT_TRUE(check_model(folded.value).ok());
  expect_folded_matches(model, folded.value, rng);
}

TEST(FoldBatchNorm, FilesWithBatchNormAreVersion2AndFoldedOnesVersion1) {
  // A runtime that predates Dense.batch_norm would skip it: such files must be a version it rejects.
  std::mt19937 rng(12);
  ModelDesc model = testing::all_kinds_float_model(rng);
  testing::add_batch_norms(&model, rng);
  const auto with_bn = serialize_model(model);
  ASSERT_TRUE(with_bn.ok()) << with_bn.error;
  const auto parsed = parse_model(with_bn.value);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.version, kBatchNormFormatVersion);
  const auto folded = serialize_model(fold_batch_norm(model).value);
  ASSERT_TRUE(folded.ok());
  EXPECT_EQ(parse_model(folded.value).value.version, kModelFormatVersion);
}

TEST(FoldBatchNorm, ExactFormulaOnOneChannel) {
  // W = [2, -1], b = 0.5, mean 1, var 3, eps 1, gamma 4, beta -2: s = 4 / 2 = 2.
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 2;
  LayerDesc layer;
  layer.kind = LayerKind::kLinear;
  layer.dense.out_features = 1;
  layer.dense.in_features = 2;
  layer.dense.weight = {2.0f, -1.0f};
  layer.dense.bias = {0.5f};
  layer.dense.batch_norm = BatchNormDesc{{1.0f}, {3.0f}, {4.0f}, {-2.0f}, 1.0f};
  m.layers.push_back(layer);
  const Result<ModelDesc> folded = fold_batch_norm(m);
  ASSERT_TRUE(folded.ok()) << folded.error;
  const DenseDesc& d = folded.value.layers[0].dense;
  EXPECT_EQ(d.weight, (std::vector<float>{4.0f, -2.0f}));                // W * s
  EXPECT_EQ(d.bias, (std::vector<float>{(0.5f - 1.0f) * 2.0f - 2.0f}));  // (b - mean) * s + beta
}

TEST(FoldBatchNorm, DenseWithoutBiasGetsOne) {
  std::mt19937 rng(12);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 3;
  m.layers.push_back(testing::linear_layer(3, 4, true, rng));
  m.layers[0].dense.bias.clear();
  m.layers[0].dense.batch_norm = testing::random_batch_norm(4, rng);
  const Result<ModelDesc> folded = fold_batch_norm(m);
  ASSERT_TRUE(folded.ok()) << folded.error;
  EXPECT_EQ(folded.value.layers[0].dense.bias.size(), 4u);
  expect_folded_matches(m, folded.value, rng);
}

TEST(FoldBatchNorm, SageRootWithBiasIsScaled) {
  std::mt19937 rng(13);
  ModelDesc m;
  m.task = Task::kNodeClassification;
  m.input_dim = 3;
  m.layers.push_back(testing::sage_layer(3, 5, Reduce::kMean, true, true, rng));
  m.layers[0].root.bias = {0.1f, -0.2f, 0.3f, -0.4f, 0.5f};
  m.layers[0].dense.batch_norm = testing::random_batch_norm(5, rng);
  const Result<ModelDesc> folded = fold_batch_norm(m);
  ASSERT_TRUE(folded.ok()) << folded.error;
  expect_folded_matches(m, folded.value, rng);
}

TEST(FoldBatchNorm, WithoutBatchNormTheModelIsUnchangedAndRangesAreKept) {
  std::mt19937 rng(14);
  ModelDesc model = testing::all_kinds_float_model(rng);
  testing::add_stored_ranges(&model);
  const Result<ModelDesc> folded = fold_batch_norm(model);
  ASSERT_TRUE(folded.ok()) << folded.error;
  const auto a = serialize_model(model), b = serialize_model(folded.value);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value, b.value);
}

TEST(FoldBatchNorm, RejectsBadBatchNormAndQuantizedModels) {
  std::mt19937 rng(15);
  const ModelDesc base = testing::all_kinds_float_model(rng);
  auto with = [&](auto edit) {
    ModelDesc m = base;
    m.layers[0].dense.batch_norm = testing::random_batch_norm(m.layers[0].dense.out_features, rng);
    edit(m);
    return fold_batch_norm(m);
  };
  struct Case {
    const char* needle;
    Result<ModelDesc> result;
  };
  const Case cases[] = {
      {"var[1]", with([](ModelDesc& m) { m.layers[0].dense.batch_norm->var[1] = -1.0f; })},
      {"eps", with([](ModelDesc& m) { m.layers[0].dense.batch_norm->eps = 0.0f; })},
      {"gamma has", with([](ModelDesc& m) { m.layers[0].dense.batch_norm->gamma.pop_back(); })},
      {"non-finite", with([](ModelDesc& m) { m.layers[0].dense.batch_norm->mean[0] = NAN; })},
      {"root dense has a BatchNorm", with([&](ModelDesc& m) {
         m.layers[1].root.batch_norm = testing::random_batch_norm(m.layers[1].root.out_features, rng);
       })},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.result.ok()) << c.needle;
    EXPECT_NE(c.result.error.find(c.needle), std::string::npos) << c.result.error;
  }
  ModelDesc q = testing::random_quantized_copy(base, 8, rng);
  q.layers[0].dense.batch_norm = testing::random_batch_norm(q.layers[0].dense.out_features, rng);
  const Result<ModelDesc> r = fold_batch_norm(q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("quantized"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
