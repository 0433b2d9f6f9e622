// The automatic bit selection on a small random GIN/GCN graph classifier whose data set is labelled by the
// float model: every point is quantized for real and scored on the runtime.
#include "qgnn/converter/auto_bits.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "labelled_sets.h"
#include "qgnn/converter/bit_spec.h"
#include "qgnn/converter/pareto_plot.h"
#include "qgnn/converter/quantizer.h"
#include "qgnn/converter/runtime_eval.h"

namespace qgnn {
namespace converter {
namespace {

class AutoBits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::mt19937 rng(21);
    model_ = new ModelDesc(testing::small_graph_model(rng));
    set_ = new GraphSetDesc(testing::labelled_set(model_, 240, 0, rng));
    const auto train = extract_graphs(*set_, set_->train);
    ASSERT_TRUE(train.ok()) << train.error;
    const auto ranges = calibrate(*model_, std::vector<GraphBatch>{train.value});
    ASSERT_TRUE(ranges.ok()) << ranges.error;
    ranges_ = new CalibrationRanges(ranges.value);
  }
  static void TearDownTestSuite() {
    delete model_;
    delete set_;
    delete ranges_;
  }

  void SetUp() override {
    build_ = [this](const QuantizerConfig& config) -> Result<std::vector<uint8_t>> {
      ++builds_;
      const auto q = quantize_model(*model_, *ranges_, config);
      if (!q.ok()) return Result<std::vector<uint8_t>>::failure(q.error);
      return serialize_model(q.value);
    };
    evaluate_ = [](const std::vector<uint8_t>& bytes) {
      return evaluate_on_runtime(bytes, *set_, set_->val);
    };
  }

  Result<AutoBitsResult> search(const AutoBitsOptions& options, const Progress& progress = nullptr) {
    const auto float_bytes = serialize_model(*model_);
    EXPECT_TRUE(float_bytes.ok());
    return search_bits(*model_, float_bytes.value, build_, evaluate_, options, progress);
  }

