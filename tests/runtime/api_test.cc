// C API basics: status names, model info, class names, error reporting.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

TEST(StatusName, EveryStatusHasItsOwnName) {
  std::set<std::string> names;
  for (int s = QGNN_OK; s <= QGNN_OUT_OF_MEMORY; ++s) {
    const std::string name = qgnn_status_name(static_cast<qgnn_status>(s));
    EXPECT_EQ(name.rfind("QGNN_", 0), 0u) << name;
    EXPECT_NE(name, "QGNN_UNKNOWN_STATUS") << s;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(QGNN_OUT_OF_MEMORY) + 1);
  EXPECT_STREQ(qgnn_status_name(QGNN_INVALID_GRAPH), "QGNN_INVALID_GRAPH");
  EXPECT_STREQ(qgnn_status_name(QGNN_OK), "QGNN_OK");
  EXPECT_STREQ(qgnn_status_name(static_cast<qgnn_status>(999)), "QGNN_UNKNOWN_STATUS");
}

TEST(ModelInfo, QuantizedGraphModel) {
  ModelMaker m(true, Task::kGraphClassification, 5, 3);
  m.Input(8, -2);
  m.Gcn(6, true).Pool(Reduce::kMean).Linear(3, false, Bits{4});
  m.ClassNames({"zero", "one", "two"});
  m.desc().name = "mutag-gcn";
  m.desc().limits = {500, 0, 16, 0};
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  qgnn_error error{};
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, &error), QGNN_OK) << error.message;
  EXPECT_EQ(error.status, QGNN_OK);
  EXPECT_STREQ(error.message, "");
  qgnn_model_info info{};
  ASSERT_EQ(qgnn_model_get_info(model, &info), QGNN_OK);
  EXPECT_STREQ(info.name, "mutag-gcn");
  // Zero copy: the name points into the caller's buffer.
  EXPECT_GE(reinterpret_cast<const uint8_t*>(info.name), buffer.data());
  EXPECT_LT(reinterpret_cast<const uint8_t*>(info.name), buffer.data() + buffer.size());
  EXPECT_EQ(info.task, QGNN_TASK_GRAPH_CLASSIFICATION);
  EXPECT_EQ(info.num_layers, 3u);
  EXPECT_EQ(info.input_dim, 5u);
  EXPECT_EQ(info.num_classes, 3u);
  EXPECT_EQ(info.quantized, 1);
  EXPECT_EQ(info.input_is_int8, 0);
  EXPECT_FLOAT_EQ(info.input_scale, m.desc().input_quant.scale);
  EXPECT_EQ(info.input_zero_point, -2);
  EXPECT_FLOAT_EQ(info.output_scale, m.desc().layers[2].output.scale);
  EXPECT_EQ(info.output_zero_point, m.desc().layers[2].output.zero_point);
  size_t params = 0;
  for (const auto& l : m.desc().layers) {
    params += l.dense.weight_q.size() + l.dense.bias_q.size() * 4;  // int8 weights, int32 biases
  }
  EXPECT_EQ(info.parameter_bytes, params);
  EXPECT_EQ(info.max_nodes, 500u);
  EXPECT_EQ(info.max_edges, 1u << 28);
  EXPECT_EQ(info.max_degree, 16u);
  EXPECT_EQ(info.max_graphs, 1u << 22);
  EXPECT_STREQ(qgnn_model_class_name(model, 0), "zero");
  EXPECT_STREQ(qgnn_model_class_name(model, 2), "two");
  EXPECT_STREQ(qgnn_model_class_name(model, 3), "");
  EXPECT_STREQ(qgnn_model_class_name(nullptr, 0), "");
  EXPECT_EQ(qgnn_model_get_info(nullptr, &info), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(qgnn_model_get_info(model, nullptr), QGNN_INVALID_ARGUMENT);
  qgnn_model_delete(model);
}

TEST(ModelInfo, FloatNodeModel) {
  ModelMaker m(false, Task::kNodeClassification, 7, 4);
  m.Sage(4, Reduce::kMax, true, true).Linear(2, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  qgnn_model_info info{};
  ASSERT_EQ(qgnn_model_get_info(model, &info), QGNN_OK);
  EXPECT_EQ(info.task, QGNN_TASK_NODE_CLASSIFICATION);
  EXPECT_EQ(info.quantized, 0);
  EXPECT_EQ(info.num_classes, 2u);
  EXPECT_EQ(info.parameter_bytes, (7u * 4 + 4 + 7 * 4 + 4 * 2 + 2) * 4);
  EXPECT_STREQ(qgnn_model_class_name(model, 0), "");
  qgnn_model_delete(model);
}

TEST(Errors, MessageNamesLayerAndTensor) {
  ModelMaker m(true, Task::kNodeClassification, 4, 5);
  m.Gcn(5, true).Linear(3, false);
  m.desc().layers[1].name = "classifier";
  m.desc().layers[1].dense.weight_scales[1] = -2.0f;
  std::string message;
  EXPECT_EQ(LoadStatus(m.UncheckedBytes(), &message), QGNN_BAD_QUANT_PARAMS);
  EXPECT_EQ(
      message,
      "layer 1 (classifier): dense: weight tensor 2 (classifier.weight) scale[1] = -2 is not finite and > 0");
}

TEST(Errors, ModelsMayBeSharedByInterpreters) {
  ModelMaker m(true, Task::kNodeClassification, 4, 6);
  m.Gcn(5, true).Linear(3, false);
  const std::vector<uint8_t> bytes = m.Bytes();
  AlignedBuffer buffer(bytes);
  qgnn_model* model = nullptr;
  ASSERT_EQ(qgnn_model_create(buffer.data(), buffer.size(), &model, nullptr), QGNN_OK);
  std::mt19937 rng(1);
  const Graph a = RandomGraph(rng, {12}, 3, 4), b = RandomGraph(rng, {9}, 3, 4);
  const qgnn_plan_limits limits{12, 64, 1};
  size_t bytes_needed = 0;
  ASSERT_EQ(qgnn_arena_size(model, &limits, &bytes_needed, nullptr), QGNN_OK);
  std::vector<uint8_t> arena_a(bytes_needed), arena_b(bytes_needed);
  qgnn_interpreter *ia = nullptr, *ib = nullptr;
  ASSERT_EQ(qgnn_interpreter_create(model, &limits, arena_a.data(), bytes_needed, nullptr, &ia, nullptr),
            QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_create(model, &limits, arena_b.data(), bytes_needed, nullptr, &ib, nullptr),
            QGNN_OK);
  const qgnn_graph ga = a.view(false), gb = b.view(false);
  ASSERT_EQ(qgnn_interpreter_setup(ia, &ga, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_setup(ib, &gb, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_invoke(ia, nullptr), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_invoke(ib, nullptr), QGNN_OK);
  qgnn_output oa{}, ob{};
  ASSERT_EQ(qgnn_interpreter_output(ia, &oa), QGNN_OK);
  ASSERT_EQ(qgnn_interpreter_output(ib, &ob), QGNN_OK);
  const std::vector<int32_t> ea = OracleQuantized(m.desc(), a), eb = OracleQuantized(m.desc(), b);
  EXPECT_EQ(std::vector<int32_t>(oa.logits_q, oa.logits_q + oa.rows * oa.cols), ea);
  EXPECT_EQ(std::vector<int32_t>(ob.logits_q, ob.logits_q + ob.rows * ob.cols), eb);
  qgnn_interpreter_delete(ia);
  qgnn_interpreter_delete(ib);
  qgnn_model_delete(model);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
