// The header-only C++ wrapper (qgnn.hpp): RAII, move-only handles, Result/Error values.
#include "qgnn/qgnn.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "test_util.h"

namespace qgnn {
namespace test {
namespace {

static_assert(!std::is_copy_constructible<Model>::value, "Model is move-only");
static_assert(!std::is_copy_assignable<Model>::value, "Model is move-only");
static_assert(std::is_nothrow_move_constructible<Model>::value, "Model moves without throwing");
static_assert(!std::is_copy_constructible<Interpreter>::value, "Interpreter is move-only");
static_assert(std::is_nothrow_move_assignable<Interpreter>::value, "Interpreter moves without throwing");

TEST(Wrapper, RunsAModel) {
  ModelMaker maker(true, Task::kGraphClassification, 4, 9);
  maker.Sage(6, Reduce::kMean, true, true).Pool(Reduce::kMax).Linear(3, false);
  maker.ClassNames({"a", "b", "c"});
  const std::vector<uint8_t> bytes = maker.Bytes();
  AlignedBuffer buffer(bytes);

  Result<Model> model = Model::Create(buffer.data(), buffer.size());
  ASSERT_TRUE(model.ok()) << model.error().message();
  EXPECT_TRUE(model->valid());
  EXPECT_EQ(model->Info().num_classes, 3u);
  EXPECT_STREQ(model->ClassName(1), "b");

  std::mt19937 rng(2);
  const Graph graph = RandomGraph(rng, {5, 6}, 3, 4);
  const qgnn_plan_limits limits{11, 64, 2};
  Result<size_t> arena_size = model->ArenaSize(limits);
  ASSERT_TRUE(arena_size.ok()) << arena_size.error().message();
  std::vector<uint8_t> arena(*arena_size);

  Result<Interpreter> interpreter = Interpreter::Create(*model, limits, arena.data(), arena.size(), 2);
  ASSERT_TRUE(interpreter.ok()) << interpreter.error().message();
  EXPECT_FALSE(interpreter->Invoke().ok());
  EXPECT_EQ(interpreter->Invoke().status(), QGNN_NOT_READY);
  Error e = interpreter->Setup(graph.view(false));
  ASSERT_TRUE(e.ok()) << e.message();
  ASSERT_TRUE(interpreter->Invoke());
  Result<qgnn_output> out = interpreter->Output();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rows, 2u);
  const std::vector<int32_t> expected = OracleQuantized(maker.desc(), graph);
  EXPECT_EQ(std::vector<int32_t>(out->logits_q, out->logits_q + 6), expected);
  int32_t classes[2];
  EXPECT_TRUE(interpreter->Argmax(classes, 2).ok());
  float logits[6];
  EXPECT_TRUE(interpreter->OutputFloat(logits, 6).ok());
  EXPECT_EQ(interpreter->OutputFloat(logits, 5).status(), QGNN_INVALID_ARGUMENT);

  // Moves transfer ownership; the moved-from handle is empty and safe to destroy.
  Interpreter moved = std::move(*interpreter);
  EXPECT_FALSE(interpreter->valid());
  EXPECT_TRUE(moved.valid());
  EXPECT_TRUE(moved.Invoke().ok());
  Model other = std::move(*model);
  EXPECT_FALSE(model->valid());
  EXPECT_EQ(model->Info().num_classes, 0u);
  moved = Interpreter();  // deletes the interpreter
  EXPECT_FALSE(moved.valid());
  other = Model();  // deletes the model
  EXPECT_FALSE(other.valid());
}

TEST(Wrapper, ErrorsCarryStatusAndMessage) {
  const std::vector<uint8_t> bytes = [] {
    ModelMaker m(true, Task::kNodeClassification, 4, 10);
    m.Linear(3, false);
    m.desc().layers[0].output.bits = 3;
    return m.UncheckedBytes();
  }();
  AlignedBuffer buffer(bytes);
  Result<Model> model = Model::Create(buffer.data(), buffer.size());
  ASSERT_FALSE(model.ok());
  EXPECT_FALSE(static_cast<bool>(model));
  EXPECT_EQ(model.status(), QGNN_BAD_BITS);
  EXPECT_STREQ(model.error().name(), "QGNN_BAD_BITS");
  EXPECT_NE(std::string(model.error().message()).find("3 bits"), std::string::npos);
  EXPECT_FALSE(model->valid());

  Error plain(QGNN_NOT_READY);
  EXPECT_STREQ(plain.message(), "QGNN_NOT_READY");
  EXPECT_TRUE(Error().ok());

  Model empty;
  EXPECT_EQ(empty.ArenaSize(qgnn_plan_limits{1, 1, 1}).status(), QGNN_INVALID_ARGUMENT);
  std::vector<uint8_t> arena(64);
  EXPECT_EQ(Interpreter::Create(empty, qgnn_plan_limits{1, 1, 1}, arena.data(), arena.size()).status(),
            QGNN_INVALID_ARGUMENT);
  Interpreter none;
  EXPECT_EQ(none.Setup(qgnn_graph{}).status(), QGNN_INVALID_ARGUMENT);
  EXPECT_EQ(none.Output().status(), QGNN_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace test
}  // namespace qgnn