  static ModelDesc* model_;
  static GraphSetDesc* set_;
  static CalibrationRanges* ranges_;
  BuildModel build_;
  Evaluate evaluate_;
  size_t builds_ = 0;
};

ModelDesc* AutoBits::model_ = nullptr;
GraphSetDesc* AutoBits::set_ = nullptr;
CalibrationRanges* AutoBits::ranges_ = nullptr;

void expect_pareto_non_dominated(const AutoBitsResult& r) {
  ASSERT_FALSE(r.pareto.empty());
  for (size_t k = 0; k < r.pareto.size(); ++k) {
    const Candidate& p = r.explored[r.pareto[k]];
    if (k > 0) {
      EXPECT_LT(r.explored[r.pareto[k - 1]].total_bytes(), p.total_bytes()) << "front sorted by bytes";
      EXPECT_LT(r.explored[r.pareto[k - 1]].accuracy, p.accuracy) << "front strictly improves";
    }
    for (size_t i = 0; i < r.explored.size(); ++i) {
      if (i == r.pareto[k]) continue;
      const Candidate& q = r.explored[i];
      const bool dominates = q.total_bytes() <= p.total_bytes() && q.accuracy >= p.accuracy &&
                             (q.total_bytes() < p.total_bytes() || q.accuracy > p.accuracy);
      EXPECT_FALSE(dominates) << q.label << " dominates " << p.label;
    }
  }
  // Every point off the front is dominated (or equal to a front point).
  for (size_t i = 0; i < r.explored.size(); ++i) {
    bool covered = false;
    for (const size_t p : r.pareto) {
      covered = covered || (r.explored[p].total_bytes() <= r.explored[i].total_bytes() &&
                            r.explored[p].accuracy >= r.explored[i].accuracy);
    }
    EXPECT_TRUE(covered) << r.explored[i].label;
  }
}

TEST_F(AutoBits, SearchSpaceHasOneComponentPerQuantizedTensorButTheLogits) {
  const std::vector<BitComponent> c = searchable_components(*model_);
  // input; gin1 w a o; gcn2 w a o; pool o; head w (its output, the logits, stays 8 bits).
  ASSERT_EQ(c.size(), 9u);
  EXPECT_EQ(c[0].kind, BitComponent::Kind::kInput);
  EXPECT_EQ(c[7].kind, BitComponent::Kind::kOutput);
  EXPECT_EQ(c[7].layer, 2);
  EXPECT_EQ(c[8].kind, BitComponent::Kind::kWeights);
  EXPECT_EQ(c[8].layer, 3);
  std::vector<int> bits(c.size(), 8);
  bits[0] = 4;
  bits[2] = 4;
  const QuantizerConfig config = config_for_bits(*model_, c, bits, QuantizerConfig());
  EXPECT_EQ(config.input_bits, 4);
  EXPECT_EQ(config.layer_bits.at(0).aggregation, 4);
  EXPECT_EQ(config.layer_bits.at(0).weights, 8);
  EXPECT_EQ(config.layer_bits.size(), 4u);
  EXPECT_EQ(bits_label(*model_, config), "in4 gin1:w8a4o8 gcn2:w8a8o8 pool:o8 head:w8");
}

// A GATConv's messages (`agg`) and attention logits (`att`) are searched too: each point is quantized with
// those bits (4-bit logits included) and scored by the runtime.
TEST(AutoBitsGat, SearchesMessagesAndAttentionLogits) {
  std::mt19937 rng(31);
  ModelDesc model = testing::small_gat_model(rng);
  const GraphSetDesc set = testing::labelled_set(&model, 1, 80, rng);
  const std::vector<BitComponent> c = searchable_components(model);
  // input; g1 w a e o; g2 w a e (its output, the logits, stays 8 bits).
  ASSERT_EQ(c.size(), 8u);
  const BitComponent::Kind expected[] = {BitComponent::Kind::kInput,       BitComponent::Kind::kWeights,
                                         BitComponent::Kind::kAggregation, BitComponent::Kind::kAttention,
                                         BitComponent::Kind::kOutput,      BitComponent::Kind::kWeights,
                                         BitComponent::Kind::kAggregation, BitComponent::Kind::kAttention};
  for (size_t k = 0; k < c.size(); ++k) EXPECT_EQ(c[k].kind, expected[k]) << k;
  EXPECT_EQ(c[3].layer, 0);
  EXPECT_EQ(c[7].layer, 1);
  std::vector<int> bits(c.size(), 8);
  bits[3] = 4;
  const QuantizerConfig one = config_for_bits(model, c, bits, QuantizerConfig());
  EXPECT_EQ(one.layer_bits.at(0).attention, 4);
  EXPECT_EQ(one.layer_bits.at(1).attention, 8);
  EXPECT_EQ(bits_label(model, one), "in8 g1:w8a8e4o8 g2:w8a8e8");

  const auto all = extract_all_graphs(set);  // node classification: the one graph
  ASSERT_TRUE(all.ok()) << all.error;
  const auto ranges = calibrate(model, std::vector<GraphBatch>{all.value});
  ASSERT_TRUE(ranges.ok()) << ranges.error;
  size_t four_bit_logit_models = 0;
  const BuildModel build = [&](const QuantizerConfig& config) -> Result<std::vector<uint8_t>> {
    const auto q = quantize_model(model, ranges.value, config);
    if (!q.ok()) return Result<std::vector<uint8_t>>::failure(q.error);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(q.value.layers[i].logit.bits, layer_bits(config, i).attention);
    four_bit_logit_models += layer_bits(config, 0).attention == 4 ? 1 : 0;
    return serialize_model(q.value);
  };
  const Evaluate evaluate = [&](const std::vector<uint8_t>& bytes) {
    return evaluate_on_runtime(bytes, set, set.val);
  };
  AutoBitsOptions options;
  options.max_drop_points = 100.0;  // descend as far as it goes: every component reaches 4 bits
  const auto float_bytes = serialize_model(model);
  ASSERT_TRUE(float_bytes.ok());
  const auto r = search_bits(model, float_bytes.value, build, evaluate, options);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_GE(r.value.float_reference.accuracy, 0.97);
  ASSERT_GE(r.value.explored.size(), 4u);
  EXPECT_EQ(r.value.explored[1].label, "in4 g1:w4a4e4o4 g2:w4a4e4");
  EXPECT_GT(r.value.explored[1].total, 0u);  // the runtime ran the 4-bit logits
  // Beyond the structured points, the descent tries g1's 4-bit logits as a move of its own.
  EXPECT_GT(four_bit_logit_models, 2u);
}

TEST_F(AutoBits, ChoosesTheSmallestPointWithinTheDrop) {
  AutoBitsOptions options;
  options.max_drop_points = 5.0;
  const auto r = search(options);
  ASSERT_TRUE(r.ok()) << r.error;
  const AutoBitsResult& res = r.value;
  EXPECT_FALSE(res.budget_mode);
  EXPECT_EQ(res.float_reference.label, "float32");
  EXPECT_GE(res.float_reference.accuracy, 0.97);  // the set is labelled by the float model
  ASSERT_LT(res.chosen, res.explored.size());
  const Candidate& chosen = res.explored[res.chosen];
  EXPECT_TRUE(chosen.within_drop);
  EXPECT_GE(100.0 * chosen.accuracy, 100.0 * res.float_reference.accuracy - options.max_drop_points - 1e-9);
  for (const Candidate& c : res.explored) {
    EXPECT_EQ(c.within_drop, 100.0 * c.accuracy >= 100.0 * res.float_reference.accuracy - 5.0 - 1e-9);
    if (c.within_drop) {
      EXPECT_GE(c.total_bytes(), chosen.total_bytes()) << c.label;
    }
  }
  // Smaller than all 8 bits (some weights go to 4 bits within 5 points here).
  EXPECT_LT(chosen.total_bytes(), res.explored[0].total_bytes());
  expect_pareto_non_dominated(res);
  EXPECT_NE(std::find(res.pareto.begin(), res.pareto.end(), res.chosen), res.pareto.end());
  // The structured points come first: all 8, all 4, weights 4, activations 4.
  ASSERT_GE(res.explored.size(), 4u);
  EXPECT_EQ(res.explored[0].label, "in8 gin1:w8a8o8 gcn2:w8a8o8 pool:o8 head:w8");
  EXPECT_EQ(res.explored[1].label, "in4 gin1:w4a4o4 gcn2:w4a4o4 pool:o4 head:w4");
  EXPECT_EQ(res.explored[2].label, "in8 gin1:w4a8o8 gcn2:w4a8o8 pool:o8 head:w4");
  EXPECT_EQ(res.explored[3].label, "in4 gin1:w8a4o4 gcn2:w8a4o4 pool:o4 head:w8");
  // Each configuration is evaluated once, and the search is far from exhaustive (2^9 = 512 points).
  std::set<std::string> labels;
  for (const Candidate& c : res.explored) EXPECT_TRUE(labels.insert(c.label).second) << c.label;
  EXPECT_EQ(builds_, res.explored.size());
  EXPECT_LE(res.explored.size(), 4u + 9u * 10u / 2u);
}

TEST_F(AutoBits, AnyDropChoosesTheSmallestExplored) {
  AutoBitsOptions options;
  options.max_drop_points = 100.0;
  const auto r = search(options);
  ASSERT_TRUE(r.ok()) << r.error;
  size_t smallest = r.value.explored[0].total_bytes();
  for (const Candidate& c : r.value.explored) smallest = std::min(smallest, c.total_bytes());
  EXPECT_EQ(r.value.explored[r.value.chosen].total_bytes(), smallest);
  EXPECT_EQ(r.value.explored[r.value.chosen].total_bytes(), r.value.explored[1].total_bytes());  // all 4
}

TEST_F(AutoBits, BudgetBelowTheSmallestModelIsAClearError) {
  AutoBitsOptions options;
  options.budget_bytes = 100;
  const auto r = search(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.rfind("impossible budget: the smallest model found needs ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("the budget is 100 bytes"), std::string::npos) << r.error;
}

TEST_F(AutoBits, BudgetModeReturnsTheMostAccuratePointThatFits) {
  AutoBitsOptions probe;
  probe.max_drop_points = 100.0;
  const auto all = search(probe);
  ASSERT_TRUE(all.ok()) << all.error;
  // Halfway between all 4 and all 8 bits.
  AutoBitsOptions options;
  options.budget_bytes = (all.value.explored[0].total_bytes() + all.value.explored[1].total_bytes()) / 2;
  const auto r = search(options);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.value.budget_mode);
  const Candidate& chosen = r.value.explored[r.value.chosen];
  EXPECT_LE(chosen.total_bytes(), options.budget_bytes);
  EXPECT_TRUE(chosen.within_budget);
  for (const Candidate& c : r.value.explored) {
    EXPECT_EQ(c.within_budget, c.total_bytes() <= options.budget_bytes);
    if (c.within_budget) {
      EXPECT_LE(c.accuracy, chosen.accuracy) << c.label;
    }
  }
  expect_pareto_non_dominated(r.value);
}

TEST_F(AutoBits, ReportsProgressOncePerEvaluation) {
  std::vector<size_t> done;
  size_t last_total = 0;
  bool totals_cover_done = true;
  bool best_is_feasible = true;
  const Progress progress = [&](size_t d, size_t total, const Candidate& last, const Candidate* best) {
    done.push_back(d);
    totals_cover_done = totals_cover_done && total >= d;
    last_total = total;
    best_is_feasible = best_is_feasible && (best == nullptr || best->within_drop);
    EXPECT_FALSE(last.label.empty());
  };
  AutoBitsOptions options;
  options.max_drop_points = 2.0;
  const auto r = search(options, progress);
  ASSERT_TRUE(r.ok()) << r.error;
  // The float reference, then every explored point; memoized repeats are not reported.
  ASSERT_EQ(done.size(), r.value.explored.size() + 1);
  for (size_t k = 0; k < done.size(); ++k) EXPECT_EQ(done[k], k + 1);
  EXPECT_TRUE(totals_cover_done);
  EXPECT_TRUE(best_is_feasible);
  EXPECT_GE(last_total, done.back());
}

TEST_F(AutoBits, BuildFailuresNameThePoint) {
  build_ = [](const QuantizerConfig& config) -> Result<std::vector<uint8_t>> {
    if (config.input_bits == 4) return Result<std::vector<uint8_t>>::failure("no 4-bit input today");
    return Result<std::vector<uint8_t>>::failure("cannot build");
  };
  const auto r = search(AutoBitsOptions());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error, "building in8 gin1:w8a8o8 gcn2:w8a8o8 pool:o8 head:w8: cannot build");

  evaluate_ = [](const std::vector<uint8_t>&) { return Result<RuntimeEvaluation>::failure("no device"); };
  EXPECT_EQ(search(AutoBitsOptions()).error, "evaluating the float model: no device");

  ModelDesc quantized = *model_;
  quantized.quantized = true;
  EXPECT_NE(search_bits(quantized, {}, build_, evaluate_, AutoBitsOptions()).error.find("already quantized"),
            std::string::npos);
  AutoBitsOptions negative;
  negative.max_drop_points = -1.0;
  EXPECT_FALSE(search_bits(*model_, {}, build_, evaluate_, negative).ok());
}

TEST_F(AutoBits, NoPointWithinTheDropIsAClearError) {
  // An evaluator on which every quantized model is worse than the float one by 10 points.
  const auto float_bytes = serialize_model(*model_);
  evaluate_ = [&](const std::vector<uint8_t>& bytes) {
    auto e = evaluate_on_runtime(bytes, *set_, set_->val);
    if (bytes != float_bytes.value) e.value.correct = e.value.total * 8 / 10;
    return e;
  };
  AutoBitsOptions options;
  options.max_drop_points = 1.0;
  const auto r = search(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.rfind("no bit assignment keeps the accuracy within 1 points of the float model", 0), 0u)
      << r.error;
  EXPECT_NE(r.error.find("the most accurate found is in8 "), std::string::npos) << r.error;
}

TEST_F(AutoBits, JsonHasEveryKeyAndParses) {
  AutoBitsOptions options;
  options.max_drop_points = 5.0;
  const auto r = search(options);
  ASSERT_TRUE(r.ok()) << r.error;
  const nlohmann::json j = nlohmann::json::parse(auto_bits_to_json(r.value));
  EXPECT_EQ(j.at("mode"), "max_drop");
  EXPECT_DOUBLE_EQ(j.at("max_drop_points").get<double>(), 5.0);
  EXPECT_EQ(j.at("budget_bytes"), 0);
  EXPECT_EQ(j.at("float_reference").at("label"), "float32");
  EXPECT_EQ(j.at("chosen").get<size_t>(), r.value.chosen);
  EXPECT_EQ(j.at("pareto").get<std::vector<size_t>>(), r.value.pareto);
  ASSERT_EQ(j.at("explored").size(), r.value.explored.size());
  for (size_t i = 0; i < r.value.explored.size(); ++i) {
    const nlohmann::json& p = j.at("explored")[i];
    const Candidate& c = r.value.explored[i];
    EXPECT_EQ(p.at("label"), c.label);
    EXPECT_DOUBLE_EQ(p.at("accuracy").get<double>(), c.accuracy);
    EXPECT_EQ(p.at("total_bytes").get<size_t>(), c.total_bytes());
    EXPECT_EQ(p.at("model_bytes").get<size_t>() + p.at("arena_bytes").get<size_t>(), c.total_bytes());
    EXPECT_EQ(p.at("within_drop").get<bool>(), c.within_drop);
    EXPECT_EQ(p.at("pareto").get<bool>(),
              std::find(r.value.pareto.begin(), r.value.pareto.end(), i) != r.value.pareto.end());
    EXPECT_EQ(p.at("bits").at("input").get<int>(), c.config.input_bits);
    ASSERT_EQ(p.at("bits").at("layers").size(), 4u);
    EXPECT_EQ(p.at("bits").at("layers")[0].at("weights").get<int>(), c.config.layer_bits.at(0).weights);
    EXPECT_EQ(p.at("parameter_bytes").get<size_t>(), c.parameter_bytes);
    EXPECT_GT(c.parameter_bytes, 0u);
    EXPECT_TRUE(p.contains("correct") && p.contains("total") && p.contains("within_budget"));
  }
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(AutoBits, SvgDrawsEveryPointTheFrontAndTheChoice) {
  AutoBitsOptions options;
  options.max_drop_points = 5.0;
  const auto r = search(options);
  ASSERT_TRUE(r.ok()) << r.error;
  const std::string svg = pareto_svg(r.value, "small <model> & friends");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count_of(svg, "class=\"explored\""), r.value.explored.size());
  EXPECT_EQ(count_of(svg, "class=\"chosen\""), 1u);
  EXPECT_EQ(count_of(svg, "class=\"pareto\""), 1u);
  EXPECT_EQ(count_of(svg, "class=\"float\""), 1u);
  EXPECT_EQ(count_of(svg, "class=\"threshold\""), 1u);
  EXPECT_NE(svg.find("small &lt;model&gt; &amp; friends"), std::string::npos);
  EXPECT_NE(svg.find("accuracy (%)"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);

  AutoBitsOptions budget;
  budget.budget_bytes = r.value.explored[0].total_bytes();
  const auto b = search(budget);
  ASSERT_TRUE(b.ok()) << b.error;
  const std::string budget_svg = pareto_svg(b.value, "budget");
  EXPECT_EQ(count_of(budget_svg, "class=\"budget\""), 1u);
  EXPECT_EQ(count_of(budget_svg, "class=\"threshold\""), 0u);
}

}  // namespace
}  // namespace converter
}  // namespace qgnn
